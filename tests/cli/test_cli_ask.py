"""``modelwire ask``: which model it calls, where the prompt comes from, -o, --caller, --json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modelwire.cli.app import app
from modelwire.cli.ask_cmd import parse_options
from modelwire.providers.mock import MockChatModel
from modelwire.types import ChatRequest, ChatResponse
from modelwire.usage.ledger import UsageLedger

runner = CliRunner(env={"COLUMNS": "100"})


def write_config(tmp_path: Path, default_model: str | None = None) -> Path:
    path = tmp_path / "modelwire.yaml"
    path.write_text(
        "providers:\n"
        "  mock: {type: mock, seed: 3}\n"
        "models:\n"
        "  mock:alpha: {aliases: [alpha]}\n"
        "  mock:beta: {}\n"
        f"usage: {{database: '{tmp_path / 'usage.db'}', store_prompts: true}}\n"
        + (f"default_model: {default_model}\n" if default_model else "")
    )
    return path


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ChatRequest]]:
    """Every request the mock models receive."""
    seen: list[ChatRequest] = []
    original = MockChatModel.invoke

    def invoke(self: MockChatModel, request: ChatRequest) -> ChatResponse:
        seen.append(request)
        return original(self, request)

    monkeypatch.setattr(MockChatModel, "invoke", invoke)
    yield seen


def ask(config: Path, *args: str, stdin: str | None = None) -> Any:
    result = runner.invoke(app, ["ask", "-c", str(config), "--json", *args], input=stdin)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def ledger_rows(tmp_path: Path) -> list[Any]:
    with UsageLedger(tmp_path / "usage.db") as ledger:
        return list(ledger.records())


def test_model_positional_or_option(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    assert ask(config, "mock:beta", "hi")["model_id"] == "mock:beta"
    assert ask(config, "-m", "alpha", "hi")["model_id"] == "mock:alpha"
    assert ask(config, "hi", "--model", "mock:beta")["model_id"] == "mock:beta"


def test_default_model_from_configuration_or_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ask(write_config(tmp_path, "mock:beta"), "hi")["model_id"] == "mock:beta"
    monkeypatch.setenv("MODELWIRE_DEFAULT_MODEL", "alpha")
    assert ask(write_config(tmp_path), "hi")["model_id"] == "mock:alpha"
    # a model that is given wins over the default
    assert ask(write_config(tmp_path), "mock:beta", "hi")["model_id"] == "mock:beta"


def test_no_model_and_no_default_says_how_to_choose(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", "-c", str(write_config(tmp_path)), "hi"])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "no model chosen" in line and "default_model" in line and "-m MODEL" in line
    assert ledger_rows(tmp_path) == []  # nothing was routed anywhere


def test_prompt_from_stdin(tmp_path: Path, requests: list[ChatRequest]) -> None:
    config = write_config(tmp_path)
    assert ask(config, "alpha", stdin="piped prompt\n")["model_id"] == "mock:alpha"
    assert ask(config, "-m", "mock:beta", stdin="second piped")["model_id"] == "mock:beta"
    assert [r.messages[-1].content for r in requests] == ["piped prompt\n", "second piped"]
    # a word that names no model is the prompt, whatever is piped
    body = ask(write_config(tmp_path, "alpha"), "hello", stdin="ignored")
    assert body["model_id"] == "mock:alpha" and requests[-1].messages[-1].content == "hello"


@pytest.mark.parametrize("stdin", [None, "", "  \n"])
def test_model_without_prompt_is_one_line_error(tmp_path: Path, stdin: str | None) -> None:
    result = runner.invoke(
        app, ["ask", "-c", str(write_config(tmp_path)), "mock:alpha"], input=stdin
    )
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: no prompt: give one after the model (quote it), or pipe it on stdin"
    ]


def test_options_and_caller_reach_the_request_and_the_ledger(
    tmp_path: Path, requests: list[ChatRequest]
) -> None:
    config = write_config(tmp_path)
    ask(
        config,
        "alpha",
        "hi",
        "--caller",
        "nightly-report",
        "-o",
        "top_p=0.5",
        "-o",
        'stop=["END"]',
        "-o",
        "reasoning_effort=low",
        "-o",
        'metadata={"team": "data"}',
        "-o",
        "label=007",
        "-o",
        "n=42",
    )
    (request,) = requests
    assert request.top_p == 0.5 and request.stop == ("END",)
    assert dict(request.provider_params) == {
        "reasoning_effort": "low",
        "metadata": {"team": "data"},
        "label": "007",  # not JSON (a leading zero): kept as written
        "n": 42,
    }
    (row,) = ledger_rows(tmp_path)
    assert row.caller == "nightly-report" and row.prompt == "user: hi"


def test_parse_options() -> None:
    assert parse_options(["a=1", "b=x y", "c=", "d=[1, 2]", "e=a=b", "f=null"]) == {
        "a": 1,
        "b": "x y",
        "c": "",
        "d": [1, 2],
        "e": "a=b",
        "f": None,
    }


def test_json_shape(tmp_path: Path) -> None:
    body = ask(write_config(tmp_path), "mock:gpt-4o-mini", "hi")
    assert set(body) >= {"text", "model_id", "usage", "cost_usd", "latency_ms", "request_id"}
    assert isinstance(body["cost_usd"], str) and float(body["cost_usd"]) > 0
    assert body["usage"]["input_tokens"] > 0 and body["request_id"].startswith("mock-")
    unpriced = ask(write_config(tmp_path), "alpha", "hi")
    assert unpriced["cost_usd"] is None
    streamed = ask(write_config(tmp_path), "alpha", "hi", "--stream")
    assert streamed["text"] == unpriced["text"] and streamed["ttft_ms"] is not None


def test_version_and_completion(monkeypatch: pytest.MonkeyPatch) -> None:
    import typer.completion

    from modelwire import __version__

    # typer finds the shell from the process tree; under xdist or a service manager there may be none
    monkeypatch.setattr(typer.completion, "_get_shell_name", lambda: "bash")

    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and version.stdout.strip() == f"modelwire {__version__}"
    helped = runner.invoke(app, ["--help"])
    assert "--install-completion" in helped.stdout and "--show-completion" in helped.stdout
    script = runner.invoke(app, ["--show-completion", "bash"])
    assert script.exit_code == 0 and "complete" in script.stdout
