"""`cumt-archive export --wacz`: a WACZ 1.1 package that Webrecorder's own validator accepts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from cumt_archive.store.warc import warc_files
from test_crawl_site import EXPECTED

BIN = Path(sys.executable).parent


def test_export_writes_a_valid_wacz_with_every_article_as_a_page(tmp_path, crawled_fixture_site):
    archive = tmp_path / "archive"
    shutil.copytree(crawled_fixture_site, archive)  # export opens the archive: not the shared copy
    package = tmp_path / "out" / "cumt.wacz"
    export = subprocess.run([sys.executable, "-m", "cumt_archive.cli", "export", "--archive", str(archive),
                             "--wacz", str(package)], capture_output=True, text=True, timeout=120)
    assert export.returncode == 0, export.stderr
    assert f"pages={len(EXPECTED['articles'])}" in export.stdout

    validate = subprocess.run([str(BIN / "wacz"), "validate", "-f", str(package)], capture_output=True, text=True)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert "the passed WACZ is valid" in validate.stdout

    with zipfile.ZipFile(package) as wacz:
        names = set(wacz.namelist())
        assert {"datapackage.json", "datapackage-digest.json", "pages/pages.jsonl", "indexes/index.cdx.gz"} <= names
        for warc in warc_files(archive / "warc"):
            assert wacz.read(f"archive/{warc.name}") == warc.read_bytes()
        package_meta = json.loads(wacz.read("datapackage.json"))
        assert package_meta["wacz_version"] == "1.1.1"
        assert all(r["hash"].startswith("sha256:") for r in package_meta["resources"])
        lines = wacz.read("pages/pages.jsonl").decode("utf-8").splitlines()
    header, pages = json.loads(lines[0]), [json.loads(line) for line in lines[1:]]
    assert header["format"] == "json-pages-1.0"
    assert {p["url"] for p in pages} == set(EXPECTED["articles"])
    for page in pages:
        want = EXPECTED["articles"][page["url"]]
        assert (page["title"], page["date"]) == (want["title"], want["date"])
        assert page["ts"]  # the capture the wacz tool matched the page to


def test_export_of_a_folder_that_is_no_archive_is_a_usage_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "cumt_archive.cli", "export", "--archive", str(tmp_path),
                           "--wacz", str(tmp_path / "x.wacz")], capture_output=True, text=True)
    assert proc.returncode == 2 and str(tmp_path) in proc.stderr
    assert not (tmp_path / "x.wacz").exists()
