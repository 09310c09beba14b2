"""Mutated specs and recordings never give a traceback: only aitest's own errors (`bench/bench_fuzz.py` runs
10,000 of them and times each)."""

from __future__ import annotations

import contextlib
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz_inputs import (
    damaged_recordings,
    feature_of,
    load_recording_text,
    load_spec_text,
    mutate,
    recording_seeds,
    spec_seeds,
)
from hypothesis import given, settings
from hypothesis import strategies as st

SPECS = spec_seeds()
RECORDINGS = recording_seeds()


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One project for every input, as in a real session (its targets are imported once, then forgotten:
    other tests' projects have an `examples` package of their own)."""
    folder = tmp_path_factory.mktemp("fuzz")
    yield folder
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(folder)):
            del sys.modules[name]
    with contextlib.suppress(ValueError):
        sys.path.remove(str(folder))


def test_the_seeds_load(root: Path) -> None:
    assert [load_spec_text(text, root) for text in SPECS] == ["ok"] * len(SPECS)
    assert [load_recording_text(text, root) for text in RECORDINGS] == ["ok"] * len(RECORDINGS)
    assert [load_recording_text(t, root, feature=feature_of(t)) for t in RECORDINGS] == ["ok"] * len(RECORDINGS)


FILE_LEVEL = ("version", "feature", "entry_count")  # damage rewrite cannot repair: the file is refused


def damaged_are_refused(seed: str, root: Path) -> int:
    """Every damaged form of ``seed`` is refused in every mode, and rewrite drops (and reports) damaged
    entries; returns how many forms were tried."""
    forms = damaged_recordings(seed)
    feature = feature_of(seed)
    for form, text in forms:
        assert load_recording_text(text, root, feature=feature) == "error", form
        expected = "error" if form.startswith(FILE_LEVEL) else "repaired"
        assert load_recording_text(text, root, feature=feature, repair=True) == expected, form
    return len(forms)


def test_every_damaged_form_of_a_recording_is_refused(root: Path) -> None:
    smallest = min(RECORDINGS, key=len)
    assert damaged_are_refused(smallest, root) > 40


@pytest.mark.slow
def test_every_damaged_form_of_every_committed_recording_is_refused(root: Path) -> None:
    assert sum(damaged_are_refused(seed, root) for seed in RECORDINGS) > 300


@pytest.mark.slow
@settings(deadline=None)
@given(seed=st.sampled_from(SPECS), rng=st.randoms(use_true_random=False))
def test_a_mutated_spec_is_loaded_or_refused_with_our_error(root: Path, seed: str, rng: random.Random) -> None:
    assert load_spec_text(mutate(seed, rng), root) in ("ok", "error")


@pytest.mark.slow
@settings(deadline=None)
@given(seed=st.sampled_from(RECORDINGS), rng=st.randoms(use_true_random=False))
def test_a_mutated_recording_is_read_or_refused_with_our_error(root: Path, seed: str, rng: random.Random) -> None:
    assert load_recording_text(mutate(seed, rng), root) in ("ok", "error")
