"""`cumt-archive check [--repair]`: damage is found, reported and repaired from the WARC files."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from conftest import REPO, run_crawl, tree_bytes
from sitegen import GeneratedSite


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cumt_archive.cli", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def crawled(tmp_path, mirror_factory):
    site = GeneratedSite.two_columns(tmp_path / "site", 4)
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    result = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert result.returncode == 0, result.log
    return site, mirror, archive


def test_a_sound_archive_checks_clean(crawled):
    _, _, archive = crawled
    proc = cli("check", "--archive", str(archive))
    assert proc.returncode == 0, proc.stderr
    assert "damage none" in proc.stdout and "articles=8" in proc.stdout


def test_a_changed_post_is_found_and_rewritten(crawled):
    _, _, archive = crawled
    post = sorted((archive / "posts").glob("*.md"))[0]
    good = post.read_bytes()
    post.write_bytes(good.replace(b"\n\n", b"\n\nedited by hand\n\n", 1))
    proc = cli("check", "--archive", str(archive))
    assert proc.returncode == 1 and f"post_differs: posts/{post.name}" in proc.stderr
    assert cli("check", "--archive", str(archive), "--repair").returncode == 0
    assert post.read_bytes() == good


def test_deleted_media_are_found_and_fetched_again_by_the_next_plain_run(crawled):
    site, mirror, archive = crawled
    victim = sorted((archive / "media").rglob("*.png"))[0]
    saved = victim.read_bytes()
    victim.unlink()
    proc = cli("check", "--archive", str(archive))
    assert proc.returncode == 1 and "media_missing:" in proc.stderr
    repair = cli("check", "--archive", str(archive), "--repair")
    assert "media_to_refetch=1" in repair.stdout
    mirror.requests.clear()
    again = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert again.returncode == 0, again.log
    assert len([u for u in mirror.requests if u.endswith(".png")]) == 1
    assert victim.read_bytes() == saved
    assert cli("check", "--archive", str(archive)).returncode == 0


def _record_offsets(warc: Path) -> list[int]:
    offsets = []
    with open(warc, "rb") as handle:
        iterator = ArchiveIterator(handle)
        for record in iterator:
            offsets.append(iterator.get_record_offset())
            record.content_stream().read()  # to the record's end: the iterator then finds the next one
    return offsets


def test_a_truncated_warc_is_reported(crawled):
    _, _, archive = crawled
    warc = sorted((archive / "warc").glob("*.warc.gz"))[0]
    data = warc.read_bytes()
    # Cut inside the record that holds the file's middle (a cut between two records leaves a shorter
    # file of whole records: the index's references past its end are dropped when the archive is
    # opened, and their articles fetched again, as after a power cut).
    starts = [*_record_offsets(warc), len(data)]
    start, end = next((a, b) for a, b in zip(starts, starts[1:]) if b > len(data) // 2)
    warc.write_bytes(data[: (start + end) // 2])
    proc = cli("check", "--archive", str(archive))
    assert proc.returncode == 1
    assert f"warc: {warc.name}: unreadable" in proc.stderr or "reference:" in proc.stderr


@pytest.mark.parametrize("cut", [1, 4, 8, 12])
def test_a_warc_cut_in_its_last_records_gzip_trailer_is_reported(crawled, cut):
    """warcio reads a record whose gzip member lost its last bytes (its trailer, or the end of its deflate
    stream that only holds the record's closing CRLFs) as if nothing were amiss: check must not."""
    _, _, archive = crawled
    warc = sorted((archive / "warc").glob("*.warc.gz"))[-1]
    data = warc.read_bytes()
    warc.write_bytes(data[:-cut])
    proc = cli("check", "--archive", str(archive))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"warc: {warc.name}: unreadable" in proc.stderr


def test_a_garbage_index_is_refused_with_one_line_and_rebuilt_by_repair(crawled):
    site, mirror, archive = crawled
    posts = tree_bytes(archive, "posts")
    index = archive / "index.sqlite"
    for extra in ("index.sqlite-wal", "index.sqlite-shm"):
        (archive / extra).unlink(missing_ok=True)
    index.write_bytes(b"this is not a database" * 100)
    crawl = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert crawl.returncode == 1, crawl.log
    assert "--repair" in crawl.stderr and "Traceback" not in crawl.log
    status = cli("status", "--archive", str(archive))
    assert status.returncode != 0 and "Traceback" not in status.stderr
    repair = cli("check", "--archive", str(archive), "--repair")
    assert repair.returncode == 0, repair.stderr
    assert "index_rebuilt=1" in repair.stdout
    assert list(archive.glob("index.sqlite.damaged-*"))  # the damaged file is kept, set aside
    db = sqlite3.connect(index)
    assert db.execute("SELECT COUNT(*) FROM articles WHERE status='ok'").fetchone()[0] == 8
    db.close()
    assert tree_bytes(archive, "posts") == posts
    mirror.requests.clear()
    again = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert again.returncode == 0, again.log
    assert not [u for u in mirror.requests if "/info/" in u or "page.htm" in u]  # nothing archived is fetched again


def test_regenerate_reads_every_file_past_a_damaged_one_and_exits_non_zero(crawled):
    site, mirror, archive = crawled
    site.add("webplus", 2)
    assert run_crawl(archive, site.list_urls, mirror.proxy_url).returncode == 0  # a second WARC file
    first, second = sorted((archive / "warc").glob("*.warc.gz"))
    data = first.read_bytes()
    first.write_bytes(data[: len(data) // 2] + b"garbage" * 100)
    for post in (archive / "posts").glob("*.md"):
        post.unlink()
    proc = cli("regenerate", "--archive", str(archive), "--quiet")
    assert proc.returncode == 1
    assert first.name in proc.stderr and "damaged" in proc.stderr
    written = {p.name for p in (archive / "posts").glob("*.md")}
    assert {"xwzx-c523a600009.md", "xwzx-c523a600010.md"} <= written  # from the second, later file


def test_a_missing_warc_behind_an_article_with_missing_media_does_not_stop_the_crawl(tmp_path, mirror_factory):
    import json

    site = GeneratedSite(tmp_path / "site")
    site.add("vsb", 3)
    story = site.of("vsb")[0]
    routes = site.root / "news.cumt.edu.cn" / "_routes.json"
    routes.write_text(json.dumps({story.image_path: {"always_status": 500}}))
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    assert run_crawl(archive, site.list_urls, mirror.proxy_url).returncode == 0
    routes.unlink()
    shutil.rmtree(archive / "warc")
    mirror.requests.clear()
    again = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert again.returncode == 0, again.log
    assert story.url in mirror.requests  # its capture is gone: the page is fetched again, then its image
    assert f"http://news.cumt.edu.cn{story.image_path}" in mirror.requests


@pytest.mark.parametrize("fraction", [0.2, 0.35, 0.5, 0.65, 0.8, 0.97, 0.999])
@pytest.mark.parametrize("garbage", [b"", b"garbage" * 100])
def test_reading_a_damaged_warc_always_says_so(tmp_path, fraction, garbage):
    from warcio.exceptions import ArchiveLoadFailed

    from cumt_archive.model import RawPage
    from cumt_archive.store.warc import WarcCapture, iter_pages

    capture = WarcCapture(tmp_path)
    for n in range(12):
        capture.write(RawPage(url=f"http://xwzx.cumt.edu.cn/{n}/page.htm", body=f"<p>第{n}页</p>".encode() * 50,
                              headers={"Content-Type": "text/html"}))
    capture.close()
    path = next(tmp_path.glob("*.warc.gz"))
    assert len(list(iter_pages(path))) == 12
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)] + garbage)
    with pytest.raises(ArchiveLoadFailed):
        list(iter_pages(path))


def test_status_shows_the_damage_the_last_check_found(crawled):
    import json

    _, _, archive = crawled
    post = sorted((archive / "posts").glob("*.md"))[0]
    post.write_bytes(post.read_bytes() + b"\nedited\n")
    assert cli("check", "--archive", str(archive)).returncode == 1
    status = cli("status", "--archive", str(archive))
    assert "damage found by the last check" in status.stdout and f"posts/{post.name}" in status.stdout
    assert json.loads(cli("status", "--archive", str(archive), "--json").stdout)["damage"][0]["url"] == \
        f"posts/{post.name}"
    assert cli("check", "--archive", str(archive), "--repair").returncode == 0
    assert "damage found" not in cli("status", "--archive", str(archive)).stdout
