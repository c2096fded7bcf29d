"""How far a long command has got, for a person at a terminal and for a cron log.

On a terminal, tqdm draws its bar (it redraws with carriage returns, which is what terminals are
for). Anywhere else (a pipe, a log file, cron mail) a plain line is printed about once a minute and
never a carriage return, so a log reads line by line.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Callable, TextIO

if TYPE_CHECKING:
    from tqdm import tqdm


def duration_text(seconds: float) -> str:
    """`4s`, `2m05s`, `1h03m`."""
    whole = max(0, int(round(seconds)))
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def rate_text(pages: int, seconds: float) -> str:
    """`123 pages in 1m05s, 1.9 pages/s`: how long a run took and how fast it went."""
    per_second = pages / seconds if seconds > 0 else 0.0
    return f"{pages} pages in {duration_text(seconds)}, {per_second:.1f} pages/s"


def progress_text(label: str, done: int, total: int | None, elapsed: float) -> str:
    """`regenerate: 1200/5000 pages, 310.2 pages/s, about 12s left` (the estimate only when the total is known)."""
    rate = done / elapsed if elapsed > 0 else 0.0
    line = f"{label}: {done}/{total} pages" if total else f"{label}: {done} pages"
    line += f", {rate:.1f} pages/s"
    if total and rate > 0 and done < total:
        line += f", about {duration_text((total - done) / rate)} left"
    return line


class Progress:
    """Called as progress(done, total) by regenerate; `close()` once at the end."""

    def __init__(self, label: str, stream: TextIO | None = None, interval: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, tty: bool | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self.last_line = self.started
        self.tty = self.stream.isatty() if tty is None else tty
        self.bar: tqdm | None = None

    def __call__(self, done: int, total: int | None) -> None:
        if self.tty:
            if self.bar is None:
                from tqdm import tqdm  # a terminal's bar only: cron and pipes never pay for loading it

                self.bar = tqdm(total=total, desc=self.label, unit="page", file=self.stream, leave=False)
            if total and self.bar.total != total:
                self.bar.total = total
            self.bar.update(done - self.bar.n)
            return
        now = self.clock()
        if now - self.last_line >= self.interval:
            self.last_line = now
            print(progress_text(self.label, done, total, now - self.started), file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
