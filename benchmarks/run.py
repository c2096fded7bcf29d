"""Speed, memory and request counts of cumt-archive, each against baselines measured in the same run.

    python benchmarks/run.py                     # everything (several minutes on 2 cores)
    python benchmarks/run.py --quick             # a smoke test of the harness: tiny sizes, 2 repetitions
    python benchmarks/run.py --only regenerate crawl [--pages DIR] [--count N] [--repeats R]
    python benchmarks/run.py --only profile      # where a single process spends its time, by area

1. regenerate: `cumt-archive regenerate --from-html` over N saved article pages (5,000 by default:
   a whole archive's rebuild), single process (--jobs 1) and one worker per core, against
   trafilatura's Markdown extraction with metadata, trafilatura `fast`, and a bare lxml parse of the
   same bytes (the floor). Targets: >= 10x trafilatura (Markdown with metadata) single process; every
   core: >= 1.8x single-process throughput on 2 cores (>= 0.9 of the cores' count in general). Also
   each source page's extraction against a bare parse of its bytes (target: none above 5 parses), and
   the start-up of both (a one-page tree), which every per-page figure includes.
2. crawl: `scrapy crawl cumt` at zero delay of a local mirror serving real-size pages (the corpus's
   article pages under distinct article URLs of a generated site, plus every image and attachment
   they link, so nothing answers 404), against a bare Scrapy spider fetching the same URLs and
   doing nothing with them. Target: >= 0.8 of the bare spider's throughput, every article archived.
3. memory: peak resident memory of `regenerate --from-html` and `regenerate --archive` (all of their
   processes together) over 1,000 and 10,000 pages. Target: <= 200 MB and flat.
4. requests: what a crawl with nothing new, and with k new stories per column, asks for.

Every timing is the median of interleaved repetitions (each repetition runs every contender once,
in alternating order, so all meet the same machine), printed with its spread (min-max). Article
pages are chosen by content: the corpus's expected.json says which of its pages are articles, and
any other page counts only if our extraction finds an article in it (so list pages never count,
whatever their file name). Work happens in /dev/shm so disk writeback adds no noise.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the generated site the tests use

from sitegen import GeneratedSite  # noqa: E402

from cumt_archive.extract import extract_article  # noqa: E402
from cumt_archive.mirror import MirrorServer  # noqa: E402
from cumt_archive.model import Article, RawPage  # noqa: E402
from cumt_archive.workers import default_jobs  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
CLI = [sys.executable, "-m", "cumt_archive.cli"]
PAGE_SUFFIXES = (".htm", ".html")


# -- which pages are articles ------------------------------------------------------------------

@dataclass(frozen=True)
class SourcePage:
    name: str  # path inside the corpus, for the report
    url: str   # where the page lived (expected.json), or a stand-in
    body: bytes
    chosen_by: str  # "expected.json" or "extraction"


def article_pages(folder: Path) -> tuple[list[SourcePage], list[str]]:
    """The article pages under folder, chosen by content; and the names of the pages left out.

    A page listed in an expected.json (the corpus's own answer sheet, with a title for articles and
    `list` for list pages) is taken or left by it; any other page is taken when our extraction finds
    an article in it. File names decide nothing.
    """
    listed: dict[Path, dict] = {}
    for sheet in sorted(folder.rglob("expected.json")):
        entries = json.loads(sheet.read_text(encoding="utf-8"))
        if not isinstance(entries, list):
            continue  # a test fixture's expectation of one page, not an answer sheet of a saved tree
        for entry in entries:
            if isinstance(entry, dict) and "path" in entry:
                listed[(sheet.parent / entry["path"]).resolve()] = entry
    chosen, left_out = [], []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in PAGE_SUFFIXES:
            continue
        name = str(path.relative_to(folder))
        body = path.read_bytes()
        entry = listed.get(path.resolve())
        if entry is not None:
            if entry.get("title") and not entry.get("list"):
                chosen.append(SourcePage(name, entry["url"], body, "expected.json"))
            else:
                left_out.append(name)
            continue
        url = f"http://corpus.invalid/{name}"
        if isinstance(extract_article(RawPage(url=url, body=body)), Article):
            chosen.append(SourcePage(name, url, body, "extraction"))
        else:
            left_out.append(name)
    if not chosen:
        raise SystemExit(f"no article pages under {folder}")
    return chosen, left_out


def vary_title(body: bytes, i: int) -> bytes:
    """The page with its <title> (and so its story) made unique, so no cache can answer for a repeat."""
    return re.sub(rb"(<title[^>]*>)", rb"\g<1>%d " % i, body, count=1, flags=re.I)


def build_tree(pages: list[SourcePage], count: int, root: Path) -> list[Path]:
    """`count` saved pages laid out host/path (wget -x), each a source page under a new URL.

    Every copy gets a host of its own: the archive keeps one file per story and host, so copies on
    one host would be recognised as one story and written once, flattering our side of the ratio.
    """
    files = []
    for i in range(count):
        path = root / f"bench{i}.cumt.edu.cn" / f"{i % 97:02x}" / f"{i:04x}" / f"c900a{i}" / "page.htm"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(vary_title(pages[i % len(pages)].body, i))
        files.append(path)
    return files


# -- measuring a command: wall time, CPU of all its processes, peak memory of all of them -------

@dataclass
class Measured:
    seconds: float
    cpu_seconds: float
    peak_mb: float  # all processes of the command together (sampled proportional set sizes)
    processes: int
    stdout: str

    @property
    def cores_used(self) -> float:
        return self.cpu_seconds / self.seconds if self.seconds else 0.0


_TICK = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    """pid and every process below it (workers are children of a fork server, itself a child)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                todo.extend(int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split())
        except OSError:
            pass
    return out


def _cpu_seconds(pid: int) -> float | None:
    """CPU seconds so far of one process (cheap: /proc/pid/stat); None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


def _pss_bytes(pid: int) -> int:
    """Proportional resident bytes of one process (0 once it is gone). Proportional: pages the workers
    share with their fork server count once in the sum, not once per process. Dear to read (the
    kernel walks the process's page tables, holding its memory map lock), so sampled sparingly."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        return int(re.search(r"^Pss:\s+(\d+) kB", rollup, re.M).group(1)) * 1024  # type: ignore[union-attr]
    except (OSError, ValueError, AttributeError):
        return 0


def measure(cmd: list[str], env: dict[str, str] | None = None, cwd: Path = REPO, interval: float = 0.02,
            memory_interval: float = 0.25) -> Measured:
    """Run cmd, sampling its whole process tree: CPU is the last sample of each process (so up to one
    interval of each is missed), memory the largest sum of proportional set sizes seen at one moment.

    Memory is sampled every memory_interval only: reading it every 20 ms slowed the process tree
    measured, and a tree of several processes (workers) more than one process, which flattered the
    baselines of one process (the figures here are flat over a run, so sparse samples find the peak)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    cpu: dict[int, float] = {}
    peak = 0
    next_memory = start
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        # Read pipes in threads would cost the measured CPU less, but the outputs here are small.
        import threading
        readers = [threading.Thread(target=lambda s, f: shutil.copyfileobj(s, f), args=(proc.stdout, out_file)),
                   threading.Thread(target=lambda s, f: shutil.copyfileobj(s, f), args=(proc.stderr, err_file))]
        for reader in readers:
            reader.start()
        while proc.poll() is None:
            pids = _tree(proc.pid)
            for pid in pids:
                seconds = _cpu_seconds(pid)
                if seconds is not None:
                    cpu[pid] = seconds
            if time.perf_counter() >= next_memory:
                peak = max(peak, sum(_pss_bytes(pid) for pid in pids))
                next_memory = time.perf_counter() + memory_interval
            time.sleep(interval)
        seconds = time.perf_counter() - start
        for reader in readers:
            reader.join()
        out_file.seek(0)
        err_file.seek(0)
        stdout, stderr = out_file.read().decode("utf-8", "replace"), err_file.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:6])} failed ({proc.returncode}):\n{stderr[-3000:]}")
    return Measured(seconds, sum(cpu.values()), peak / 2**20, len(cpu), stdout)


def spread(samples: list[float], digits: int = 2) -> dict:
    """The median of samples with its range, as printed."""
    return {"median": round(statistics.median(samples), digits), "min": round(min(samples), digits),
            "max": round(max(samples), digits)}


# -- 1. regenerate ----------------------------------------------------------------------------

def _baselines(files: list[Path], tree: Path) -> dict[str, float]:
    """Seconds per page of each baseline over files, in this process."""
    import lxml.html
    import trafilatura

    def timed(fn) -> float:  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        for path in files:
            fn(path.read_bytes(), f"http://{path.relative_to(tree)}")
        return (time.perf_counter() - start) / len(files)

    return {
        "lxml_parse": timed(lambda body, url: lxml.html.fromstring(body)),
        "trafilatura_fast": timed(lambda body, url: trafilatura.extract(
            body, url=url, output_format="markdown", with_metadata=True, fast=True)),
        "trafilatura_markdown_metadata": timed(lambda body, url: trafilatura.extract(
            body, url=url, output_format="markdown", with_metadata=True)),
    }


def cost_in_parses(pages: list[SourcePage], repeats: int = 7) -> dict:
    """Each source page's extraction (extract_article, in this process) against a bare lxml parse of the
    same bytes, interleaved, medians of `repeats`: the target is no page above 5 parses."""
    import lxml.html

    ratios: dict[str, float] = {}
    for page in pages:
        raw = RawPage(url=page.url, body=page.body)
        extract_article(raw)  # warm: lazy imports, compiled regexes
        ours, parse = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            extract_article(raw)
            middle = time.perf_counter()
            lxml.html.fromstring(page.body)
            ours.append(middle - start)
            parse.append(time.perf_counter() - middle)
        ratios[page.name] = statistics.median(ours) / statistics.median(parse)
    worst = max(ratios, key=ratios.__getitem__)
    return {"median": round(statistics.median(ratios.values()), 2), "worst": round(ratios[worst], 2),
            "worst_page": worst, "pages_over_5": sorted(n for n, r in ratios.items() if r > 5)}


def bench_regenerate(pages: list[SourcePage], count: int, baseline_count: int, repeats: int, jobs: int,
                     work: Path) -> dict:
    tree = work / "tree"
    files = build_tree(pages, count, tree)
    # The fixed cost of a run (interpreter, imports, and with workers their pool), on a one-page tree:
    # it is in every per-page figure, and weighs more the fewer pages a run has.
    one_page = work / "tree-one-page"
    build_tree(pages, 1, one_page)
    megabytes = sum(p.stat().st_size for p in files) / 1e6
    samples: dict[str, list[float]] = {}
    startup: dict[str, list[float]] = {}
    cores: list[float] = []
    written = 0
    for rep in range(repeats):
        contenders = ["ours_1", f"ours_{jobs}", "baselines", "startup_1", f"startup_{jobs}"]
        for name in contenders if rep % 2 == 0 else contenders[::-1]:
            if name == "baselines":
                for key, per_page in _baselines(files[:baseline_count], tree).items():
                    samples.setdefault(key, []).append(per_page * 1000)
                continue
            kind, workers = name.split("_")
            archive = work / f"archive-{name}"
            run = measure([*CLI, "regenerate", "--quiet", "--jobs", workers, "--from-html",
                           str(one_page if kind == "startup" else tree), "--archive", str(archive)])
            shutil.rmtree(archive)
            if kind == "startup":
                startup.setdefault(name, []).append(run.seconds)
                continue
            samples.setdefault(name, []).append(run.seconds / count * 1000)
            if name != "ours_1":
                cores.append(run.cores_used)
            written = int(re.search(r"\barticles=(\d+)", run.stdout).group(1))  # type: ignore[union-attr]
    ms = {k: statistics.median(v) for k, v in samples.items()}
    single, parallel = ms["ours_1"], ms[f"ours_{jobs}"]
    trafilatura_md = samples["trafilatura_markdown_metadata"]
    result = {
        "pages": count, "megabytes": round(megabytes, 1), "article_sources": len(pages),
        "articles_written": written, "repeats": repeats, "jobs": jobs,
        "baseline_pages": min(baseline_count, count),
        "ms_per_page": {k: spread(v) for k, v in samples.items()},
        # ratios of medians, with the spread of the per-repetition ratios
        "vs_trafilatura_single_process": {**spread([t / o for t, o in zip(trafilatura_md, samples["ours_1"])]),
                                          "of_medians": round(ms["trafilatura_markdown_metadata"] / single, 2)},
        "vs_trafilatura_all_cores": round(ms["trafilatura_markdown_metadata"] / parallel, 2),
        "vs_trafilatura_fast_single_process": round(ms["trafilatura_fast"] / single, 2),
        "single_process_cost_in_lxml_parses": round(single / ms["lxml_parse"], 2),
        "all_cores_speedup": {**spread([s / p for s, p in zip(samples["ours_1"], samples[f"ours_{jobs}"])]),
                              "of_medians": round(single / parallel, 2)},
        "cores_used": spread(cores),
        "startup_seconds": {k.split("_")[1] + "_jobs": spread(v, 3) for k, v in startup.items()},
    }
    # Every copy of a source our extraction archives must be written; a source it refuses with a reason
    # (a page with no date at all, which the answer sheet calls an article) is refused in every copy.
    result["page_cost_in_parses"] = cost_in_parses(pages, repeats=3 if count < 100 else 7)
    archivable = [isinstance(extract_article(RawPage(url=p.url, body=p.body)), Article) for p in pages]
    expected = sum(archivable[i % len(pages)] for i in range(count))
    result["articles_expected"] = expected
    result["refused_sources"] = [p.name for p, ok in zip(pages, archivable) if not ok]
    result["target_met"] = (result["vs_trafilatura_single_process"]["of_medians"] >= 10
                            and result["page_cost_in_parses"]["worst"] <= 5
                            and result["all_cores_speedup"]["of_medians"] >= 0.9 * jobs
                            and written == expected)
    return result


# -- 2. crawl -----------------------------------------------------------------------------------

BARE_SPIDER = '''
import json, os, scrapy
class Bare(scrapy.Spider):
    name = "bare"
    async def start(self):
        for url in json.load(open(os.environ["BENCH_URLS"])):
            yield scrapy.Request(url, callback=self.parse, dont_filter=True)
    def parse(self, response):
        pass
'''


def media_bytes(n: int, size: int = 24_000) -> bytes:
    """Bytes of one image or attachment: distinct per file, about the size of a news photo thumbnail."""
    seed = (b"%08d" % n) * 8
    return (seed * (size // len(seed) + 1))[:size]


def _retitled(body: bytes, title: str, n: int) -> bytes | None:
    """The page with every occurrence of its article title numbered, or None if the title is not
    found as bytes (the only way to make copies on one host distinct stories without knowing the
    page's layout: the archive recognises a story by host, title, date, text and images)."""
    import html

    for encoding in ("utf-8", "gb18030"):
        for text in (title, html.escape(title, quote=False)):
            try:
                needle = text.encode(encoding)
            except UnicodeEncodeError:
                continue
            if needle and needle in body:
                return body.replace(needle, f"{text} {n}".encode(encoding))
    return None


def real_size_site(pages: list[SourcePage], stories: int, root: Path) -> tuple[GeneratedSite, int, int]:
    """The generated two-column site with every story's page replaced by a real article page (its
    title numbered, so each copy is a story of its own), and every image and attachment those pages
    link written in, so each request the crawl makes finds its file. Returns the site, the number of
    media files written and the number of source pages used (those whose title could be numbered)."""
    site = GeneratedSite(root)
    site.add("webplus", stories // 2)
    site.add("vsb", stories - stories // 2)
    usable = []
    for page in pages:
        article = extract_article(RawPage(url=page.url, body=page.body))
        if not isinstance(article, Article):
            continue
        numbered = _retitled(page.body, article.title, 1)
        if numbered is None:
            continue
        # The numbered title must be the one extracted (a page may also hold its title in another form,
        # which extraction prefers): else every copy would be one story, archived once.
        again = extract_article(RawPage(url=page.url, body=numbered))
        if isinstance(again, Article) and again.story_key != article.story_key:
            usable.append((page, article.title))
    if not usable:
        raise SystemExit("no article page whose title can be numbered: cannot build distinct stories")
    media: set[tuple[str, str]] = set()
    for i, story in enumerate(site.stories):
        host, path = story.url.split("://", 1)[1].split("/", 1)
        page, title = usable[i % len(usable)]
        body = _retitled(page.body, title, story.number)
        assert body is not None
        (root / host / path).write_bytes(body)
        article = extract_article(RawPage(url=story.url, body=body))
        if isinstance(article, Article):
            # originals, and the copies the pages show instead of them (captured too)
            for url in [*(m.url for m in article.media), *(m.shown for m in article.images if m.shown)]:
                m_host, _, m_path = url.split("://", 1)[1].partition("/")
                media.add((m_host.split(":")[0].lower(), m_path.split("?", 1)[0].split("#", 1)[0]))
    for n, (m_host, m_path) in enumerate(sorted(media)):
        target = root / m_host / (m_path or "index.htm")
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(media_bytes(n))
    return site, len(media), len(usable)


def _missing(root: Path, urls: list[str]) -> list[str]:
    """URLs the mirror has no file (or route) for: they would answer 404."""
    out = []
    for url in urls:
        host, _, path = url.split("://", 1)[1].partition("/")
        path = path.split("?", 1)[0]
        routes = root / host / "_routes.json"
        if (root / host / (path or "index.htm")).is_file():
            continue
        if routes.is_file() and any(url.endswith(key) for key in json.loads(routes.read_text())):
            continue
        out.append(url)
    return out


def bench_crawl(pages: list[SourcePage], stories: int, repeats: int, work: Path) -> dict:
    site, media_files, sources = real_size_site(pages, stories, work / "site")
    common = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS=16",
              "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "LOG_LEVEL=INFO"]
    samples: dict[str, list[float]] = {"ours": [], "bare": []}
    urls: list[str] = []
    archived, cores = 0, []
    (work / "bare.py").write_text(BARE_SPIDER)
    with MirrorServer(site.root) as mirror:
        env = {**os.environ, "http_proxy": mirror.proxy_url, "https_proxy": mirror.proxy_url}
        for rep in range(repeats):
            order = ["ours", "bare"] if rep % 2 == 0 else ["bare", "ours"]
            if not urls:
                order = ["ours", "bare"]  # the bare spider fetches what ours fetched
            for name in order:
                if name == "ours":
                    archive = work / f"archive{rep}"
                    mirror.requests.clear()
                    run = measure([sys.executable, "-m", "scrapy", "crawl", "cumt", "-a",
                                   "lists=" + ",".join(site.list_urls), "-s", f"ARCHIVE_DIR={archive}", *common],
                                  env, REPO)
                    cores.append(run.cores_used)
                    urls = [u for u in mirror.requests if not u.endswith("/robots.txt")]
                    (work / "urls.json").write_text(json.dumps(urls))
                    archived = len(list((archive / "posts").glob("*.md")))
                    shutil.rmtree(archive)
                else:
                    run = measure([sys.executable, "-m", "scrapy", "runspider", str(work / "bare.py"), *common],
                                  {**env, "BENCH_URLS": str(work / "urls.json")}, work)
                samples[name].append(run.seconds)
    ratio = [b / o for o, b in zip(samples["ours"], samples["bare"])]
    missing = _missing(site.root, urls)
    result = {
        "stories": stories, "article_sources": sources, "media_files_served": media_files,
        "requests": len(urls), "requests_answering_404": len(missing), "articles_archived": archived,
        "repeats": repeats, "ours_seconds": spread(samples["ours"]), "bare_seconds": spread(samples["bare"]),
        "ours_requests_per_second": round(len(urls) / statistics.median(samples["ours"]), 1),
        "bare_requests_per_second": round(len(urls) / statistics.median(samples["bare"]), 1),
        "throughput_ratio": {**spread(ratio),
                             "of_medians": round(statistics.median(samples["bare"]) / statistics.median(samples["ours"]), 2)},
        "ours_cores_used": spread(cores),
    }
    if missing:
        result["first_404s"] = missing[:5]
    result["target_met"] = result["throughput_ratio"]["of_medians"] >= 0.8 and archived == stories
    return result


# -- 2b. large media ---------------------------------------------------------------------------

def bench_media(repeats: int, work: Path, megabytes: int = 96) -> dict:
    """A crawl whose article links one large image: its body streamed to disk as it downloads (the
    default), against the same crawl holding it in memory as Scrapy does unless told otherwise (spooling
    off, the page size limit raised). Capturing into the WARC and media/ from the spool file should cost
    no more time than the in-memory path, and far less memory."""
    import random

    site = GeneratedSite.two_columns(work / "site", 1)
    story = site.of("webplus")[0]
    (site.root / "xwzx.cumt.edu.cn" / story.image_path.lstrip("/")).write_bytes(
        random.Random(1).randbytes(megabytes << 20))
    modes = {"streamed": [], "in_memory": ["-s", "MEDIA_SPOOL_THRESHOLD=100000000000",
                                           "-s", f"DOWNLOAD_MAXSIZE={(megabytes + 16) << 20}"]}
    seconds: dict[str, list[float]] = {m: [] for m in modes}
    peaks: dict[str, list[float]] = {m: [] for m in modes}
    with MirrorServer(site.root) as mirror:
        env = {**os.environ, "http_proxy": mirror.proxy_url, "https_proxy": mirror.proxy_url}
        for rep in range(repeats):
            for mode in (list(modes) if rep % 2 == 0 else list(modes)[::-1]):
                archive = work / f"archive-{mode}"
                run = measure([sys.executable, "-m", "scrapy", "crawl", "cumt", "-a", "lists=" + ",".join(site.list_urls),
                               "-s", f"ARCHIVE_DIR={archive}", "-s", "DOWNLOAD_DELAY=0",
                               "-s", "AUTOTHROTTLE_ENABLED=False", *modes[mode]], env, REPO)
                stored = max((p.stat().st_size for p in (archive / "media").rglob("*") if p.is_file()), default=0)
                if stored != megabytes << 20:
                    raise SystemExit(f"media benchmark: the {mode} crawl did not store the image ({stored} bytes)")
                seconds[mode].append(run.seconds)
                peaks[mode].append(run.peak_mb)
                shutil.rmtree(archive)
    ratio = [s / m for s, m in zip(seconds["streamed"], seconds["in_memory"])]
    result = {"image_megabytes": megabytes, "repeats": repeats,
              "seconds": {m: spread(v) for m, v in seconds.items()},
              "peak_mb": {m: spread(v, 1) for m, v in peaks.items()},
              "streamed_over_in_memory_time": spread(ratio)}
    result["target_met"] = statistics.median(ratio) <= 1.1  # no dearer than today's path, within noise
    return result


# -- 3. memory ----------------------------------------------------------------------------------

def add_media(files: list[Path], tree: Path, period: int, size: int = 4_000) -> int:
    """Every image and attachment the saved pages link, written into the tree where wget -x puts it, so
    regenerate imports them (into the WARC and media/) and `regenerate --archive` rebuilds them. File i
    is a copy of source i % period (build_tree): copies differ only in title and host."""
    sources: list[list[str]] = []
    written = 0
    for i, path in enumerate(files):
        url = f"http://{path.relative_to(tree)}"
        host = url.split("/")[2]
        if i < period:
            article = extract_article(RawPage(url=url, body=path.read_bytes()))
            sources.append([m.url.replace(f"//{host}/", "//{host}/") for m in article.media]
                           if isinstance(article, Article) else [])
        for template in sources[i % period]:
            m_host, _, m_path = template.replace("{host}", host).split("://", 1)[1].partition("/")
            target = tree / m_host / m_path.split("?", 1)[0].split("#", 1)[0]
            if not target.exists() and target.suffix:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(media_bytes(written, size))
                written += 1
    return written


def bench_memory(pages: list[SourcePage], counts: list[int], work: Path) -> dict:
    rows = {}
    for count in counts:
        tree = work / f"tree{count}"
        media = add_media(build_tree(pages, count, tree), tree, len(pages))
        archive = work / f"archive{count}"
        html = measure([*CLI, "regenerate", "--quiet", "--from-html", str(tree), "--archive", str(archive)])
        shutil.rmtree(archive / "posts")
        shutil.rmtree(archive / "media")  # both rebuilt from the WARC files alone
        warc = measure([*CLI, "regenerate", "--quiet", "--archive", str(archive)])
        rows[count] = {"from_html_peak_mb": round(html.peak_mb, 1), "from_html_seconds": round(html.seconds, 1),
                       "from_html_processes": html.processes, "from_html_cores_used": round(html.cores_used, 2),
                       "from_warc_peak_mb": round(warc.peak_mb, 1), "from_warc_seconds": round(warc.seconds, 1),
                       "from_warc_cores_used": round(warc.cores_used, 2), "media_files": media}
        shutil.rmtree(tree)
        shutil.rmtree(archive)
    small, large = rows[min(counts)], rows[max(counts)]
    peak = max(max(r["from_html_peak_mb"], r["from_warc_peak_mb"]) for r in rows.values())
    growth = max(large["from_html_peak_mb"] / small["from_html_peak_mb"],
                 large["from_warc_peak_mb"] / small["from_warc_peak_mb"])
    return {"runs": rows, "peak_mb_all_processes": peak, "growth_ratio": round(growth, 2),
            "target_met": peak <= 200 and growth <= 1.25}


# -- 4. requests --------------------------------------------------------------------------------

def bench_requests(work: Path, ks: list[int]) -> dict:
    site = GeneratedSite(work / "site")
    site.add("webplus", 20)
    site.add("vsb", 20)
    archive = work / "archive"
    args = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=WARNING",
            "-s", f"ARCHIVE_DIR={archive}"]
    rows = {}
    with MirrorServer(site.root) as mirror:
        env = {**os.environ, "http_proxy": mirror.proxy_url, "https_proxy": mirror.proxy_url}
        cmd = [sys.executable, "-m", "scrapy", "crawl", "cumt", "-a", "lists=" + ",".join(site.list_urls), *args]
        subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, check=True)
        for k in [0, *ks]:
            if k:
                site.add("webplus", k)
                site.add("vsb", k)
            mirror.requests.clear()
            subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, check=True)
            asked = [u for u in mirror.requests if not u.endswith("/robots.txt")]
            lists = [u for u in asked if u.endswith("list.htm") or re.search(r"/list\d+\.htm$|sdxw(/\d+)?\.htm$", u)]
            rows[f"k={k}"] = {"per_column_list_pages": round(len(lists) / 2, 1),
                              "per_column_other_requests": round((len(asked) - len(lists)) / 2, 1),
                              "expected_other_per_column": k * 2.5}  # article + image (+ attachment on VSB)
    return rows


# -- profile: where one process spends its time -------------------------------------------------

AREAS = (  # first match wins: (area, substring of the profiled function's file or name)
    ("of which lxml parse", "lxml/html/__init__"),
    ("extraction", "cumt_archive/extract/"),
    ("WARC", "cumt_archive/store/warc.py"),
    ("WARC", "warcio/"),
    ("index (SQLite)", "cumt_archive/store/index.py"),
    ("render", "cumt_archive/render.py"),
    ("write Markdown", "cumt_archive/store/files.py"),
    ("media probe", "_copy_media"),
    ("reading the tree", "_saved_page"),
)


def bench_profile(pages: list[SourcePage], count: int, work: Path) -> dict:
    """cProfile of `regenerate --from-html`, single process; time of each area (inclusive of what it
    calls, so areas can overlap a little) and the top functions by own time."""
    from cumt_archive.archive import Archive
    from cumt_archive.profile import load_profile
    from cumt_archive.regenerate import from_html

    tree = work / "tree"
    build_tree(pages, count, tree)
    archive = Archive(work / "archive", load_profile("cumt"))
    archive.open()
    profiler = cProfile.Profile()
    start = time.perf_counter()
    try:
        profiler.enable()
        from_html(archive, tree, jobs=1)
        profiler.disable()
    finally:
        archive.close()
    wall = time.perf_counter() - start
    stats = pstats.Stats(profiler)
    areas: dict[str, float] = {}
    entry_points: dict[str, float] = {}
    for (filename, _, function), (_, _, own, cumulative, callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{filename}:{function}"
        for area, needle in AREAS:
            if needle in where:
                # count a function's inclusive time only where no caller is in the same area
                if not any(needle in f"{c[0]}:{c[2]}" for c in callers):
                    entry_points[area] = entry_points.get(area, 0.0) + cumulative
                break
    areas = {k: round(v / wall * 100, 1) for k, v in sorted(entry_points.items(), key=lambda kv: -kv[1])}
    top = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:15]  # type: ignore[attr-defined]
    return {"pages": count, "ms_per_page_profiled": round(wall / count * 1000, 2), "percent_of_time": areas,
            "top_own_time_ms_per_page": {f"{Path(k[0]).name}:{k[1]}:{k[2]}": round(v[2] / count * 1000, 3)
                                         for k, v in top}}


# -- main -----------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=Path, default=DEFAULT_CORPUS,
                        help="folder of saved pages; articles among them are chosen by content (default: ../shared/corpus)")
    parser.add_argument("--count", type=int, default=5000,
                        help="saved pages for the regenerate benchmark (default: a whole archive's rebuild, so that "
                             "start-up, printed apart, weighs in it as in real use)")
    parser.add_argument("--baseline-count", type=int, default=300,
                        help="of those, pages the in-process baselines (trafilatura, lxml) run over each repetition")
    parser.add_argument("--memory-counts", type=int, nargs=2, default=[1000, 10000])
    parser.add_argument("--crawl-stories", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="workers of the all-cores runs (default: one per core)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 2 repetitions: proves the harness works, measures nothing")
    parser.add_argument("--only", nargs="*", choices=["regenerate", "crawl", "media", "memory", "requests", "profile"])
    parser.add_argument("--json", type=Path, help="also write all results to this file")
    parser.add_argument("--tmp", type=Path, default=Path("/dev/shm") if Path("/dev/shm").is_dir() else None,
                        help="work folder (default: /dev/shm, so disk writeback does not add noise to timings)")
    args = parser.parse_args()
    if args.quick:
        args.count, args.baseline_count, args.memory_counts = 24, 6, [12, 24]
        args.crawl_stories, args.repeats = 12, 2
    chosen = args.only or ["regenerate", "crawl", "media", "memory", "requests"]
    if not args.pages.is_dir():
        raise SystemExit(f"{args.pages}: no such folder (give --pages DIR of saved pages)")
    pages, left_out = article_pages(args.pages)
    by = {how: sum(1 for p in pages if p.chosen_by == how) for how in ("expected.json", "extraction")}
    print(f"machine: {default_jobs()} cores usable ({os.cpu_count()} online), load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; all-cores runs use --jobs {args.jobs}")
    print(f"article pages: {len(pages)} from {args.pages} ({by['expected.json']} by expected.json, "
          f"{by['extraction']} by extraction), {len(left_out)} pages left out as not articles", flush=True)
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="cumt-bench-", dir=args.tmp) as tmp:
        work = Path(tmp)
        for name in chosen:
            (work / name).mkdir()
            if name == "regenerate":
                results[name] = bench_regenerate(pages, args.count, args.baseline_count, args.repeats, args.jobs,
                                                 work / name)
            elif name == "crawl":
                results[name] = bench_crawl(pages, args.crawl_stories, args.repeats, work / name)
            elif name == "media":
                results[name] = bench_media(args.repeats, work / name, 8 if args.quick else 96)
            elif name == "memory":
                results[name] = bench_memory(pages, sorted(args.memory_counts), work / name)
            elif name == "requests":
                results[name] = bench_requests(work / name, [1] if args.quick else [1, 3, 6])
            elif name == "profile":
                results[name] = bench_profile(pages, args.count, work / name)
            print(f"{name}:", json.dumps(results[name], ensure_ascii=False), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    failed = [name for name, r in results.items() if isinstance(r, dict) and r.get("target_met") is False]
    print("targets not met:", ", ".join(failed) if failed else "none",
          "(quick mode: sizes too small for the targets to mean anything)" if args.quick else "")
    return 0 if args.quick or not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
