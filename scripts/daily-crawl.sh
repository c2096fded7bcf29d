#!/usr/bin/env bash
# The cron job: one incremental crawl, its log in ARCHIVE_DIR/logs/, the crawl's exit status as ours.
#   0 all went well | 1 some stories failed (retried next run) | 2 bad arguments | 3 another run holds the archive
set -uo pipefail
cd "$(dirname "$0")/.."
ARCHIVE_DIR=${ARCHIVE_DIR:-output}
mkdir -p "$ARCHIVE_DIR/logs"
LOG="$ARCHIVE_DIR/logs/crawl-$(date +%Y-%m-%d).log"
.venv/bin/scrapy crawl cumt -s ARCHIVE_DIR="$ARCHIVE_DIR" -s LOG_FILE="$LOG" "$@"
status=$?
# The last line of the log is the run's summary; cron mails whatever we print.
grep -E "run [0-9]+ (finished|shutdown|cancelled)" "$LOG" | tail -1
exit $status
