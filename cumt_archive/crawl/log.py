"""The crawl's log, written for an operator who reads it in a cron mail.

Scrapy installs no root handler of its own (`LOG_INSTALL_ROOT_HANDLER = False` in settings); this
module installs one from the same settings (LOG_FILE, LOG_FILE_APPEND, LOG_ENCODING, LOG_LEVEL,
LOG_FORMAT, LOG_DATEFORMAT, LOG_ENABLED) before Scrapy starts, with one difference: below DEBUG,
Scrapy's own INFO lines (version banner, middleware lists, overridden settings, the stats dump,
"Spider closed") are left out, so the default log holds the project's lines plus Scrapy's warnings
and errors. At LOG_LEVEL=DEBUG everything is written, as Scrapy would.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

# Scrapy's own records that say nothing an operator can act on at INFO and above. "Gave up
# retrying" repeats what the request's errback (our own line, with the column or story) says.
_SCRAPY_PREFIXES = ("scrapy.", "py.warnings")
_REDUNDANT = ("Gave up retrying",)
# Scrapy's INFO lines an operator does want: a signal received (Ctrl-C, a kill from cron's timeout).
_WANTED = ("Received SIG", "Received %(signame)s")

_installed: logging.Handler | None = None


class OperatorFilter(logging.Filter):
    """Keep the project's lines, and Scrapy's only from WARNING up (minus lines our own repeat)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return keep_record(record.name, record.levelno, record.msg if isinstance(record.msg, str) else "")


def keep_record(name: str, level: int, message: str) -> bool:
    """The decision, pure: is this record for the operator's log at INFO level?"""
    if not (name == "scrapy" or name.startswith(_SCRAPY_PREFIXES)):
        return True
    if level < logging.WARNING:
        return message.startswith(_WANTED)
    return not message.startswith(_REDUNDANT)


def install(settings: Any) -> logging.Handler:
    """The root handler for this process, from Scrapy's LOG_* settings; replaces an earlier one."""
    global _installed  # noqa: PLW0603 - one handler per process, as Scrapy's own
    if _installed is not None:
        logging.root.removeHandler(_installed)
        _installed.close()
    filename = settings.get("LOG_FILE")
    handler: logging.Handler
    if filename:
        mode = "a" if settings.getbool("LOG_FILE_APPEND") else "w"
        handler = logging.FileHandler(filename, mode=mode, encoding=settings.get("LOG_ENCODING") or "utf-8")
    elif settings.getbool("LOG_ENABLED"):
        handler = logging.StreamHandler(sys.stderr)
    else:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter(settings.get("LOG_FORMAT"), settings.get("LOG_DATEFORMAT")))
    level = logging.getLevelName(str(settings.get("LOG_LEVEL") or "INFO").upper())
    handler.setLevel(level if isinstance(level, int) else logging.INFO)
    if handler.level > logging.DEBUG:
        handler.addFilter(OperatorFilter())
    # The root logger at the handler's level, not Scrapy's NOTSET: below it, a record is never made. At
    # INFO that spares the reactor thread a record for every response, file and item Scrapy logs at DEBUG.
    logging.root.setLevel(handler.level)
    logging.root.addHandler(handler)
    _installed = handler
    return handler
