"""A text progress bar with images/s and ETA on stderr (no extra dependency)."""

import sys
import time


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """Counts processed images and redraws one status line.

    On a terminal the line is redrawn in place at most 5 times a second; when
    stderr is a file or a pipe (CI logs) a new line is printed at most every 10 s,
    so logs stay short. ``enabled=False`` makes every method silent.
    """

    def __init__(self, total: int, enabled: bool = True, stream=None):
        self.total = total
        self.done = 0
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self.interval = 0.2 if self.interactive else 10.0
        self.start = time.monotonic()
        self.last_draw = self.start
        self.width = 0  # of the last drawn line, to blank leftovers of a longer one

    def rate(self) -> float:
        """Images per second so far."""
        return self.done / max(time.monotonic() - self.start, 1e-9)

    def line(self) -> str:
        """The status line: bar, count, images/s and ETA."""
        fraction = self.done / self.total if self.total else 1.0
        filled = int(30 * fraction)
        rate = self.rate()
        eta = _clock((self.total - self.done) / rate) if rate > 0 else "?"
        return (f"[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} images "
                f"{rate:,.0f} img/s ETA {eta}")

    def update(self, count: int = 1) -> None:
        """Record ``count`` more processed images and redraw if it is time."""
        self.done += count
        now = time.monotonic()
        if self.enabled and now - self.last_draw >= self.interval:
            self.last_draw = now
            self._draw()

    def _draw(self) -> None:
        line = self.line()
        if self.interactive:
            print(line.ljust(self.width), end="\r", file=self.stream, flush=True)
            self.width = len(line)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        """Draw the final line and end it."""
        if self.enabled:
            print(self.line().ljust(self.width), file=self.stream, flush=True)
