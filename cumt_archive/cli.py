"""`cumt-archive`: the offline commands (regenerate, status). Crawling is `scrapy crawl cumt`.

None of these commands starts Scrapy or touches the network.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .archive import Archive, ArchiveError
from .profile import ProfileError, load_profile
from .regenerate import from_html, from_warc, print_progress
from .render import LAYOUTS, MEDIA_LINKS
from .store.files import ArchiveLayout
from .store.index import ArchiveIndex
from .store.lock import ArchiveBusy
from .workers import JobsError, check_jobs

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cumt-archive", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    regen = sub.add_parser("regenerate", help="rebuild every Markdown file from saved pages, offline")
    regen.add_argument("--archive", required=True, type=Path, help="the archive directory (ARCHIVE_DIR)")
    regen.add_argument("--from-html", type=Path, metavar="SRC",
                       help="read a wget -x tree of saved pages (host/path) instead of the archive's WARC files")
    regen.add_argument("--profile", help="site profile name or YAML path (default: the one the archive was crawled with)")
    regen.add_argument("--layout", choices=LAYOUTS, help="Markdown layout (default: the archive's own)")
    regen.add_argument("--media-links", choices=MEDIA_LINKS, help="media link mode (default: the archive's own)")
    regen.add_argument("--quiet", action="store_true", help="no progress line")
    regen.add_argument("--jobs", "-j", type=int, default=0, metavar="N",
                       help="worker processes that parse and extract pages (default 0: one per core); "
                            "the output is the same for any N")
    status = sub.add_parser("status", help="print the archive's state from its index")
    status.add_argument("--archive", required=True, type=Path)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def _regenerate(args: argparse.Namespace) -> int:
    layout = ArchiveLayout(args.archive)
    settings: dict[str, str | None] = {"profile": None, "render.layout": None, "render.media_links": None}
    if layout.index.exists():
        index = ArchiveIndex(layout.index)
        settings = {k: index.get_meta(k) for k in settings}
        index.close()
    elif args.from_html is None:
        print(f"cumt-archive: {args.archive}: no archive here (no {layout.index.name})", file=sys.stderr)
        return EXIT_USAGE
    jobs = check_jobs(args.jobs)
    profile = load_profile(args.profile or settings["profile"])
    archive = Archive(args.archive, profile, args.layout or settings["render.layout"] or "seed",
                      args.media_links or settings["render.media_links"] or "original")
    archive.open()
    assert archive.index is not None
    run_id = archive.index.start_run("regenerate", {k: str(v) for k, v in vars(args).items() if v})
    progress = None if args.quiet else print_progress
    try:
        if args.from_html is not None:
            report = from_html(archive, args.from_html, progress, jobs)
        else:
            report = from_warc(archive, progress, jobs)
        status = EXIT_FAILED if report.counts.get("errors") else EXIT_OK
        archive.index.finish_run(run_id, status, dict(report.counts))
    finally:
        archive.close()
    for problem in report.problems:
        print(f"cumt-archive: {problem}", file=sys.stderr)
    print(f"regenerate {args.archive}: {report.summary()}")
    return status


def _status(args: argparse.Namespace) -> int:
    layout = ArchiveLayout(args.archive)
    if not layout.index.exists():
        print(f"cumt-archive: {args.archive}: no archive here (no {layout.index.name})", file=sys.stderr)
        return EXIT_USAGE
    index = ArchiveIndex(layout.index)
    try:
        counts = index.status_counts()
        runs = index.runs(5)
        failed = list(index.articles("failed"))
    finally:
        index.close()
    posts = len(list(layout.posts.glob("*.md"))) if layout.posts.exists() else 0
    media = sum(1 for p in layout.media.rglob("*") if p.is_file()) if layout.media.exists() else 0
    warcs = len(list(layout.warc.glob("*.warc.gz"))) if layout.warc.exists() else 0
    if args.json:
        print(json.dumps({"articles": counts, "posts": posts, "media": media, "warc_files": warcs,
                          "failed": [{"url": r.url, "reason": r.reason} for r in failed],
                          "runs": [dict(zip(("id", "kind", "started", "finished", "exit_status", "counts"), r))
                                   for r in runs]}, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"archive {layout.root.resolve()}")
    print(f"  articles: {counts.get('ok', 0)} archived, {counts.get('failed', 0)} failed (retried next run), "
          f"{counts.get('not_article', 0)} not articles, {counts.get('gone', 0)} gone")
    print(f"  files: {posts} Markdown, {media} media, {warcs} WARC")
    print("  last runs:")
    for run_id, kind, started, finished, exit_status, run_counts in runs:
        state = f"exit {exit_status}" if finished else "did not finish"
        print(f"    #{run_id} {kind} {started} {state} {run_counts or ''}")
    for row in failed[:20]:
        print(f"  failed: {row.url} ({row.reason})")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    try:
        if args.command == "regenerate":
            return _regenerate(args)
        return _status(args)
    except ArchiveBusy as exc:
        print(f"cumt-archive: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except (ProfileError, ArchiveError, NotADirectoryError, JobsError) as exc:
        print(f"cumt-archive: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
