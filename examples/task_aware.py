"""Task-aware selection: the prompt's task picks the model whose capabilities fit, cheapest first.

``detect_task_type`` guesses the task from the prompt (keywords and patterns, no model call);
a ``task_aware`` group ranks its members by how well their catalog capabilities cover the task's
requirements, then by the estimated cost of this request. ``"auto"`` is the same over every
registered model. Hints override the guess: ``task_type=`` or ``capabilities=``.

python examples/task_aware.py
"""

from __future__ import annotations

from _setup import mock_service

from modelwire import detect_task_type
from modelwire.routing.tasks import task_requirements

MEMBERS = [
    "openai:gpt-4o-mini",
    "openai:gpt-4o",
    "anthropic:claude-sonnet-4-5",
    "anthropic:claude-haiku-4-5",
    "google:gemini-2.5-flash",
    "google:gemini-2.5-pro",
]

PROMPTS = [
    "Hi! How are you today?",
    "Write a Python function that merges two sorted lists, with tests.",
    "Solve for x: 3x^2 - 12x + 9 = 0, and prove the roots are real.",
    "Extract the invoice number, date and total amount from this receipt as a JSON object.",
    "Write a short poem about a lighthouse keeper.",
]


def main() -> None:
    service = mock_service(
        {"openai": {}, "anthropic": {}, "google": {}},
        groups={"pick": {"strategy": "task_aware", "members": MEMBERS}},
    )
    registry = service.registry
    print(f"{'detected task':<30} {'answered by':<30} requirements")
    for prompt in PROMPTS:
        task = detect_task_type(prompt)
        resp = service.invoke_model("pick", prompt, max_tokens=60)
        needs = ", ".join(f"{k}>={v.name.lower()}" for k, v in task_requirements(task).items())
        print(f"{task.value:<30} {resp.model_id:<30} {needs}")

    print("\nhints instead of detection:")
    resp = service.invoke_model("pick", "Tell me something", task_type="code_generation")
    print(f"  {'task_type=code_generation':<38} -> {resp.model_id}")
    resp = service.invoke_model(
        "pick", "Tell me something", capabilities={"reasoning": "exceptional"}
    )
    print(f"  {'capabilities={reasoning: exceptional}':<38} -> {resp.model_id}")

    chosen = registry.get_model_info(resp.model_id)
    print(
        f"  {chosen.id}: reasoning={chosen.capabilities.get('reasoning')!s}, "
        f"input ${chosen.cost.input_per_mtok if chosen.cost else '?'}/Mtok"
    )

    resp = service.invoke_model("auto", "Write a SQL query that finds duplicate emails.")
    print(f"\n'auto' (every registered model) chose {resp.model_id} for a SQL question")


if __name__ == "__main__":
    main()
