"""`cumt-archive regenerate --from-html`: a wget -x tree of saved pages -> the archive, offline."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import yaml

from cumt_archive.urls import urlname
from conftest import FIXTURES, REPO

SITE = FIXTURES / "site"


def regenerate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cumt_archive.cli", "regenerate", *args],
                          capture_output=True, text=True, timeout=120)


def test_saved_site_gives_its_articles_and_nothing_for_lists(tmp_path):
    expected = json.loads((SITE / "EXPECTED.json").read_text(encoding="utf-8"))
    archive = tmp_path / "archive"
    proc = regenerate("--from-html", str(SITE), "--archive", str(archive))
    assert proc.returncode == 0, proc.stderr
    posts = {yaml.safe_load(p.read_text(encoding="utf-8").split("---\n")[1])["urlname"]: p
             for p in (archive / "posts").glob("*.md")}
    assert set(posts) == {urlname(u) for u in expected["articles"]}
    assert (archive / "posts" / "xwzx-c523a537506.md").read_bytes() == \
        (FIXTURES / "pages" / "seed-xwzx" / "expected.md").read_bytes()
    assert f"articles={len(expected['articles'])}" in proc.stdout
    assert "media_copied=" in proc.stdout and "media_copied=0" not in proc.stdout
    # media found in the tree were copied in with their bytes
    copied = [p for p in (archive / "media").rglob("*") if p.is_file()]
    assert copied and all(p.stat().st_size > 0 for p in copied)
    # and the pages now live in the archive's WARC: a later offline regenerate gives the same bytes
    before = {p.name: p.read_bytes() for p in (archive / "posts").glob("*.md")}
    for p in (archive / "posts").glob("*.md"):
        p.unlink()
    again = regenerate("--archive", str(archive))
    assert again.returncode == 0, again.stderr
    assert {p.name: p.read_bytes() for p in (archive / "posts").glob("*.md")} == before


def test_loose_saved_pages_still_give_articles(tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir()
    for case in ("wp-arti-basic", "vsb-t1", "wp-faculty-profile"):
        shutil.copy(FIXTURES / "pages" / case / "body.html", loose / f"{case}.html")
    shutil.copy(FIXTURES / "lists" / "wp-xwzx-classic" / "body.html", loose / "list.html")
    archive = tmp_path / "archive"
    proc = regenerate("--from-html", str(loose), "--archive", str(archive))
    assert proc.returncode == 0, proc.stderr
    assert len(list((archive / "posts").glob("*.md"))) == 3
    assert "lists=1 not_articles=0" in proc.stdout  # a list page is a list, as in the crawl's summary


def test_missing_source_is_a_clear_error(tmp_path):
    proc = regenerate("--from-html", str(tmp_path / "nope"), "--archive", str(tmp_path / "a"))
    assert proc.returncode == 2 and "nope" in proc.stderr


def test_imported_pages_are_in_the_cdxj_index(tmp_path):
    import subprocess
    import sys

    from conftest import FIXTURES, REPO

    archive = tmp_path / "archive"
    proc = subprocess.run([sys.executable, "-m", "cumt_archive.cli", "regenerate", "--from-html",
                           str(FIXTURES / "site"), "--archive", str(archive), "--quiet"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    index = (archive / "indexes" / "index.cdxj").read_text(encoding="utf-8")
    assert "cn,edu,cumt,xwzx)/33/a2/c523a537506/page.htm" in index


def test_media_of_an_imported_tree_go_into_the_warc_and_come_back_from_it(tmp_path):
    import shutil
    import subprocess
    import sys

    from conftest import FIXTURES, REPO, tree_bytes

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cumt_archive.cli", *args, "--quiet"], cwd=REPO,
                              capture_output=True, text=True, timeout=120)

    archive = tmp_path / "archive"
    assert cli("regenerate", "--from-html", str(FIXTURES / "site"), "--archive", str(archive)).returncode == 0
    before = tree_bytes(archive, "posts", "media")
    assert any(name.startswith("media/") for name in before)
    shutil.rmtree(archive / "posts")
    shutil.rmtree(archive / "media")
    again = cli("regenerate", "--archive", str(archive))
    assert again.returncode == 0, again.stderr
    assert tree_bytes(archive, "posts", "media") == before
    # Importing the same tree again stores no media twice.
    warc_bytes = sum(p.stat().st_size for p in (archive / "warc").glob("*.warc.gz"))
    assert cli("regenerate", "--from-html", str(FIXTURES / "site"), "--archive", str(archive)).returncode == 0
    assert sum(p.stat().st_size for p in (archive / "warc").glob("*.warc.gz")) == warc_bytes


def test_cdxj_lines_written_with_the_import_are_those_cdxj_indexer_writes(tmp_path):
    """Pages and media of a tree get their CDXJ lines as their records are written (no second reading
    of the WARC), and they are exactly what Webrecorder's cdxj-indexer says of the same file."""
    from cumt_archive.store.cdxj import index_warc
    from cumt_archive.store.warc import warc_files

    archive = tmp_path / "archive"
    proc = subprocess.run([sys.executable, "-m", "cumt_archive.cli", "regenerate", "--jobs", "2", "--from-html",
                           str(FIXTURES / "site"), "--archive", str(archive), "--quiet"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    (warc,) = warc_files(archive / "warc")
    ours = (archive / "indexes" / f"{warc.name}.cdxj").read_text(encoding="utf-8")
    index_warc(warc, tmp_path / "theirs.cdxj")
    assert ours == (tmp_path / "theirs.cdxj").read_text(encoding="utf-8")
    assert '"mime": "image/' in ours  # media records are in it, not only pages


def test_a_second_import_of_the_same_tree_captures_nothing_again(tmp_path):
    """Pages (known to the parent by their worker's digest only) and media whose bytes the WARC holds
    for their URL are not captured a second time: the second run leaves no WARC file of its own."""
    from cumt_archive.store.warc import warc_files

    archive = tmp_path / "archive"
    for _ in range(2):
        proc = regenerate("--quiet", "--jobs", "2", "--from-html", str(SITE), "--archive", str(archive))
        assert proc.returncode == 0, proc.stderr
    assert len(warc_files(archive / "warc")) == 1
    changed = tmp_path / "changed"
    shutil.copytree(SITE, changed)
    page = next(p for p in sorted(changed.rglob("*.htm")) if b"<html" in p.read_bytes().lower())
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<!-- changed --></body>"))
    proc = regenerate("--quiet", "--jobs", "2", "--from-html", str(changed), "--archive", str(archive))
    assert proc.returncode == 0, proc.stderr
    assert len(warc_files(archive / "warc")) == 2  # the changed page, captured again
