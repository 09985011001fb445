"""The call machines: one request's attempts, retries and failover, written once.

Each function here is a generator that does no I/O: it yields effects (``service.effects``,
``modelwire.machines``) and
is resumed with their results. The drivers run the same machine from a thread or from asyncio,
plainly or as a stream, so the rules below hold identically in every call style:

* every attempt is measured and recorded exactly once (``Attempt``), however it ends;
* an attempt is retried only for a retryable ``ProviderError``, after the policy's delay;
* a stream is retried (or fails over) only before its first text or tool-call piece reached
  the consumer;
* a cancellation (``KeyboardInterrupt``, ``asyncio.CancelledError``, a consumer closing the
  stream) is recorded as ``cancelled``, never retried, and closes the provider's stream;
* a group tries its members in the order ``GroupCall`` (routing) plans, one attempt each per
  pass, and feeds each member's outcome to its circuit breaker;
* with limits (``service.limiting``), every attempt reserves its worst case before it is sent
  and settles its actual cost exactly once when it ends, however it ends; a refusal is
  recorded as a row of its own, never retried, and makes a group skip the member. Without
  limits the machines check one flag and do nothing else.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelwire.errors import LimitExceededError, LimitsUnavailableError, ProviderError
from modelwire.machines import Emit, Machine
from modelwire.output import parse_json_answer
from modelwire.routing.group import Sleep
from modelwire.routing.retry import SINGLE_ATTEMPT
from modelwire.service.attempt import Attempt, Recorder
from modelwire.service.effects import Invoke, Prepare, Wait
from modelwire.service.groups import Member
from modelwire.service.limiting import Reserve, Settle
from modelwire.types import ChatRequest, ChatResponse, StreamEvent

if TYPE_CHECKING:
    from modelwire.providers.base import ChatModel
    from modelwire.routing.group import GroupCall
    from modelwire.routing.retry import RetryPolicy
    from modelwire.usage.events import UsageStatus
    from modelwire.usage.limits import Limits, Reservation

__all__ = ["StreamProgress", "group_run", "model_call", "model_stream"]

_CANCELLATIONS = (KeyboardInterrupt, GeneratorExit, asyncio.CancelledError)


def _status(error: BaseException) -> UsageStatus:
    return "cancelled" if isinstance(error, _CANCELLATIONS) else "error"


@dataclass(slots=True)
class StreamProgress:
    """What a stream attempt has delivered so far (read by the group around it)."""

    delivered: bool = False
    latency_ms: float = 0.0


def _after_failure(
    record: Attempt, err: BaseException, policy: RetryPolicy, attempt: int, retryable: bool
) -> Machine[None]:
    """Record a failed attempt, then wait before the next one, or re-raise ``err``."""
    record.failed(err, _status(err))
    if not (retryable and isinstance(err, ProviderError) and policy.should_retry(err, attempt)):
        raise err
    yield Wait(policy, policy.delay(err, attempt))


def _reserve(
    recorder: Recorder,
    limits: Limits,
    model: ChatModel,
    request: ChatRequest,
    caller: str | None,
    group: str | None,
    attempt: int,
    *,
    stream: bool,
    run_id: str | None,
    wait_s: float,
) -> Machine[Reservation | None]:
    """Reserve the attempt's worst case; a refusal is recorded (as an attempt that sent
    nothing) and raised."""
    try:
        held: Reservation | None = yield Reserve(limits, model, request, caller, group, wait_s)
    except (LimitExceededError, LimitsUnavailableError) as err:
        recorder.start(model, request, caller, group, attempt, stream, run_id).refused(err)
        raise
    return held


def model_call(
    recorder: Recorder,
    model: ChatModel,
    request: ChatRequest,
    policy: RetryPolicy,
    *,
    caller: str | None,
    group: str | None = None,
    first_attempt: int = 1,
    run_id: str | None = None,
    wait_s: float = 0.0,
) -> Machine[ChatResponse]:
    """Call one model, retrying retryable failures as ``policy`` allows; with limits, each
    attempt reserves before it is sent and settles when it ends."""
    attempt = first_attempt
    limits = recorder.limits
    limited = limits is not None and limits.active
    held: Reservation | None = None
    entry = model.provider
    entry.acquire()  # a reload closes the entry's clients only after this call
    try:
        yield Prepare(model)
        while True:
            if limited:
                assert limits is not None
                held = yield from _reserve(
                    recorder,
                    limits,
                    model,
                    request,
                    caller,
                    group,
                    attempt,
                    stream=False,
                    run_id=run_id,
                    wait_s=wait_s,
                )
            record = recorder.start(model, request, caller, group, attempt, run_id=run_id)
            try:
                response: ChatResponse = yield Invoke(model, request)
            except BaseException as err:
                if held is not None:
                    assert limits is not None
                    yield Settle(limits, held, None, None, _status(err))
                yield from _after_failure(record, err, policy, attempt, retryable=True)
                attempt += 1
                continue
            response = record.succeeded(response)
            if held is not None:
                assert limits is not None
                yield Settle(limits, held, response.cost_usd, response.usage, "ok")
            return response
    finally:
        entry.release()


def model_stream(
    recorder: Recorder,
    model: ChatModel,
    request: ChatRequest,
    policy: RetryPolicy,
    *,
    caller: str | None,
    group: str | None = None,
    first_attempt: int = 1,
    progress: StreamProgress | None = None,
    run_id: str | None = None,
    wait_s: float = 0.0,
) -> Machine[ChatResponse | None]:
    """Stream one model's answer; retry as ``policy`` allows until the first text is out.

    With limits, each attempt reserves before it starts and settles when it ends, also when
    the consumer stops reading."""
    progress = progress if progress is not None else StreamProgress()
    attempt = first_attempt
    limits = recorder.limits
    limited = limits is not None and limits.active
    held: Reservation | None = None
    entry = model.provider
    entry.acquire()  # a reload closes the entry's clients only after this call
    try:
        yield Prepare(model)
        while True:
            if limited:
                assert limits is not None
                held = yield from _reserve(
                    recorder,
                    limits,
                    model,
                    request,
                    caller,
                    group,
                    attempt,
                    stream=True,
                    run_id=run_id,
                    wait_s=wait_s,
                )
            record = recorder.start(
                model, request, caller, group, attempt, stream=True, run_id=run_id
            )
            parts: list[str] = []
            final: StreamEvent | None = None
            source = model.stream_machine(request)  # the provider's machine, run inside this one
            sent: Any = None
            thrown: BaseException | None = None
            try:
                while True:
                    try:
                        effect = source.throw(thrown) if thrown is not None else source.send(sent)
                    except StopIteration:
                        break
                    thrown = None
                    if type(effect) is Emit:
                        event: StreamEvent = effect.event
                        if event.done:
                            final, sent = event, None
                            continue
                        text = event.text
                        if text:
                            parts.append(text)
                        if not progress.delivered and (text or event.tool_call_delta is not None):
                            record.first_token()
                            progress.delivered = True  # from here on, a failure cannot be retried
                    try:
                        # the provider's I/O, which the driver does; or the event, on to the
                        # consumer (with the read that goes with it)
                        sent = yield effect
                    except BaseException as err:  # handed back to the provider: to map, or to
                        sent, thrown = None, err  # clean up after a consumer that left
            except BaseException as err:
                source.close()
                if held is not None:
                    assert limits is not None
                    yield Settle(limits, held, None, None, _status(err))
                yield from _after_failure(
                    record, err, policy, attempt, retryable=not progress.delivered
                )
                attempt += 1
                continue
            last = record.stream_finished(final, "".join(parts))
            if held is not None:
                assert limits is not None
                yield Settle(limits, held, last.cost_usd, last.usage, "ok")
            progress.latency_ms = last.latency_ms or 0.0
            if request.output is not None:  # the whole answer is in: validate it
                last.output = request.output.validate_json(parse_json_answer(last.full_text or ""))
            yield Emit(last)
            return None
    finally:
        entry.release()


def group_run(
    recorder: Recorder,
    run: GroupCall,
    member: Member,
    *,
    caller: str | None,
    stream: bool = False,
    run_id: str | None = None,
    wait_s: float = 0.0,
) -> Machine[ChatResponse | None]:
    """Run a request through a group: each planned member once per pass, until one answers.

    A stream fails over only until its first text reached the consumer; it returns ``None``.
    A member whose limits refuse the request is skipped (``ChatResponse.skipped`` says why);
    when every member was refused so, the first refusal is raised.
    """
    while (step := run.next_step()) is not None:
        if isinstance(step, Sleep):
            yield Wait(run.group.retry, step.seconds)
            continue
        progress = StreamProgress()
        try:
            model, request = member(step.member)
            attempts = model_stream if stream else model_call
            machine = attempts(
                recorder,
                model,
                request,
                SINGLE_ATTEMPT,
                caller=caller,
                group=run.group.name,
                first_attempt=step.attempt,
                run_id=run_id,
                wait_s=wait_s,
                **({"progress": progress} if stream else {}),
            )
            # ``yield from machine``, but written out: ``yield from`` closes the attempt when the
            # consumer leaves (``GeneratorExit``), and an attempt that is closed cannot yield the
            # effect that closes its stream; thrown in, it can.
            sent: Any = None
            thrown: BaseException | None = None
            while True:
                try:
                    effect = machine.throw(thrown) if thrown is not None else machine.send(sent)
                except StopIteration as stop:
                    response: ChatResponse | None = stop.value
                    break
                try:
                    sent, thrown = (yield effect), None
                except BaseException as err:
                    sent, thrown = None, err
        except LimitExceededError as err:
            run.refused(step.member, err)
            continue
        except ProviderError as err:
            run.failed(step.member, err)
            if progress.delivered:
                raise
            continue
        except BaseException:
            run.aborted(step.member)
            raise
        run.succeeded(step.member, response.latency_ms if response else progress.latency_ms)
        if response is not None and run.skipped:
            response.skipped = dict(run.skipped)
        return response
    if run.refusals and not run.errors:
        raise run.refusals[0]
    raise run.error()
