"""``text_event``: the stream path's unvalidated ``StreamEvent(text=...)`` is the same event."""

from __future__ import annotations

import pickle

from hypothesis import given
from hypothesis import strategies as st

from modelwire.types import StreamEvent, text_event


@given(st.text())
def test_a_text_event_is_the_validated_one(text: str) -> None:
    fast, validated = text_event(text), StreamEvent(text=text)
    assert fast == validated
    assert fast.__dict__ == validated.__dict__
    assert fast.model_fields_set == validated.model_fields_set == {"text"}
    assert fast.model_dump() == validated.model_dump()
    assert fast.model_dump_json() == validated.model_dump_json()
    assert repr(fast) == repr(validated)
    assert pickle.loads(pickle.dumps(fast)) == validated


def test_text_events_share_no_state() -> None:
    first, second = text_event("a"), text_event("b")
    first.text = "changed"
    assert (second.text, text_event("c").text, StreamEvent().text) == ("b", "c", "")
    assert set(StreamEvent.model_fields) == set(first.__dict__)  # every field, none missing
    assert StreamEvent().message is None and first.message is None
