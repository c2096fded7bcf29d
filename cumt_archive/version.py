"""The installed version, for `--version` of both commands."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def version_text() -> str:
    import scrapy

    try:
        own = version("cumt-archive")
    except PackageNotFoundError:  # run from a source tree that was never installed
        own = "unknown"
    return f"cumt-archive {own} (Scrapy {scrapy.__version__})"
