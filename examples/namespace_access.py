"""Access style 3: the ``models`` namespace — ``models.<provider>.<model>(prompt)``.

Dots and dashes in model names become underscores: ``gemini-2.5-flash`` is ``gemini_2_5_flash``.
The namespace calls through the default service; here we install our mock-backed one.

    python examples/namespace_access.py
"""

from __future__ import annotations

from _setup import demo_service

from modelwire import models, set_default_service


def main() -> None:
    set_default_service(demo_service())
    print(models.openai.gpt_4o_mini("Hello").text)
    print(models.anthropic.claude_sonnet_4_5.max_tokens(10)("Hello").usage)
    for event in models.google.gemini_2_5_flash.stream("Stream, please"):
        if event.done:
            print(f"\n{event.model_id}: ${event.cost_usd}")
        else:
            print(event.text, end="")


if __name__ == "__main__":
    main()
