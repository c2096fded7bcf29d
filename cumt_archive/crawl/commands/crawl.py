"""`scrapy crawl`, with the archive run's outcome as the exit status and an operator's log.

0: all went well; 1: some stories failed (they are retried next run) or the
crawl could not start; 2: bad arguments or an archive that cannot be written
(nothing is touched); 3: another run holds the archive.

The run's summary is logged here, after the engine has stopped, so that it is
the last line of the output and of LOG_FILE whatever Scrapy logs while closing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from cumt_archive.collector import settle_collector
from cumt_archive.crawl import log as operator_log
from cumt_archive.progress import rate_text
from cumt_archive.store.files import ArchiveLayout
from cumt_archive.store.lock import ArchiveBusy

EXIT_USAGE, EXIT_BUSY = 2, 3
logger = logging.getLogger("cumt_archive.crawl.run")


class Command(ScrapyCrawl):
    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--version", action="store_true", help="print cumt-archive's version and exit")

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        if getattr(opts, "version", False):
            from cumt_archive.version import version_text

            print(version_text())
            sys.exit(0)
        super().process_options(args, opts)
        assert self.settings is not None
        # Before Scrapy's CrawlerProcess exists, so that its start-up banner obeys the operator filter.
        operator_log.install(self.settings)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError
        assert self.crawler_process and self.settings is not None
        crawler = self._create_crawler(args[0])
        spidercls = crawler.spidercls
        from cumt_archive.archive import ArchiveError, IndexDamaged
        from cumt_archive.crawl.run import hold_archive, validate_settings
        from cumt_archive.preflight import archive_write_problem

        validate = getattr(spidercls, "validate_arguments", None)
        try:
            validate_settings(self.settings)
            if validate is not None:
                validate(opts.spargs, self.settings)
        except ValueError as exc:
            # One line, like every other refusal; Scrapy's usage text says nothing about -a or -s.
            print(f"cumt-archive: {exc}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return

        root = Path(self.settings.get("ARCHIVE_DIR"))
        unwritable = archive_write_problem(root)
        if unwritable is None:
            try:
                ArchiveLayout(root).create()
            except OSError as exc:
                unwritable = f"{root}: cannot create the archive: {exc.strerror or exc}"
        if unwritable:
            print(f"cumt-archive: {unwritable}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        # Hold the archive from here to the end, so a second run refuses at once with one line, even one
        # started in the same instant (the run takes the lock again inside: it is held per process).
        try:
            lock = hold_archive(self.settings)
        except ArchiveBusy as exc:
            print(f"cumt-archive: {exc}", file=sys.stderr)
            self.exitcode = EXIT_BUSY
            return
        except IndexDamaged as exc:  # damage, not a usage error: `check --repair` mends it
            print(f"cumt-archive: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        except (ArchiveError, OSError) as exc:
            print(f"cumt-archive: {exc}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        started = time.monotonic()
        startup_errors: list[BaseException] = []
        settle_collector()
        try:
            run = self.crawler_process.crawl(crawler, **opts.spargs)
            if isinstance(run, asyncio.Future):
                # A crawl that cannot start (an index that cannot be opened) is one line, not asyncio's
                # "exception never retrieved".
                run.add_done_callback(lambda task: startup_errors.extend(
                    [error] if not task.cancelled() and (error := task.exception()) is not None else []))
            self.crawler_process.start()
        finally:
            lock.release()
        if startup_errors:
            error = startup_errors[0]
            print(f"cumt-archive: {error}" if isinstance(error, (ArchiveBusy, OSError, ValueError))
                  else f"cumt-archive: {root}: the crawl could not start: {type(error).__name__}: {error}",
                  file=sys.stderr)
            self.exitcode = EXIT_BUSY if isinstance(error, ArchiveBusy) else 1
            return
        if self.crawler_process.bootstrap_failed:
            self.exitcode = getattr(crawler, "cumt_exit_status", 1) or 1
        else:
            self.exitcode = getattr(crawler, "cumt_exit_status", 0)
        summary = getattr(crawler, "cumt_summary", None)
        if summary:
            pages = int(crawler.stats.get_value("response_received_count", 0)) if crawler.stats else 0
            log = logger.info if self.exitcode == 0 else logger.error
            log("%s; %s; exit status %d", summary, rate_text(pages, time.monotonic() - started), self.exitcode)
