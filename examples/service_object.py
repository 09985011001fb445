"""Access style 1: the service object — plain, streaming, async and batch calls.

python examples/service_object.py
"""

from __future__ import annotations

import asyncio

from _setup import demo_service


def main() -> None:
    service = demo_service()
    resp = service.invoke_model("openai:gpt-4o-mini", "Hello", max_tokens=50, temperature=0)
    print(f"{resp.model_id}: {resp.text!r}")
    print(
        f"  tokens {resp.usage.input_tokens} in / {resp.usage.output_tokens} out, "
        f"cost ${resp.cost_usd}, {resp.latency_ms:.1f} ms"
    )

    print("stream:", end=" ")
    for event in service.stream_model("mini", "Tell me a story"):
        print(event.text, end="" if not event.done else f"\n  done: ${event.cost_usd}\n")

    results = service.invoke_batch("mini", [f"question {i}" for i in range(5)], max_concurrency=3)
    print("batch:", [r.ok for r in results])

    answer = asyncio.run(service.ainvoke_model("anthropic:claude-sonnet-4-5", "Hi from asyncio"))
    print("async:", answer.model_id, answer.cost_usd)

    terse = service.bind("mini").temperature(0).max_tokens(20).system("Be terse.")
    print("bound:", terse("What is modelwire?").text)


if __name__ == "__main__":
    main()
