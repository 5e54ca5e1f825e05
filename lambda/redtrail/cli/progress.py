"""A one-line progress bar on a terminal (stderr); silent when stderr is not a terminal."""

import sys
import time
from typing import TextIO

from redtrail.cli.output import escape, noun_for


class Progress:
    """``[#####.....] 50/100 files, 12.3/s, 42 events kept`` redrawn in place, at most 10 times a second, and
    once more at the end: the last line drawn is the true count."""

    def __init__(self, label: str, *, total: int | None = None, stream: TextIO | None = None, one: str = "") -> None:
        self.label = label  # counted: "files", "messages moved"
        self.one = one or label  # the label of a count of one: "file", "message moved"
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.done = 0
        self.started = time.monotonic()
        self._drawn = 0.0
        self._shown = 0  # the count last drawn
        self._note = ""

    def advance(self, count: int = 1, note: str = "") -> None:
        self.done += count
        self._note = note
        now = time.monotonic()
        if self.enabled and (now - self._drawn >= 0.1 or self.done == self.total):
            self._draw(now)

    def _draw(self, now: float) -> None:
        self._drawn, self._shown = now, self.done
        self.stream.write(f"\r{self.line(self._note)}\x1b[K")
        self.stream.flush()

    def line(self, note: str = "") -> str:
        rate = self.done / max(time.monotonic() - self.started, 1e-9)
        # an approximate total (a queue's depth) can be passed: the bar then ends full, on the count done
        total = max(self.total, self.done) if self.total else None
        counted = f"{self.done}/{total}" if total else str(self.done)
        bar = ""
        if total:
            filled = int(20 * self.done / total)
            bar = f"[{'#' * filled}{'.' * (20 - filled)}] "
        label = noun_for(total or self.done, self.one, self.label)
        # the label and note may hold names (a file's, a key's): escaped, unlike the bar's own \r and erase
        return escape(f"{bar}{counted} {label}, {rate:.1f}/s{', ' + note if note else ''}")

    def close(self) -> None:
        if self.enabled and self.done:
            if self._shown != self.done:  # advanced since the last drawing, too soon to redraw then
                self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
