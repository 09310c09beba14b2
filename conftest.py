"""aitest's own test suite: Hypothesis profiles, and the `slow` marker on tests that load a real model.

`pytest -m "not slow"` is the quick inner loop (seconds); `make test` runs everything.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# quick on a laptop; thorough in CI (CI=true), where time is cheaper than a missed counterexample.
# No example database: every run starts from the same derandomized examples, and nothing lands in the repo.
settings.register_profile("quick", max_examples=25, deadline=None, database=None, derandomize=True)
settings.register_profile(
    "thorough", max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("thorough" if os.environ.get("CI") else "quick"))

# fixtures (tests/conftest.py) that give a test a real model: a test that asks for one is slow
MODEL_FIXTURES = {
    "gemma": "the bundled Gemma 3 270M, run by llama.cpp",
    "smollm2": "the bundled SmolLM2 135M Instruct, run by llama.cpp",
    "minilm": "the all-MiniLM-L6-v2 embedding model",
    "llama_server": "llama-cpp-python's OpenAI-compatible server with Gemma",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: loads a real model or stresses the machine; the quick loop is pytest -m 'not slow'"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if MODEL_FIXTURES.keys() & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
