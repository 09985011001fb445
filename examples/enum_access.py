"""Access style 2: ``ModelEnum`` — catalog models as string enum members (IDE completion).

python examples/enum_access.py
"""

from __future__ import annotations

from _setup import demo_service

from modelwire import ModelEnum


def main() -> None:
    service = demo_service()
    for member in (
        ModelEnum.OPENAI_GPT_4O_MINI,
        ModelEnum.ANTHROPIC_CLAUDE_HAIKU_4_5,
        ModelEnum.GOOGLE_GEMINI_2_5_FLASH,
    ):
        resp = service(member, "One sentence about enums, please.")
        assert resp.model_id == member  # members are plain strings
        print(f"{member.name:32} {resp.model_id:30} ${resp.cost_usd}")


if __name__ == "__main__":
    main()
