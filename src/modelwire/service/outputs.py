"""Structured output through the service: each answer validated against the requested type, and
an invalid one asked for again (``output_retries``), as one run of ledger attempts.

``output_run`` is a call machine like the others (``service.calls``): blocking and asyncio run
the same code.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from modelwire.errors import OutputValidationError
from modelwire.machines import Machine
from modelwire.output import OutputSpec, parse_json_answer
from modelwire.types import ChatResponse, Message

__all__ = ["OutputCall", "check_output", "output_run"]

OutputCall = Callable[[list[Message], str], Machine[ChatResponse]]
"""One call with this history, tagged with the run id."""


def check_output(response: ChatResponse, spec: OutputSpec) -> ChatResponse:
    """``response`` with its ``output`` validated from its text (``OutputValidationError``)."""
    response.output = spec.validate_json(parse_json_answer(response.text))
    return response


def output_run(
    call: OutputCall,
    history: Sequence[Message],
    spec: OutputSpec,
    *,
    retries: int,
    run_id: str | None = None,
) -> Machine[ChatResponse]:
    """Call, validate the answer; on an invalid one, ask again with what was wrong, at most
    ``retries`` times, then raise its ``OutputValidationError``."""
    if retries < 0:
        raise ValueError("output_retries must be 0 or more")
    run_id = run_id or uuid.uuid4().hex
    messages = list(history)
    for left in range(retries, -1, -1):
        response = yield from call(messages, run_id)
        try:
            return check_output(response, spec)
        except OutputValidationError as err:
            if not left:
                raise
            messages += [
                response.message,
                Message(
                    role="user",
                    content=(
                        f"That answer is not valid: {err}. Answer again with only the JSON "
                        f"of {spec.name}, nothing else."
                    ),
                ),
            ]
    raise AssertionError("unreachable")  # the loop returns or raises
