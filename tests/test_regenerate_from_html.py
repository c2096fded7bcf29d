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


def _summary(saved: object) -> tuple:
    """What a worker's result says, but for the parts a record makes anew each time (its id)."""
    from cumt_archive.regenerate import NotSaved

    if isinstance(saved, NotSaved):
        return ("not saved", saved.problem)
    record = saved.record
    return (saved.url, saved.fetched_at, saved.result, saved.verdict, record.url, record.warc_date, record.status,
            record.mime, record.payload_digest, record.surt_key)


def test_staged_reading_gives_what_one_page_at_a_time_gives(tmp_path, monkeypatch):
    """read_saved_pages reads a group of files, then extracts them, then makes their records: whatever the
    group's size, each file's result is the one it gets alone, in the order given, failures in place."""
    from cumt_archive import regenerate as regen
    from cumt_archive.regenerate import RegenerateReport, _saved_pages, read_saved_pages

    tree = tmp_path / "saved"
    shutil.copytree(SITE, tree)
    host = tree / "www.cumt.edu.cn"
    host.mkdir(exist_ok=True)
    (host / "notes.htm").write_bytes(b"plain words, no markup at all")  # no page: skipped without a problem
    jobs = [(path, rel) for path, rel in _saved_pages(tree, RegenerateReport())]
    jobs.insert(3, (str(host / "vanished.htm"), "www.cumt.edu.cn/vanished.htm"))  # listed, then gone
    assert len(jobs) > 8
    alone = [_summary(read_saved_pages([job])[0]) for job in jobs]
    assert ("not saved", None) in alone
    assert any(kind == "not saved" and problem and "vanished.htm: cannot read" in problem
               for kind, problem, *_ in alone)
    assert sum(1 for s in alone if s[0] != "not saved") >= 6
    together = [_summary(s) for s in read_saved_pages(jobs)]
    monkeypatch.setattr(regen, "STAGE_BYTES", 1)  # a group of one page each
    one_each = [_summary(s) for s in read_saved_pages(jobs)]
    assert together == alone
    assert one_each == alone


def test_a_stage_holds_about_stage_bytes_of_pages(tmp_path, monkeypatch):
    """Files are read until the group holds STAGE_BYTES; then the group is extracted, so huge saved pages
    are never all held at once."""
    from cumt_archive import regenerate as regen
    from cumt_archive.regenerate import RegenerateReport, _saved_pages, read_saved_pages

    jobs = [(path, rel) for path, rel in _saved_pages(SITE, RegenerateReport())][:10]
    sizes = [(SITE / rel).stat().st_size for _, rel in jobs]
    steps: list[str] = []
    read, extract = regen._read_saved_file, regen.extract_page
    monkeypatch.setattr(regen, "_read_saved_file", lambda job: steps.append("read") or read(job))
    monkeypatch.setattr(regen, "extract_page", lambda page: steps.append("extract") or extract(page))
    monkeypatch.setattr(regen, "STAGE_BYTES", sizes[0] + sizes[1])  # the first two pages fill a group
    assert all(s > 1000 for s in sizes)
    read_saved_pages(jobs)
    assert steps[:4] == ["read", "read", "extract", "extract"]
    assert steps.count("read") == steps.count("extract") == len(jobs)
    steps.clear()
    monkeypatch.setattr(regen, "STAGE_BYTES", sum(sizes) + 1)  # all of them in one group
    read_saved_pages(jobs)
    assert steps == ["read"] * len(jobs) + ["extract"] * len(jobs)
