"""benchmarks/run.py --quick: the harness runs end to end and reports every figure it promises.

Nothing here asserts speed (the machine may be busy); it proves the harness measures what it says:
real article pages chosen by content, the crawl's pages and media all served (no 404 padding),
every article archived, baselines side by side, medians with their spread.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO

CORPUS = REPO.parent / "shared" / "corpus"


def test_quick_benchmark_reports_every_figure(tmp_path):
    pages = CORPUS if CORPUS.is_dir() else REPO / "tests" / "fixtures" / "pages"
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--pages", str(pages),
                           "--json", str(out), "--tmp", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "cores usable" in proc.stdout
    results = json.loads(out.read_text())

    regen = results["regenerate"]
    assert regen["articles_written"] > 0
    per_page = regen["page_cost_in_parses"]
    assert per_page["worst"] >= per_page["median"] > 0 and per_page["worst_page"]
    for contender in ("ours_1", f"ours_{regen['jobs']}", "lxml_parse", "trafilatura_fast",
                      "trafilatura_markdown_metadata"):
        figure = regen["ms_per_page"][contender]
        assert figure["min"] <= figure["median"] <= figure["max"]
    assert regen["cores_used"]["median"] > 0

    crawl = results["crawl"]
    assert crawl["requests_answering_404"] == 0
    assert crawl["media_files_served"] > 0
    assert crawl["articles_archived"] == crawl["stories"]
    assert crawl["throughput_ratio"]["min"] <= crawl["throughput_ratio"]["median"] <= crawl["throughput_ratio"]["max"]

    media = results["media"]
    assert set(media["seconds"]) == set(media["peak_mb"]) == {"streamed", "in_memory"}
    assert media["streamed_over_in_memory_time"]["min"] <= media["streamed_over_in_memory_time"]["median"]

    memory = results["memory"]
    assert all(run["media_files"] > 0 for run in memory["runs"].values())
    assert memory["peak_mb_all_processes"] > 0
    assert results["requests"]["k=0"]["per_column_other_requests"] == 0


@pytest.mark.skipif(not (CORPUS / "sites" / "expected.json").is_file(), reason="needs ../shared/corpus")
def test_article_pages_are_chosen_by_content_not_by_name():
    sys.path.insert(0, str(REPO / "benchmarks"))
    import run as bench

    chosen, left_out = bench.article_pages(CORPUS)
    names = {p.name for p in chosen}
    # named list.htm, yet an article by the corpus's own answer sheet
    assert "sites/dasfaa2027.github.io/CallforResearchTrack/list.htm" in names
    # an index page the answer sheet calls a list
    assert "sites/www.hcdd.cq.cn/index/tzgg.htm" in left_out
    assert all(not n.endswith(("expected.json", ".md")) for n in names)
