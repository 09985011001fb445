"""``modelwire ask --schema`` (structured output) and ``--image`` (images in the prompt)."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from modelwire.cli.app import app
from modelwire.content import ImagePart, TextPart
from modelwire.providers.base import ChatModel, ProviderContext
from modelwire.providers.factory import ModelFactory
from modelwire.types import ChatRequest, ChatResponse, ModelInfo, StreamEvent, Usage

runner = CliRunner(env={"COLUMNS": "100"})

CITY_MODULE = '''
from pydantic import BaseModel, Field


class City(BaseModel):
    """A city."""

    name: str
    population: int = Field(ge=0)


NOT_A_TYPE = 42
'''


class Answers(ChatModel):
    """Answers with the next text of ``QUEUE``; keeps every request."""

    QUEUE: ClassVar[list[str]] = []
    SEEN: ClassVar[list[ChatRequest]] = []

    def send(self, request: ChatRequest) -> ChatResponse:
        Answers.SEEN.append(request)
        text = Answers.QUEUE.pop(0) if Answers.QUEUE else "plain words"
        mode = "prompted" if request.output is not None else None
        return ChatResponse(
            text=text,
            model_id=self.info.id,
            usage=Usage(input_tokens=10, output_tokens=5),
            output_mode=mode,
            finish_reason="stop",
        )

    async def asend(self, request: ChatRequest) -> ChatResponse:
        return self.send(request)

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        response = self.send(request)
        yield StreamEvent(text=response.text[:5])
        yield StreamEvent(text=response.text[5:])
        yield StreamEvent(
            done=True, model_id=self.info.id, usage=response.usage, finish_reason="stop"
        )

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        for event in self.stream(request):
            yield event

    @classmethod
    def list_models(cls, provider: ProviderContext) -> list[ModelInfo]:
        return []


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A configuration of the ``answers`` provider (and the mock); the directory is the cwd,
    holding ``cities.py`` and ``city.json``."""
    ModelFactory.register_provider("answers", Answers)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cities.py").write_text(CITY_MODULE)
    schema = {
        "title": "Place",
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
    }
    (tmp_path / "city.json").write_text(json.dumps(schema))
    path = tmp_path / "modelwire.yaml"
    path.write_text(
        "providers:\n"
        "  a: {type: answers}\n"
        "  mock: {type: mock}\n"
        "models:\n"
        "  a:m: {}\n"
        "  mock:o3-mini: {}\n"
        f"usage: {{database: '{tmp_path / 'usage.db'}'}}\n"
    )
    try:
        yield path
    finally:
        ModelFactory.unregister_provider("answers")
        Answers.QUEUE.clear()
        Answers.SEEN.clear()


def ask(config: Path, *args: str) -> Any:
    return runner.invoke(app, ["ask", "-c", str(config), "a:m", *args])


def test_schema_from_a_module_prints_the_validated_json(config: Path) -> None:
    Answers.QUEUE.append('```json\n{"name": "Tokyo", "population": 14000000}\n```')
    result = ask(config, "--schema", "cities:City", "Largest city?")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"name": "Tokyo", "population": 14000000}
    assert result.stdout.strip() == '{"name":"Tokyo","population":14000000}'  # piped: compact
    (request,) = Answers.SEEN
    assert request.output is not None and request.output.name == "City"
    assert request.output_mode == "auto"


def test_schema_from_a_file_with_mode_and_retries_and_json(config: Path) -> None:
    Answers.QUEUE += ["Kyoto, I think", '{"name": "Kyoto"}']
    result = ask(
        config,
        "--schema",
        "city.json",
        "--output-mode",
        "prompted",
        "--output-retries",
        "1",
        "--json",
        "A city?",
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["output"] == {"name": "Kyoto"} and body["text"] == '{"name": "Kyoto"}'
    assert body["output_mode"] == "prompted" and body["output_fallback"] is None
    assert body["model_id"] == "a:m" and body["usage"]["input_tokens"] == 10
    assert [r.output_mode for r in Answers.SEEN] == ["prompted", "prompted"]


def test_stream_prints_the_final_json(config: Path) -> None:
    Answers.QUEUE += ['{"name": "Osaka", "population": 2}', '{"name": "Nara", "population": 1}']
    result = ask(config, "--schema", "cities:City", "--stream", "A city?")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"name": "Osaka", "population": 2}
    result = ask(config, "--schema", "cities:City", "--stream", "--json", "A city?")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["output"] == {"name": "Nara", "population": 1}
    assert body["text"] == '{"name": "Nara", "population": 1}'


def test_invalid_output_is_one_line_with_the_answer(config: Path) -> None:
    Answers.QUEUE.append('{"name": "X", "population": -1}')
    result = ask(config, "--schema", "cities:City", "A city?")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "population" in lines[0] and '"X"' in lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--schema", "nowhere.json"], "no such file"),
        (["--schema", "no_such_module_xyz:City"], "cannot import module 'no_such_module_xyz'"),
        (["--schema", "cities:Town"], "has no attribute 'Town'"),
        (["--schema", "cities:NOT_A_TYPE"], "is not a type pydantic can validate"),
        (["--schema", "cities"], "no such file"),
        (["--schema", "modelwire.yaml"], "not valid JSON"),
        (["--schema", "cities:City", "--output-mode", "magic"], "--output-mode must be one of"),
        (["--output-mode", "tool"], "need --schema"),
        (["--output-retries", "2"], "need --schema"),
        (["--schema", "cities:City", "--stream", "--output-retries", "1"], "--stream"),
    ],
)
def test_bad_schema_arguments_are_one_line(config: Path, args: list[str], message: str) -> None:
    result = ask(config, *args, "A city?")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.output and not Answers.SEEN


def png_bytes() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_images_are_attached_to_the_prompt(config: Path, tmp_path: Path) -> None:
    (tmp_path / "dot.png").write_bytes(png_bytes())
    result = ask(
        config, "--image", "dot.png", "--image", "https://example.com/a.jpg", "What is it?"
    )
    assert result.exit_code == 0, result.output
    (request,) = Answers.SEEN
    (message,) = request.messages
    assert message.role == "user"
    text, image, url = message.content
    assert text == TextPart(text="What is it?")
    assert isinstance(image, ImagePart) and image.media_type == "image/png"
    assert image.data == png_bytes()
    assert isinstance(url, ImagePart) and url.url == "https://example.com/a.jpg"


def test_images_and_schema_together(config: Path, tmp_path: Path) -> None:
    (tmp_path / "dot.png").write_bytes(png_bytes())
    Answers.QUEUE.append('{"name": "dot"}')
    result = ask(config, "--image", "dot.png", "--schema", "city.json", "Name it")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"name": "dot"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.png", None, "no such file"),
        ("notes.txt", b"hello, not an image", "unsupported image type 'text/plain'"),
        ("blob", b"\x00\x01 unknown bytes", "not given and not recognised"),
        ("doc.pdf", b"%PDF-1.4 a document", "unsupported image type 'application/pdf'"),
    ],
)
def test_bad_images_are_one_line(
    config: Path, tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    if content is not None:
        (tmp_path / name).write_bytes(content)
    result = ask(config, "--image", name, "What is it?")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and name in lines[0], result.stderr


def test_an_image_for_a_model_without_images_fails_before_calling(
    config: Path, tmp_path: Path
) -> None:
    (tmp_path / "dot.png").write_bytes(png_bytes())
    result = runner.invoke(
        app, ["ask", "-c", str(config), "mock:o3-mini", "--image", "dot.png", "What is it?"]
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not take images" in lines[0], result.stderr


def test_output_is_indented_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from modelwire.cli import ask_cmd

    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    ask_cmd._print_output({"name": "Tōkyō", "tags": [1]})
    assert capsys.readouterr().out == '{\n  "name": "Tōkyō",\n  "tags": [\n    1\n  ]\n}\n'
