"""`cumt-archive`: the offline commands (regenerate, status). Crawling is `scrapy crawl cumt`.

None of these commands starts Scrapy or touches the network. Exit status: 0 all went well; 1 some
pages could not be written or read; 2 bad arguments or an archive that cannot be written (nothing
is touched); 3 another run holds the archive.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
import time
from pathlib import Path

# Only what parsing the arguments needs is loaded here; each command loads the rest (extraction,
# the archive) once the arguments are read, so regenerate can start its workers' fork server first.
from .model import LAYOUTS, MEDIA_LINKS
from .store.files import ArchiveLayout
from .store.lock import ArchiveBusy
from .workers import JobsError, check_jobs, start_fork_server

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3
# What regenerate's workers load: the module of their function and regenerate.WORKER_PRELOAD, named here
# because this module must not load regenerate before the fork server starts (test_workers checks both agree).
REGENERATE_WORKERS_LOAD = ("cumt_archive.regenerate", "surt")


class UsageProblem(ValueError):
    """Arguments that cannot work (checked before anything is created); exit status 2."""


class _PrintVersion(argparse.Action):
    """--version, computed only when asked (it imports Scrapy, which every other command can do without)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        from .version import version_text

        print(version_text())
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cumt-archive", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=_PrintVersion, nargs=0, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="what to do")
    regen = sub.add_parser("regenerate", help="rebuild every Markdown file from saved pages, offline",
                           description="Rebuild every Markdown file from saved pages, offline.")
    regen.add_argument("--archive", required=True, type=Path, metavar="DIR",
                       help="the archive directory (the crawl's ARCHIVE_DIR)")
    regen.add_argument("--from-html", type=Path, metavar="SRC",
                       help="read a wget -x tree of saved pages (SRC/host/path) instead of the archive's WARC files; "
                            "the pages are added to the archive's WARC")
    regen.add_argument("--profile", help="site profile name or YAML path (default: the archive's own)")
    regen.add_argument("--layout", choices=LAYOUTS,
                       help="Markdown layout; the archive remembers it (default: the archive's own, else seed)")
    regen.add_argument("--media-links", choices=MEDIA_LINKS,
                       help="link media to their original URLs or to the archive's copies; the archive remembers "
                            "it (default: the archive's own, else original)")
    regen.add_argument("--quiet", action="store_true", help="no progress display")
    regen.add_argument("--jobs", "-j", type=int, default=0, metavar="N",
                       help="worker processes that parse and extract pages (default 0: one per core); "
                            "the output is the same for any N")
    status = sub.add_parser("status", help="print the archive's state from its index (read-only)",
                            description="Print the archive's state from its index. Never writes; works on a "
                                        "read-only archive and while a crawl runs.")
    status.add_argument("--archive", required=True, type=Path, metavar="DIR",
                        help="the archive directory (the crawl's ARCHIVE_DIR)")
    status.add_argument("--json", action="store_true", help="machine-readable output (nested JSON)")
    check = sub.add_parser("check", help="verify the archive against its WARC files; --repair fixes what it can")
    check.add_argument("--archive", required=True, type=Path, metavar="DIR",
                       help="the archive directory (the crawl's ARCHIVE_DIR)")
    check.add_argument("--repair", action="store_true",
                       help="rebuild a lost or damaged index from the WARC files, rewrite posts that differ, "
                            "and mark missing media and unreadable captures for the next crawl to fetch")
    check.add_argument("--profile", help="site profile name or YAML path (default: the one the archive uses)")
    export = sub.add_parser("export", help="write the archive as a WACZ package (WARC files, CDXJ, pages)")
    export.add_argument("--archive", required=True, type=Path, metavar="DIR",
                        help="the archive directory (the crawl's ARCHIVE_DIR)")
    export.add_argument("--wacz", required=True, type=Path, metavar="FILE", help="the .wacz file to write")
    return parser


def _settings_for(args: argparse.Namespace, remembered: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The output settings of this run: a flag wins and is remembered, else the archive's own, else defaults."""
    from .status import REMEMBERED

    given = {"profile": args.profile, "render.layout": args.layout, "render.media_links": args.media_links}
    defaults = {"profile": "cumt", "render.layout": "seed", "render.media_links": "original"}
    chosen, changes = {}, []
    for key, value in given.items():
        before = remembered.get(key)
        chosen[key] = value or before or defaults[key]
        if value and before and value != before:
            changes.append(f"{REMEMBERED[key]}: {before} -> {value} (the archive remembers it for later runs)")
    return chosen, changes


def _regenerate(args: argparse.Namespace) -> int:
    layout = ArchiveLayout(args.archive)
    # Everything that can be refused is refused before the archive is created or touched.
    jobs = check_jobs(args.jobs)
    from .archive import Archive
    from .collector import settle_collector
    from .preflight import archive_write_problem
    from .profile import load_profile
    from .progress import Progress, rate_text
    from .regenerate import check_source, from_html, from_warc
    from .status import remembered_settings
    from .store.cdxj import update_cdxj

    if args.from_html is not None:
        check_source(args.from_html)
    elif not layout.index.is_file():
        raise UsageProblem(f"{args.archive}: no archive here (no {layout.index.name})")
    unwritable = archive_write_problem(args.archive)
    if unwritable:
        raise UsageProblem(unwritable)
    chosen, changes = _settings_for(args, remembered_settings(args.archive))
    profile = load_profile(chosen["profile"])
    archive = Archive(args.archive, profile, chosen["render.layout"], chosen["render.media_links"])
    archive.open()
    assert archive.index is not None
    for change in changes:
        print(f"regenerate {args.archive}: {change}", file=sys.stderr)
    for key, value in chosen.items():
        archive.index.set_meta(key, value)
    run_id = archive.index.start_run("regenerate", {k: str(v) for k, v in vars(args).items() if v})
    progress = None if args.quiet else Progress("regenerate")
    settle_collector()
    started = time.monotonic()
    try:
        if args.from_html is not None:
            report = from_html(archive, args.from_html, progress, jobs)
            update_cdxj(archive.layout.root)  # the imported pages replay like crawled ones
        else:
            report = from_warc(archive, progress, jobs)
        status = EXIT_FAILED if report.counts.get("errors") else EXIT_OK
        archive.index.finish_run(run_id, status, dict(report.counts))
    finally:
        if progress is not None:
            progress.close()
        archive.close()
    for problem in report.problems:
        print(f"cumt-archive: {problem}", file=sys.stderr)
    elapsed = time.monotonic() - started
    print(f"regenerate {args.archive}: {report.summary()}; {rate_text(report.counts['pages'], elapsed)}; "
          f"exit status {status}")
    return status


def _check(args: argparse.Namespace) -> int:
    from .archive import Archive
    from .check import CheckReport, check_archive, index_health, rebuild_index, set_aside_damaged_index
    from .profile import load_profile
    from .store.index import ArchiveIndex
    from .store.lock import ArchiveLock

    layout = ArchiveLayout(args.archive)
    if not layout.root.is_dir() or not (layout.index.exists() or layout.warc.is_dir()):
        print(f"cumt-archive: {args.archive}: no archive here", file=sys.stderr)
        return EXIT_USAGE
    health = index_health(layout.index)
    if health is not None and not args.repair:
        print(f"cumt-archive: {layout.index}: index {health}; `cumt-archive check --archive {args.archive} "
              f"--repair` rebuilds it from the WARC files", file=sys.stderr)
        return EXIT_FAILED
    lock = ArchiveLock(layout.lock)
    lock.acquire()  # before touching anything; Archive.open takes it again
    try:
        profile_name = args.profile
        if health is None and profile_name is None:
            index = ArchiveIndex(layout.index)
            profile_name = index.get_meta("profile")
            index.close()
        report = CheckReport()
        if health is not None:
            aside = set_aside_damaged_index(layout.index)
            print(f"cumt-archive: index {health}; set aside as {aside.name if aside else '-'}, rebuilding it "
                  "from the WARC files", file=sys.stderr)
        archive = Archive(args.archive, load_profile(profile_name))
        archive.open()
        try:
            assert archive.index is not None
            run_id = archive.index.start_run("check", {"repair": True} if args.repair else {})
            if health is not None:
                rebuild_index(archive, report)
            found = check_archive(archive, repair=args.repair)
            if args.repair:  # what is left after the repair is what the exit status reports
                repaired = found.repaired + report.repaired
                found = check_archive(archive)
                found.repaired = repaired
            status = EXIT_OK if found.ok else EXIT_FAILED
            archive.index.replace_damage([(f.damage.value, f.where, f.detail) for f in found.findings])
            archive.index.finish_run(run_id, status, {"damage": len(found.findings)})
        finally:
            archive.close()
    finally:
        lock.release()
    for finding in found.findings[:100]:
        print(f"cumt-archive: {finding}", file=sys.stderr)
    if len(found.findings) > 100:
        print(f"cumt-archive: ... and {len(found.findings) - 100} more", file=sys.stderr)
    print(f"check {args.archive}: {found.summary()}")
    return status


def _status(args: argparse.Namespace) -> int:
    from .status import format_table, read_status

    status = read_status(args.archive)
    print(status.to_json() if args.json else format_table(status))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    if args.command == "regenerate" and args.jobs >= 0 and check_jobs(args.jobs) > 1:
        # Before this process loads extraction: the workers' fork server loads it at the same time.
        start_fork_server(REGENERATE_WORKERS_LOAD)
    from .archive import ArchiveError, IndexDamaged
    from .profile import ProfileError
    from .regenerate import SourceError
    from .status import IndexUnreadable, StatusError

    try:
        if args.command == "regenerate":
            return _regenerate(args)
        if args.command == "check":
            return _check(args)
        if args.command == "export":
            from .export_wacz import export_command  # only export needs the wacz tool loaded

            return export_command(args.archive, args.wacz)
        return _status(args)
    except ArchiveBusy as exc:
        print(f"cumt-archive: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except (IndexUnreadable, IndexDamaged) as exc:  # a damaged archive, not a usage error
        print(f"cumt-archive: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except sqlite3.DatabaseError as exc:
        print(f"cumt-archive: {IndexDamaged(args.archive / 'index.sqlite', exc)}", file=sys.stderr)
        return EXIT_FAILED
    except (UsageProblem, SourceError, StatusError, ProfileError, ArchiveError, JobsError) as exc:
        print(f"cumt-archive: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # disk full, an I/O error: one line naming the file, never a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"cumt-archive: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
