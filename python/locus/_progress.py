"""Progress lines on sys.stderr for locus's long calls (their ``progress=True``).

On a terminal one line is rewritten in place at most ten times a second; elsewhere (a log, a
notebook) the first event and then one event every ``interval`` seconds each get a plain line.
The line says what is running, k of n where known, the loss and max |g| for solvers, and the
elapsed time, as the CLI's progress line does.
"""

from __future__ import annotations

import math
import sys
import time


def progress_line(command: str, event: dict, seconds: float) -> str:
    """``locus <command>: <stage> k/n  loss ..  |g| ..  12.3 s`` for one event dict."""
    line = f"locus {command}:"
    if event.get("stage"):
        line += " " + event["stage"]
    done, total = event.get("done", 0), event.get("total", 0)
    if total > 0:
        line += f" {done}/{total}"
    elif done > 0:
        line += f" {done}"
    loss, grad = event.get("loss", math.nan), event.get("gradient_max_norm", math.nan)
    if not math.isnan(loss):
        line += f"  loss {loss:.3e}"
    if not math.isnan(grad):
        line += f"  |g| {grad:.2e}"
    return line + f"  {seconds:.1f} s"


class StderrProgress:
    """A callable that turns events into progress lines on ``stream`` (default sys.stderr)."""

    def __init__(self, command: str, interval: float = 5.0, stream=None):
        self.command = command
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.terminal = bool(isatty and isatty())
        self.interval = 0.1 if self.terminal else interval
        self.start = time.monotonic()
        self.last = -math.inf
        self.drawn = False

    def __call__(self, event: dict) -> None:
        now = time.monotonic()
        if now - self.last < self.interval:
            return
        self.last = now
        text = progress_line(self.command, event, now - self.start)
        self.stream.write("\r\033[K" + text if self.terminal else text + "\n")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        """Clears the line on a terminal (a log keeps its lines)."""
        if self.terminal and self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
        self.drawn = False
