"""``modelwire ask``: one prompt to one model, a group, or a group made on the spot.

    modelwire ask mini "Hello"
    modelwire ask -m mini "Hello"
    echo "Hello" | modelwire ask mini
    modelwire ask "Hello"                      # the configured default_model
    modelwire ask --providers openai anthropic --provider-strategy failover \\
        --capabilities code:strong reasoning:moderate --task-type code_generation "PROMPT"
    modelwire ask mini --schema city.schema.json "The largest city of Japan?"
    modelwire ask mini --schema myapp.models:City --output-retries 1 "The largest city of Japan?"
    modelwire ask mini --image cat.png --image https://example.com/dog.jpg "Which is cuter?"

The model is the one given (``-m/--model``, or the first of two words), else ``default_model``
(configuration or ``MODELWIRE_DEFAULT_MODEL``). A single word that names a model, alias or group
is the model, and the prompt is read from stdin; with no prompt word the prompt is always read
from stdin. With ``--providers`` the command builds a group of one model per provider (the one
that best meets the capabilities or the task's requirements, cheapest among equals) routed by
``--provider-strategy``. With only ``--capabilities`` or ``--task-type`` it routes through
``auto`` (every available model, task-aware). Click options take one value each, so the extra
words after ``--providers`` and ``--capabilities`` arrive as positional words; they are sorted
back by what they look like (a configured provider name; ``name:strength``).

With ``--schema`` the answer is validated as that type (``output=``) and printed as JSON: indented
on a terminal, one line when piped; ``--json`` adds it as ``output`` to the usual metadata.
``--image`` attaches images to the prompt (see ``cli/ask_inputs.py``).
"""

from __future__ import annotations

import json
import math
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelwire.cli.ask_inputs import jsonable, load_images, load_schema
from modelwire.cli.common import build_service, load, money
from modelwire.cli.errors import fail, validation_error
from modelwire.cli.models_cmd import ConfigOpt

if TYPE_CHECKING:
    from modelwire.registry import ModelRegistry
    from modelwire.service import ModelService
    from modelwire.service.requests import Prompt
    from modelwire.types import ChatResponse, StreamEvent

OUTPUT_MODES = ("auto", "native", "tool", "prompted")
STRATEGIES = ("failover", "round_robin", "weighted", "cost_optimized", "latency", "task_aware")

NO_MODEL = (
    "no model chosen: name one (modelwire ask MODEL PROMPT, or -m MODEL), or set default_model "
    "in the configuration or MODELWIRE_DEFAULT_MODEL; modelwire models lists them"
)
#: ``-o`` keys that are fields of the request itself rather than provider parameters.
REQUEST_FIELDS = ("top_p", "stop", "seed", "timeout")
NO_PROMPT = "no prompt: give one after the model (quote it), or pipe it on stdin"


def _is_capability(word: str) -> bool:
    from modelwire.capabilities import CapabilityStrength

    name, sep, strength = word.partition(":")
    if not sep or not name.isidentifier():
        return False
    try:
        CapabilityStrength.parse(strength)
    except ValueError:
        return False
    return True


def _names_a_model(service: ModelService, word: str) -> bool:
    """True when ``word`` is a group, a registered model or alias, or an id a provider takes."""
    from modelwire.errors import ModelNotFoundError

    if service.groups.get(word) is not None:
        return True
    try:
        service.registry.get_model_info(word)
    except (ModelNotFoundError, ValueError):
        return False
    return True


def _sort_words(
    words: list[str], registry: ModelRegistry, providers: list[str], capabilities: list[str]
) -> list[str]:
    """The positional words left after moving stray provider and capability words back."""
    left: list[str] = []
    for word in words:
        if providers and word in registry.providers:
            providers.append(word)
        elif capabilities and _is_capability(word):
            capabilities.append(word)
        else:
            left.append(word)
    return left


def _read_stdin() -> str | None:
    """The prompt piped on stdin, or ``None`` (a terminal, or nothing piped)."""
    stream = sys.stdin
    if stream is None or stream.isatty():
        return None
    text = stream.read()
    return text if text.strip() else None


def _model_and_prompt(
    service: ModelService, words: list[str], model: str | None
) -> tuple[str | None, str]:
    """Split the positional words into (model, prompt), reading stdin when no prompt is given."""
    if len(words) > 2 or (model is not None and len(words) > 1):
        extra = words[1] if model is None else words[0]
        fail(f"unexpected argument {extra!r} (quote the prompt if it has spaces)")
    if len(words) == 2:
        return words[0], words[1]
    if len(words) == 1 and (model is not None or not _names_a_model(service, words[0])):
        return model, words[0]
    if words:
        model = words[0]
    prompt = _read_stdin()
    if prompt is None:
        fail(NO_PROMPT if model is not None else f"{NO_PROMPT} (modelwire ask [MODEL] PROMPT)")
    return model, prompt


def _member_for(registry: ModelRegistry, provider: str, needs: dict[str, Any], task: Any) -> str:
    from modelwire.routing.tasks import capability_match, task_requirements

    candidates = [i for i in registry.list_models(provider) if i.available]
    if not candidates:
        fail(f"provider {provider!r} has no registered models (configure some, or run discover)")
    wanted = {**(task_requirements(task) if task is not None else {}), **needs}

    def rank(info: Any) -> tuple[Any, ...]:
        coverage, surplus = capability_match(info.capabilities, wanted) if wanted else (1.0, 0)
        price = info.cost.input_per_mtok if info.cost and info.cost.input_per_mtok else None
        return (-coverage, price is None, price or 0, -surplus, info.id)

    return min(candidates, key=rank).id


def _route(
    service: ModelService,
    model: str | None,
    providers: list[str],
    strategy: str,
    capabilities: list[str],
    task_type: str | None,
) -> tuple[str, dict[str, Any]]:
    """The name to call and the routing hints to pass."""
    from modelwire.routing.tasks import parse_task_type
    from modelwire.service.groups import parse_capabilities

    try:
        needs = parse_capabilities(capabilities)
        task = parse_task_type(task_type) if task_type else None
    except ValueError as exc:
        fail(str(exc))
    hints: dict[str, Any] = {}
    if needs:
        hints["capabilities"] = needs
    if task is not None:
        hints["task_type"] = task
    if providers:
        if model is not None:
            fail("give either a MODEL or --providers, not both")
        from modelwire.routing.group import ModelGroup

        registry = service.registry
        for p in providers:
            registry.provider(p)  # unknown providers fail with suggestions
        members = list(dict.fromkeys(_member_for(registry, p, needs, task) for p in providers))
        service.groups.add(
            ModelGroup("cli", members, strategy=strategy, retry=registry.config.retry), replace=True
        )
        return "cli", hints
    if model is not None:
        return model, hints
    if hints:
        return "auto", hints
    if service.default_model:
        return str(service.default_model), hints
    fail(NO_MODEL)


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """``-o key=value`` pairs: a value that parses as JSON is used as such (``-o seed=7``,
    ``-o 'stop=["\\n"]'``), any other value as a string."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            fail(f"-o/--option takes key=value; got {pair!r}")
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw
    return params


def ask(
    words: Annotated[
        list[str] | None,
        typer.Argument(
            help="[MODEL] PROMPT (MODEL: id, alias or group). With no PROMPT, it is read from "
            "stdin."
        ),
    ] = None,
    model_option: Annotated[
        str | None,
        typer.Option("--model", "-m", help="The model, alias or group (default: default_model)."),
    ] = None,
    providers: Annotated[
        list[str] | None,
        typer.Option("--providers", help="Route across these providers' best models."),
    ] = None,
    strategy: Annotated[
        str, typer.Option("--provider-strategy", help=f"One of: {', '.join(STRATEGIES)}.")
    ] = "failover",
    capabilities: Annotated[
        list[str] | None,
        typer.Option("--capabilities", help="Required capabilities, name:strength."),
    ] = None,
    task_type: Annotated[
        str | None, typer.Option("--task-type", help="e.g. code_generation, creative_writing.")
    ] = None,
    stream: Annotated[bool, typer.Option("--stream", help="Print text as it arrives.")] = False,
    system: Annotated[str | None, typer.Option("--system", help="System prompt.")] = None,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", min=1, help="Most tokens to generate.")
    ] = None,
    temperature: Annotated[
        float | None, typer.Option("--temperature", min=0.0, help="Sampling temperature.")
    ] = None,
    options: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            "-o",
            help="Parameter key=value (repeatable; JSON values are parsed): top_p, stop, seed, "
            "timeout, or any provider parameter.",
        ),
    ] = None,
    caller: Annotated[
        str | None, typer.Option("--caller", help="Caller name recorded in the ledger.")
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Ledger URL for this call's usage.")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the response as JSON (text, model_id, usage, cost_usd, latency_ms, "
            "request_id; output with --schema).",
        ),
    ] = False,
    schema: Annotated[
        str | None,
        typer.Option(
            "--schema",
            help="Ask for structured output: a JSON-schema file, or module:Name (a pydantic "
            "model). Prints the validated answer as JSON.",
        ),
    ] = None,
    output_mode: Annotated[
        str | None,
        typer.Option(
            "--output-mode", help=f"With --schema, how to ask: {', '.join(OUTPUT_MODES)}."
        ),
    ] = None,
    output_retries: Annotated[
        int | None,
        typer.Option(
            "--output-retries", min=0, help="With --schema, ask again this often when invalid."
        ),
    ] = None,
    images: Annotated[
        list[str] | None,
        typer.Option("--image", help="Attach an image: a file or an http(s) URL (repeatable)."),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Ask a model, a group, or the best match for a task, and print the answer with its
    tokens, cost and latency.

    The model is -m/--model or the first of two words, else default_model (configuration or
    MODELWIRE_DEFAULT_MODEL). A single word that names a model takes the prompt from stdin
    (echo "Hello" | modelwire ask mini); with no words at all the prompt is read from stdin.

    --schema asks for structured output and prints the validated answer as JSON
    (modelwire ask mini --schema myapp.models:City "The largest city?"); --image attaches
    images to the prompt (modelwire ask mini --image cat.png "What is this?").
    """
    if strategy not in STRATEGIES:
        fail(f"--provider-strategy must be one of {', '.join(STRATEGIES)}; got {strategy!r}")
    if temperature is not None and not math.isfinite(temperature):
        fail(f"--temperature must be a finite number >= 0; got {temperature}")
    from pydantic import ValidationError

    from modelwire.errors import OutputValidationError, UnsupportedFeatureError

    output = _output_params(schema, output_mode, output_retries, stream)
    attached = load_images(list(images or []))
    provider_params = parse_options(list(options or []))
    service = build_service(load(config), db=db)
    providers, capabilities = list(providers or []), list(capabilities or [])
    try:
        left = _sort_words(list(words or []), service.registry, providers, capabilities)
        model, text = _model_and_prompt(service, left, model_option)
        prompt = _with_images(text, attached)
        name, hints = _route(service, model, providers, strategy, capabilities, task_type)
        params: dict[str, Any] = {
            "system": system,
            "max_tokens": max_tokens,
            "temperature": temperature,
            **output,
            **hints,
        }
        for key in [k for k in provider_params if k in REQUEST_FIELDS]:
            params[key] = provider_params.pop(key)  # -o top_p=0.9 is the request's own field
        if provider_params:
            params["provider_params"] = provider_params
        try:
            if stream:
                echo = not as_json and not output
                final = _stream(service, name, prompt, caller, params, echo=echo)
                if as_json:
                    typer.echo(json.dumps(_stream_json(final, name, bool(output)), indent=2))
                elif output:
                    _print_output(final[1].output if final[1] is not None else None)
                    _stream_footer(final[1], name)
                return
            from modelwire.cli.progress import spinner

            with spinner(f"asking {name}", enabled=not as_json):
                resp = service.invoke_model(name, prompt, caller=caller, **params)
        except TypeError as exc:  # routing hints given to a plain model
            fail(f"{exc}; --capabilities/--task-type need a group, --providers or no MODEL")
        except ValidationError as exc:  # a request field out of range (-o top_p=7)
            fail(validation_error(exc))
        except OutputValidationError as exc:
            fail(f"{exc}; the answer was: {_shorten(exc.raw_text)}")
        except UnsupportedFeatureError as exc:  # --image for a model without images
            fail(str(exc))
    finally:
        service.close()
    if as_json:
        typer.echo(json.dumps(response_json(resp, structured=bool(output)), indent=2))
        return
    if output:
        _print_output(resp.output)
    else:
        typer.echo(resp.text)
    _footer(
        resp.model_id,
        resp.usage.input_tokens,
        resp.usage.output_tokens,
        money(resp.cost_usd),
        resp.latency_ms,
    )


def _output_params(
    schema: str | None, mode: str | None, retries: int | None, stream: bool
) -> dict[str, Any]:
    """The ``output=`` parameters ``--schema``, ``--output-mode`` and ``--output-retries`` ask
    for (nothing without ``--schema``)."""
    if schema is None:
        if mode is not None or retries is not None:
            fail("--output-mode and --output-retries need --schema")
        return {}
    if mode is not None and mode not in OUTPUT_MODES:
        fail(f"--output-mode must be one of {', '.join(OUTPUT_MODES)}; got {mode!r}")
    if retries and stream:
        fail("--output-retries does not work with --stream (a stream cannot ask again)")
    params: dict[str, Any] = {"output": load_schema(schema)}
    if mode is not None:
        params["output_mode"] = mode
    if retries:
        params["output_retries"] = retries
    return params


def _with_images(text: str, images: tuple[Any, ...]) -> Prompt:
    """The prompt: the text, or a user message of the text and the images."""
    if not images:
        return text
    from modelwire.content import TextPart
    from modelwire.types import Message

    return Message(role="user", content=(TextPart(text=text), *images))


def _shorten(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 3] + "...")


def _print_output(value: Any) -> None:
    """The validated output as JSON: indented on a terminal, one line when piped."""
    pretty = sys.stdout.isatty()
    typer.echo(
        json.dumps(
            jsonable(value),
            indent=2 if pretty else None,
            ensure_ascii=False,
            separators=None if pretty else (",", ":"),
        )
    )


def response_json(resp: ChatResponse, *, structured: bool = False) -> dict[str, Any]:
    """What ``ask --json`` prints: the answer, its usage, cost (a string; ``null`` when
    unpriced), latency and the provider's request id; with ``structured`` the validated
    ``output`` and how it was asked for."""
    extra: dict[str, Any] = {}
    if structured:
        extra = {
            "output": jsonable(resp.output),
            "output_mode": resp.output_mode,
            "output_fallback": resp.output_fallback,
        }
    return {
        "text": resp.text,
        "model_id": resp.model_id,
        "usage": resp.usage.model_dump(),
        "cost_usd": None if resp.cost_usd is None else str(resp.cost_usd),
        "latency_ms": resp.latency_ms,
        "request_id": resp.request_id,
        "finish_reason": resp.finish_reason,
        "attempts": resp.attempts,
        **extra,
    }


def _stream_json(
    final: tuple[str, StreamEvent | None], name: str, structured: bool = False
) -> dict[str, Any]:
    text, event = final
    if event is None:
        return {"text": text, "model_id": name}
    extra: dict[str, Any] = {}
    if structured:
        extra = {"output": jsonable(event.output), "output_mode": event.output_mode}
    return {
        "text": text,
        "model_id": event.model_id or name,
        "usage": event.usage.model_dump() if event.usage is not None else None,
        "cost_usd": None if event.cost_usd is None else str(event.cost_usd),
        "latency_ms": event.latency_ms,
        "ttft_ms": event.ttft_ms,
        "request_id": event.request_id,
        "finish_reason": event.finish_reason,
        **extra,
    }


def _stream(
    service: ModelService,
    name: str,
    prompt: Prompt,
    caller: str | None,
    params: dict[str, Any],
    *,
    echo: bool,
) -> tuple[str, StreamEvent | None]:
    """Print (when ``echo``) the text as it arrives; return it with the final event."""
    final = None
    parts: list[str] = []
    for event in service.stream_model(name, prompt, caller=caller, **params):
        if event.done:
            final = event
        else:
            parts.append(event.text)
            if echo:
                typer.echo(event.text, nl=False)
    if not echo:
        return "".join(parts), final
    typer.echo()
    _stream_footer(final, name)
    return "".join(parts), final


def _stream_footer(final: StreamEvent | None, name: str) -> None:
    if final is not None and final.usage is not None:
        _footer(
            final.model_id or name,
            final.usage.input_tokens,
            final.usage.output_tokens,
            money(final.cost_usd),
            final.latency_ms or 0,
        )


def _footer(model_id: str, tin: int, tout: int, cost: str, latency_ms: float) -> None:
    from rich.console import Console

    sys.stdout.flush()
    Console(stderr=True).print(
        f"[dim]{model_id} · {tin} in / {tout} out tokens · {cost} · {latency_ms:.0f} ms[/]",
        highlight=False,
    )
