"""A dependency-free progress line on stderr: bar, count, rate, ETA and a few live values.

Used by the records build (images) and by training (generator iterations).
"""

import sys
import time


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """Counts work done and redraws one status line.

    On a terminal the line is redrawn in place at most 5 times a second; when stderr is
    a file or a pipe (CI logs) a new line is printed at most every 10 s, so logs stay
    short. ``enabled=False`` makes every method silent. ``unit`` names what is counted.
    """

    def __init__(self, total: int, enabled: bool = True, stream=None, desc: str = "", unit: str = "images"):
        self.total = total
        self.done = 0
        self.enabled = enabled
        self.desc = desc
        self.unit = unit
        self.values = {}
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self.interval = 0.2 if self.interactive else 10.0
        self.start = time.monotonic()
        self.last_draw = self.start
        self.width = 0  # of the last drawn line, to blank leftovers of a longer one

    def rate(self) -> float:
        """Units per second so far."""
        return self.done / max(time.monotonic() - self.start, 1e-9)

    def line(self) -> str:
        """The status line: description, bar, count, rate, ETA and the latest values."""
        fraction = self.done / self.total if self.total else 1.0
        filled = int(30 * fraction)
        rate = self.rate()
        eta = _clock((self.total - self.done) / rate) if rate > 0 else "?"
        values = "".join(f" {k}={v:.4g}" if isinstance(v, float) else f" {k}={v}" for k, v in self.values.items())
        desc = f"{self.desc} " if self.desc else ""
        short = "img" if self.unit == "images" else self.unit
        return (f"{desc}[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} {self.unit} "
                f"{rate:,.{0 if rate >= 100 else 2}f} {short}/s ETA {eta}{values}")

    def update(self, count: int = 1, **values) -> None:
        """Record ``count`` more units (and the latest ``values``) and redraw if it is time."""
        self.done += count
        self.values.update(values)
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

    def message(self, text: str) -> None:
        """Print ``text`` as a line of its own above the status line (printed even when disabled)."""
        if self.enabled and self.interactive and self.width:
            print(" " * self.width, end="\r", file=self.stream)
        print(text, file=self.stream, flush=True)
        if self.enabled and self.interactive and self.width:
            self._draw()

    def close(self) -> None:
        """Draw the final line and end it."""
        if self.enabled:
            print(self.line().ljust(self.width), file=self.stream, flush=True)
