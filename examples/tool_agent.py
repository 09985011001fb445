"""An agent with tools: the model asks for tools, modelwire runs them (plain and ``async def``
functions), sends their results back, and returns the final answer with the whole history.

Runs without keys: the mock provider answers with tool calls whose arguments fit each tool's
schema, then with text that quotes the results. Point ``MODEL`` at a real model (and set its key)
to run the same agent against it.

python examples/tool_agent.py
"""

from __future__ import annotations

import asyncio
from typing import Literal

from _setup import demo_service

from modelwire import ImagePart, InMemoryUsageSink, Message

MODEL = "openai:gpt-4o-mini"


def get_weather(city: str, unit: Literal["c", "f"] = "c") -> str:
    """Current weather for a city.

    Args:
        city: The city's name, in English.
        unit: Celsius or Fahrenheit.
    """
    return f"18 {unit.upper()} and sunny in {city}"


async def local_time(city: str) -> str:
    """The local time in a city."""
    await asyncio.sleep(0)  # an async tool: awaited by arun_tools, run on a fresh loop by run_tools
    return f"14:05 in {city}"


def main() -> None:
    sink = InMemoryUsageSink()
    service = demo_service(sink)

    # 1. the loop, blocking: every round is one ledger attempt, all sharing the run's id
    run = service.run_tools(
        MODEL, "What's the weather in Lisbon?", tools=[get_weather], max_rounds=4
    )
    print("answer:", run.response.text)
    print("history:", " → ".join(m.role for m in run.messages))
    print(f"{run.rounds} rounds, run {run.run_id[:8]}…, ledger rows {len(sink.events)}")

    # 2. the same on asyncio, two tools the model may call in parallel
    run = asyncio.run(
        service.arun_tools(
            MODEL,
            "Weather and time in Oslo?",
            tools=[get_weather, local_time],
            parallel_tool_calls=True,
        )
    )
    calls = [c.name for c in run.responses[0].tool_calls]
    print("asked for, in one turn:", calls, "→", run.response.text)

    # 3. by hand: a tool call, its result appended as a "tool" message, the next turn
    question = Message(role="user", content="Weather in Paris?")
    first = service.invoke_model(MODEL, question, tools=[get_weather], tool_choice="required")
    (call,) = first.tool_calls[:1]
    print(f"the model called {call.name}({call.arguments}) with id {call.id}")

    # 4. images go in a message's parts (a 1×1 PNG here; ImagePart.from_path("cat.png") reads a file)
    pixel = bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d4944415478da63f8cf00000301010018dd8db40000000049454e44ae426082"
    )
    look = Message(role="user", content=["What is in this picture?", ImagePart.from_bytes(pixel)])
    print("with an image:", service.invoke_model(MODEL, look).text[:60], "…")
    service.close()


if __name__ == "__main__":
    main()
