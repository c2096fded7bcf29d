"""Run Hexo's own front-matter parser, Nunjucks and marked (tests/hexo) over Markdown files."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

HEXO_DIR = Path(__file__).resolve().parent / "hexo"


def ensure_installed() -> None:
    if (HEXO_DIR / "node_modules" / "hexo-front-matter").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed for the Hexo client tests (tests/hexo); install Node.js")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HEXO_DIR, check=True, capture_output=True)


def hexo_read(files: list[Path]) -> dict[str, dict]:
    ensure_installed()
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is needed for the Hexo client tests")
    proc = subprocess.run([node, str(HEXO_DIR / "check.mjs"), *map(str, files)], capture_output=True, text=True,
                          check=True, timeout=120)
    return json.loads(proc.stdout)
