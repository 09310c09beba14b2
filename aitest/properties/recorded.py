"""Where a property's inputs come from: its recording (a replay, no Hypothesis needed) or Hypothesis (live).

The record mode decides it as it decides a model call: replay what is recorded, draw and record what is
not (`new`, `once` without a file), draw everything again (`all`, `rewrite`), or only draw (`off`). A
property whose feature calls no model has nothing recorded: Hypothesis draws its inputs every run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aitest.errors import RecordingMiss
from aitest.recordings.inputs import PropertyInputs, TriedInput, inputs_key
from aitest.recordings.miss import model_text, no_file
from aitest.result import jsonable
from aitest.spec.model import Property, Spec

if TYPE_CHECKING:
    from aitest.models.runtime import ModelRuntime
    from aitest.recordings.store import FeatureRecording

NEW = "--aitest-record=new"


def definition_digest(spec: Spec, prop: Property) -> str:
    """What a property's inputs are made from: its variations, its base cases and the values they vary.
    (Not the invariant: changed checks judge the same recorded inputs again, as they judge recorded outputs.)"""
    varied = [var for var, _ in prop.vary]
    bases = [[case_id, {var: jsonable(spec.case(case_id).vars.get(var)) for var in varied}] for case_id in prop.bases]
    vary = [[var, [[v.kind, jsonable(v.option)] for v in variations]] for var, variations in prop.vary]
    blob = json.dumps({"vary": vary, "bases": bases}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Source:
    """The inputs of one run of a property: ``replay`` them from ``recorded``, or draw them with Hypothesis
    (and keep them in ``recording`` under ``key`` when it is set)."""

    key: str
    model: dict[str, str] | None
    definition: str
    recorded: PropertyInputs | None = None
    recording: FeatureRecording | None = None  # where drawn inputs are recorded; None: they are not

    @property
    def replays(self) -> bool:
        return self.recorded is not None


def source(spec: Spec, prop: Property, runtime: ModelRuntime, budget: int) -> Source:
    """Where the inputs come from; RecordingMiss when they must be replayed and are not recorded."""
    definition = definition_digest(spec, prop)
    if not spec.needs_model or not runtime.mode.uses_files:
        return Source("", None, definition)
    model = runtime.profile_for(spec).identity()
    key = inputs_key(prop.id, model, budget, definition)
    recording = runtime.store.feature(spec.feature)
    mode = runtime.mode
    if mode.replays(file_existed=recording.existed_at_start):
        found = recording.get_inputs(key)
        if found is not None:
            recording.used.add(key)
            return Source(key, model, definition, recorded=found)
        if not mode.records_misses(file_existed=recording.existed_at_start):
            raise _miss(prop, model, budget, definition, recording)
    return Source(key, model, definition, recording=recording)


def _miss(
    prop: Property, model: dict[str, str], budget: int, definition: str, recording: FeatureRecording
) -> RecordingMiss:
    if not recording.path.exists():
        message, hint = no_file(recording.shown, model)
        return RecordingMiss(message, hint=hint)
    now_model = model_text(model)
    others = [r for r in recording.inputs().values() if r.property == prop.id]
    head = f"no recorded inputs for property '{prop.id}' ({recording.shown}; model {now_model}, budget {budget})"
    if not others:
        why = (
            "the recording has no inputs of this property: it was added since, renamed, or recorded by an aitest "
            "that did not keep a property's inputs"
        )
    else:
        same_model = [r for r in others if r.model == model]
        nearest = (same_model or others)[0]
        reasons = []
        if nearest.model != model:
            recorded_model = model_text(nearest.model) if nearest.model else "none"
            reasons.append(f"model: recorded {recorded_model}, now {now_model}")
        if nearest.budget != budget:
            reasons.append(
                f"budget: recorded {nearest.budget} examples, now {budget} (--aitest-max-examples, "
                "[tool.aitest] max_examples or the property's examples)"
            )
        if nearest.definition != definition:
            reasons.append("its variations, base cases or the values they vary changed since")
        why = "nearest recorded inputs differ in " + "; ".join(reasons)
    return RecordingMiss(f"{head}\n  {why}", hint=f"record them with {NEW} (or AITEST_RECORD=new)")


def tried(log: list[dict[str, Any]]) -> tuple[TriedInput, ...]:
    """The runner's log of distinct inputs, as recorded."""
    return tuple(TriedInput(e["base"], dict(e["vars"]), tuple(e["variations"]), bool(e["shrinking"])) for e in log)


def record(
    src: Source,
    prop: Property,
    budget: int,
    log: list[dict[str, Any]],
    *,
    minimal: int | None,
    generated: int,
    shrink_cut: bool,
) -> None:
    """Keep the inputs Hypothesis drew, in the feature's recording (written with its entries)."""
    if src.recording is None:
        return
    from hypothesis import __version__ as hypothesis_version

    inputs = PropertyInputs(
        key=src.key,
        property=prop.id,
        model=src.model,
        budget=budget,
        definition=src.definition,
        examples=tried(log),
        minimal=minimal,
        generated=generated,
        shrink_cut=shrink_cut,
        hypothesis=hypothesis_version,
    )
    src.recording.put_inputs(inputs)
    src.recording.used.add(src.key)
