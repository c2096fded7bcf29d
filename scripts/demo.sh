#!/usr/bin/env bash
# Crawl the bundled sample (tests/fixtures/site: WebPlus and VSB columns of cumt's hosts) served on
# 127.0.0.1, with the same spider and settings as the real job. Output goes to output-demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8765}
.venv/bin/python -m cumt_archive.mirror tests/fixtures/site --port "$PORT" &
MIRROR=$!
trap 'kill $MIRROR 2>/dev/null' EXIT
sleep 1
LISTS=http://xwzx.cumt.edu.cn/523/list.htm,http://xwzx.cumt.edu.cn/513/list.htm,http://www.cumt.edu.cn/19673/list.htm,http://news.cumt.edu.cn/sdxw.htm
status=0
http_proxy="http://127.0.0.1:$PORT" .venv/bin/scrapy crawl cumt -a lists="$LISTS" \
    -s ARCHIVE_DIR=output-demo -s DOWNLOAD_DELAY=0 -s AUTOTHROTTLE_ENABLED=False || status=$?
.venv/bin/cumt-archive status --archive output-demo
echo "Markdown files: output-demo/posts/  (exit status of the crawl: $status)"
exit $status
