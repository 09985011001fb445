"""``modelwire ask``: one prompt to one model, a group, or a group made on the spot.

    modelwire ask mini "Hello"
    modelwire ask --providers openai anthropic --provider-strategy failover \\
        --capabilities code:strong reasoning:moderate --task-type code_generation "PROMPT"

With ``--providers`` the command builds a group of one model per provider (the one that best
meets the capabilities or the task's requirements, cheapest among equals) routed by
``--provider-strategy``. With only ``--capabilities`` or ``--task-type`` it routes through
``auto`` (every available model, task-aware). Click options take one value each, so the extra
words after ``--providers`` and ``--capabilities`` arrive as positional words; they are sorted
back by what they look like (a configured provider name; ``name:strength``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelwire.cli.common import build_service, load, money
from modelwire.cli.errors import fail
from modelwire.cli.models_cmd import ConfigOpt

if TYPE_CHECKING:
    from modelwire.registry.model_registry import ModelRegistry
    from modelwire.service.model_service import ModelService

STRATEGIES = ("failover", "round_robin", "weighted", "cost_optimized", "latency", "task_aware")


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


def _sort_words(
    words: list[str], registry: ModelRegistry, providers: list[str], capabilities: list[str]
) -> tuple[str | None, str]:
    """Split positional words into (model, prompt), moving stray provider/capability words."""
    if not words:
        fail("give a prompt")
    *rest, prompt = words
    model: str | None = None
    for word in rest:
        if providers and word in registry.providers:
            providers.append(word)
        elif capabilities and _is_capability(word):
            capabilities.append(word)
        elif model is None:
            model = word
        else:
            fail(f"unexpected argument {word!r} (quote the prompt if it has spaces)")
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
    if model is None:
        return "auto", hints
    return model, hints


def ask(
    words: Annotated[list[str], typer.Argument(help="[MODEL] PROMPT (MODEL: id, alias or group).")],
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
    max_tokens: Annotated[int | None, typer.Option("--max-tokens")] = None,
    temperature: Annotated[float | None, typer.Option("--temperature")] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Ledger URL for this call's usage.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the response as JSON.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Ask a model, a group, or the best match for a task, and print the answer with its
    tokens, cost and latency."""
    if strategy not in STRATEGIES:
        fail(f"--provider-strategy must be one of {', '.join(STRATEGIES)}; got {strategy!r}")
    service = build_service(load(config), db=db)
    providers, capabilities = list(providers or []), list(capabilities or [])
    try:
        model, prompt = _sort_words(list(words), service.registry, providers, capabilities)
        name, hints = _route(service, model, providers, strategy, capabilities, task_type)
        params: dict[str, Any] = {
            "system": system,
            "max_tokens": max_tokens,
            "temperature": temperature,
            **hints,
        }
        try:
            if stream and not as_json:
                _stream(service, name, prompt, params)
                return
            resp = service.invoke_model(name, prompt, **params)
        except TypeError as exc:  # routing hints given to a plain model
            fail(f"{exc}; --capabilities/--task-type need a group, --providers or no MODEL")
    finally:
        service.close()
    if as_json:
        typer.echo(resp.model_dump_json(indent=2))
        return
    typer.echo(resp.text)
    _footer(
        resp.model_id,
        resp.usage.input_tokens,
        resp.usage.output_tokens,
        money(resp.cost_usd),
        resp.latency_ms,
    )


def _stream(service: ModelService, name: str, prompt: str, params: dict[str, Any]) -> None:
    final = None
    for event in service.stream_model(name, prompt, **params):
        if event.done:
            final = event
        else:
            typer.echo(event.text, nl=False)
    typer.echo()
    if final is not None and final.usage is not None:
        _footer(
            final.model_id or name,
            final.usage.input_tokens,
            final.usage.output_tokens,
            money(final.cost_usd),
            final.latency_ms or 0,
        )


def _footer(model_id: str, tin: int, tout: int, cost: str, latency_ms: float) -> None:
    import sys

    from rich.console import Console

    sys.stdout.flush()
    Console(stderr=True).print(
        f"[dim]{model_id} · {tin} in / {tout} out tokens · {cost} · {latency_ms:.0f} ms[/]",
        highlight=False,
    )
