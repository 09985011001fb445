"""Stateful property test: register / unregister / replace / get against a model, while reader
threads hammer the registry and must never see a stable model missing or half-updated."""

from __future__ import annotations

import threading

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from modelwire.errors import ModelNotFoundError
from modelwire.registry.model_registry import DuplicateModelError
from modelwire.types import ModelInfo
from tests.support.helpers import mock_registry

NAMES = st.sampled_from([f"mock:m{i}" for i in range(6)])
STABLE = ("mock:stable-a", "mock:stable-b")


class RegistryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.registry = mock_registry(*STABLE)
        self.expected: dict[str, int] = {}  # id -> context_window version
        self.version = 1
        self.stop = threading.Event()
        self.problems: list[str] = []
        self.readers = [threading.Thread(target=self._read, daemon=True) for _ in range(3)]
        for t in self.readers:
            t.start()

    def _read(self) -> None:
        for _ in range(200_000):
            if self.stop.is_set():
                return
            for model_id in STABLE:
                try:
                    info = self.registry.get_model_info(model_id)
                    model = self.registry.get_model(model_id)
                except ModelNotFoundError:
                    self.problems.append(f"{model_id} vanished")
                    return
                if model.info.id != info.id:
                    self.problems.append("model object does not match its info")
            self.registry.list_models()

    @rule(model_id=NAMES)
    def register(self, model_id: str) -> None:
        self.version += 1
        info = ModelInfo(id=model_id, context_window=self.version, aliases=(f"a-{model_id[5:]}",))
        if model_id in self.expected:
            try:
                self.registry.register_model(info)
                raise AssertionError("duplicate registration must fail")
            except DuplicateModelError:
                return
        self.registry.register_model(info)
        self.expected[model_id] = self.version

    @rule(model_id=NAMES)
    def replace(self, model_id: str) -> None:
        self.version += 1
        info = ModelInfo(id=model_id, context_window=self.version, aliases=(f"a-{model_id[5:]}",))
        self.registry.register_model(info, replace=True)
        self.expected[model_id] = self.version

    @precondition(lambda self: bool(self.expected))
    @rule(data=st.data())
    def unregister(self, data: st.DataObject) -> None:
        model_id = data.draw(st.sampled_from(sorted(self.expected)))
        self.registry.unregister_model(model_id)
        del self.expected[model_id]

    @rule(model_id=NAMES)
    def get(self, model_id: str) -> None:
        alias = f"a-{model_id[5:]}"
        if model_id in self.expected:
            model = self.registry.get_model(alias)
            assert model.info.context_window == self.expected[model_id]
            assert self.registry.get_model(model_id) is model
        else:
            assert not self.registry.is_registered(alias)

    @invariant()
    def registry_matches_model(self) -> None:
        ids = {i.id for i in self.registry.list_models()} - set(STABLE)
        assert ids == set(self.expected)
        assert not self.problems, self.problems

    def teardown(self) -> None:
        self.stop.set()
        for t in self.readers:
            t.join(10)
        assert not self.problems, self.problems


RegistryMachine.TestCase.settings = settings(max_examples=30, stateful_step_count=30, deadline=None)
TestRegistryMachine = RegistryMachine.TestCase
