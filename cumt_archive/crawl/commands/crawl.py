"""`scrapy crawl`, with the archive run's outcome as the exit status.

0: all went well; 1: some stories failed (they are retried next run) or the
crawl could not start; 2: bad arguments (Scrapy's usage error); 3: another
run holds the archive.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

EXIT_USAGE, EXIT_BUSY = 2, 3


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError
        assert self.crawler_process and self.settings is not None
        crawler = self._create_crawler(args[0])
        spidercls = crawler.spidercls
        from cumt_archive.crawl.run import hold_archive, validate_settings
        from cumt_archive.archive import ArchiveError
        from cumt_archive.store.lock import ArchiveBusy

        validate = getattr(spidercls, "validate_arguments", None)
        try:
            validate_settings(self.settings)
            if validate is not None:
                validate(opts.spargs, self.settings)
        except ValueError as exc:
            raise UsageError(str(exc), print_help=False) from exc

        # Hold the archive from here to the end: a second run refuses at once with one line.
        try:
            lock = hold_archive(self.settings)
        except ArchiveBusy as exc:
            print(f"cumt-archive: {exc}", file=sys.stderr)
            self.exitcode = EXIT_BUSY
            return
        except ArchiveError as exc:
            print(f"cumt-archive: {exc}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        except OSError as exc:
            print(f"cumt-archive: ARCHIVE_DIR={self.settings.get('ARCHIVE_DIR')}: cannot write the archive: "
                  f"{exc.strerror or exc}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        try:
            self.crawler_process.crawl(crawler, **opts.spargs)
            self.crawler_process.start()
        finally:
            lock.release()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = getattr(crawler, "cumt_exit_status", 1) or 1
        else:
            self.exitcode = getattr(crawler, "cumt_exit_status", 0)
