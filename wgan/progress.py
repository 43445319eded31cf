"""A dependency-free progress line for the console: count, rate, ETA and a few values."""

import sys
import time


class Progress:
    """Redraws one line on ``stream`` (stderr) at most every ``min_interval`` seconds.

    ``unit`` names what is counted (``it`` for generator iterations, ``img`` for images).
    """

    def __init__(self, total, desc="", unit="it", stream=None, min_interval=0.5, enabled=True):
        self.total, self.desc, self.unit = total, desc, unit
        self.stream = stream or sys.stderr
        self.min_interval = min_interval
        self.enabled = enabled
        self.count = 0
        self.start = time.perf_counter()
        self._last_draw = 0.0

    def update(self, n=1, **values):
        self.count += n
        now = time.perf_counter()
        if self.enabled and (now - self._last_draw >= self.min_interval or self.count >= self.total):
            self._last_draw = now
            self._draw(now, values)

    def rate(self):
        elapsed = time.perf_counter() - self.start
        return self.count / elapsed if elapsed > 0 else 0.0

    def _draw(self, now, values):
        rate = self.rate()
        eta = (self.total - self.count) / rate if rate > 0 else float("inf")
        shown = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        line = (f"\r{self.desc} {self.count}/{self.total} {rate:.2f} {self.unit}/s "
                f"ETA {_format_seconds(eta)} {shown}")
        self.stream.write(line[:200].ljust(80))
        self.stream.flush()

    def close(self):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _format_seconds(seconds):
    if seconds == float("inf"):
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
