"""A one-line progress bar on a terminal (stderr); silent when stderr is not a terminal."""

import sys
import time
from typing import TextIO

from redtrail.cli.output import escape


class Progress:
    """``[#####.....] 50/100 files, 12.3/s, 42 events kept`` redrawn in place, at most 10 times a second."""

    def __init__(self, label: str, *, total: int | None = None, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.done = 0
        self.started = time.monotonic()
        self._drawn = 0.0

    def advance(self, count: int = 1, note: str = "") -> None:
        self.done += count
        now = time.monotonic()
        if self.enabled and (now - self._drawn >= 0.1 or self.done == self.total):
            self._drawn = now
            self.stream.write(f"\r{self.line(note)}\x1b[K")
            self.stream.flush()

    def line(self, note: str = "") -> str:
        rate = self.done / max(time.monotonic() - self.started, 1e-9)
        counted = f"{self.done}/{self.total}" if self.total else str(self.done)
        bar = ""
        if self.total:
            filled = int(20 * self.done / self.total)
            bar = f"[{'#' * filled}{'.' * (20 - filled)}] "
        # the label and note may hold names (a file's, a key's): escaped, unlike the bar's own \r and erase
        return escape(f"{bar}{counted} {self.label}, {rate:.1f}/s{', ' + note if note else ''}")

    def close(self) -> None:
        if self.enabled and self.done:
            self.stream.write("\n")
            self.stream.flush()
