from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from cumt_archive.mirror import MirrorServer

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass
class CrawlResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def log(self) -> str:
        return self.stdout + self.stderr


def crawl_command(archive: Path, lists: list[str], *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "scrapy", "crawl", "cumt",
        *(["-a", "lists=" + ",".join(lists)] if lists else []),
        "-s", f"ARCHIVE_DIR={archive}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "LOG_LEVEL=INFO", *extra,
    ]


def crawl_env(proxy: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "no_proxy")}
    env.update({"http_proxy": proxy, "https_proxy": proxy})
    return env


def run_crawl(archive: Path, lists: list[str], proxy: str, *extra: str, timeout: int = 180,
              cwd: Path | None = None, env: dict[str, str] | None = None) -> CrawlResult:
    """`scrapy crawl cumt` as an operator runs it: a real process, the real engine, through the mirror proxy.

    From another working directory than the repository (`cwd`), the project is found through
    SCRAPY_SETTINGS_MODULE, as a cron job outside the clone would set it.
    """
    full_env = crawl_env(proxy)
    if cwd is not None:
        full_env["SCRAPY_SETTINGS_MODULE"] = "cumt_archive.crawl.settings"
    full_env.update(env or {})
    proc = subprocess.run(crawl_command(archive, lists, *extra), cwd=cwd or REPO, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    return CrawlResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def mirror_factory():
    servers: list[MirrorServer] = []

    def start(root: Path) -> MirrorServer:
        server = MirrorServer(root)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def tree_bytes(root: Path, *folders: str) -> dict[str, bytes]:
    """Every file below the given folders of an archive, by relative path."""
    out = {}
    for folder in folders:
        base = root / folder
        if base.exists():
            for path in sorted(base.rglob("*")):
                if path.is_file():
                    out[str(path.relative_to(root))] = path.read_bytes()
    return out


@pytest.fixture(scope="session")
def crawled_fixture_site(tmp_path_factory) -> Path:
    """The bundled fixture site (tests/fixtures/site) crawled once by the real spider, for the tests that
    only read the archive it makes (WARC capture, pywb, WACZ, ReplayWeb.page). Copy it before changing it."""
    import json

    site = FIXTURES / "site"
    lists = json.loads((site / "EXPECTED.json").read_text(encoding="utf-8"))["lists"]
    archive = tmp_path_factory.mktemp("fixture-site") / "archive"
    with MirrorServer(site) as mirror:
        result = run_crawl(archive, lists, mirror.proxy_url)
    assert result.returncode == 0, result.log
    return archive
