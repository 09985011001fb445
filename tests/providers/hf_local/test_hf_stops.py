"""Stop strings on whole answers and on streams split at any point."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from modelwire.providers.hf_local.stops import StopScanner, cut_at_stop

ALPHABET = "ab \n"


def test_cut_at_the_earliest_stop() -> None:
    assert cut_at_stop("one two three", ["three", "two"]) == ("one ", True)
    assert cut_at_stop("one two", ["four", ""]) == ("one two", False)


@given(
    text=st.text(alphabet=ALPHABET, max_size=40),
    stops=st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=4), max_size=3),
    cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=8),
)
def test_a_stream_shows_exactly_the_cut_text(text: str, stops: list[str], cuts: list[int]) -> None:
    points = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    pieces = [text[a:b] for a, b in itertools.pairwise(points)]
    scanner = StopScanner(stops)
    shown = "".join(scanner.feed(p) for p in pieces) + scanner.flush()
    expected, found = cut_at_stop(text, stops)
    assert shown == expected
    assert scanner.stopped == found
