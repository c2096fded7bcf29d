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

EXIT_BUSY = 3


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError
        assert self.crawler_process and self.settings is not None
        crawler = self._create_crawler(args[0])
        spidercls = crawler.spidercls
        from cumt_archive.crawl.run import archive_busy_message, validate_settings

        validate = getattr(spidercls, "validate_arguments", None)
        try:
            validate_settings(self.settings)
            if validate is not None:
                validate(opts.spargs, self.settings)
        except ValueError as exc:
            raise UsageError(str(exc), print_help=False) from exc

        busy = archive_busy_message(self.settings)
        if busy:
            print(f"cumt-archive: {busy}", file=sys.stderr)
            self.exitcode = EXIT_BUSY
            return
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = getattr(crawler, "cumt_exit_status", 1) or 1
        else:
            self.exitcode = getattr(crawler, "cumt_exit_status", 0)
