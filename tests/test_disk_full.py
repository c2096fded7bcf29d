"""Disk full: the run stops with one clear line and exit 1, keeps nothing half-written, and the next run
with space completes the work. The archive lives on a small tmpfs that the test mounts (and always unmounts)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from scrapy import Request, Spider
from scrapy.http import Response
from scrapy.pipelines.media import FileException, MediaPipeline
from scrapy.utils.test import get_crawler

from cumt_archive.crawl.pipelines import OriginalMediaPipeline

from conftest import run_crawl
from sitegen import GeneratedSite


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir(parents=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_disk_full_exits_non_zero_and_the_next_run_completes(tmp_path, mirror_factory):
    site = GeneratedSite(tmp_path / "site")
    site.add("webplus", 40)
    site.add("vsb", 40)
    mirror = mirror_factory(site.root)
    with small_tmpfs(tmp_path / "small", "400k") as disk:
        archive = disk / "archive"
        full = run_crawl(archive, site.list_urls, mirror.proxy_url)
        assert full.returncode == 1, full.log
        assert "No space left on device" in full.log or "disk is full" in full.log
        assert "Traceback" not in full.log
        lines = [line for line in full.log.splitlines() if line.strip()]
        summary = [line for line in lines if "exit status 1" in line]
        assert summary and "archive not writable" in summary[-1]
        written = len(list((archive / "posts").glob("*.md")))
        assert written < 80
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        again = run_crawl(archive, site.list_urls, mirror.proxy_url)
        assert again.returncode == 0, again.log
        assert len(list((archive / "posts").glob("*.md"))) == 80
        leftovers = [p for p in archive.rglob("*") if ".tmp-" in p.name or p.name.endswith(".open")]
        assert leftovers == []
        for post in (archive / "posts").glob("*.md"):
            assert post.read_text(encoding="utf-8").rstrip().endswith(")")  # whole files only: the source link


def test_a_media_file_that_cannot_be_written_stops_the_run_in_one_line(tmp_path, caplog):
    """FilesPipeline (Scrapy 2.19) writes a file when the awaitable its file_downloaded gives is awaited:
    the write's OSError must reach our handler (which stops the run with its one line), not FilesPipeline's,
    which logs it with a traceback. Which write meets a full disk first is a matter of timing in the
    crawl above; here a media write fails every time (a file stands where its folder must be)."""
    crawler = get_crawler(Spider)
    pipeline = OriginalMediaPipeline(str(tmp_path / "media"), crawler=crawler)
    failed: list[tuple[type, str]] = []

    class Run:
        def storage_failed(self, exc: BaseException, what: str) -> None:
            failed.append((type(exc), what))

    pipeline.run = Run()  # type: ignore[attr-defined]
    url = "http://xwzx.cumt.edu.cn/_upload/article/images/a.jpg"
    request = Request(url, meta={"media_name": ""})
    response = Response(url, status=200, body=b"\xff\xd8 the image's bytes", request=request)
    folder = (tmp_path / "media" / pipeline.file_path(request)).parent
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("a file where the image's folder must be")
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(FileException, match="cannot write media"):
            asyncio.run(pipeline.media_downloaded(response, request, MediaPipeline.SpiderInfo(Spider("x"))))
    assert len(failed) == 1 and issubclass(failed[0][0], OSError) and url in failed[0][1]
    assert [record.getMessage() for record in caplog.records if record.exc_info] == []
    assert not list((tmp_path / "media").rglob("*.jpg"))
