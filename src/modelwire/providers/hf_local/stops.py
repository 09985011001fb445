"""Stop strings applied to generated text: whole answers and streams.

Generation halts at a stop string (the engine's stopping criterion searches the decoded tail at
each step, so no tokens are generated or counted past it), and the text is cut just before it
here. A stream holds back as many
characters as the longest stop string minus one, so a stop string split across two pieces is
still caught and never shown.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["StopScanner", "cut_at_stop"]


def cut_at_stop(text: str, stops: Iterable[str]) -> tuple[str, bool]:
    """``text`` up to the earliest stop string, and whether one was found."""
    hits = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return (text[: min(hits)], True) if hits else (text, False)


class StopScanner:
    """Feeds stream pieces through; ``stopped`` turns true at the first stop string."""

    def __init__(self, stops: Iterable[str]) -> None:
        self.stops = tuple(s for s in stops if s)
        self._hold = max((len(s) for s in self.stops), default=1) - 1
        self._buffer = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        """The text that may be shown now."""
        if self.stopped:
            return ""
        self._buffer += piece
        text, found = cut_at_stop(self._buffer, self.stops)
        if found:
            self._buffer = ""
            self.stopped = True
            return text
        cut = max(len(self._buffer) - self._hold, 0)
        out, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return out

    def flush(self) -> str:
        """What is still held back, at the end of the stream."""
        out, self._buffer = ("" if self.stopped else self._buffer), ""
        return out
