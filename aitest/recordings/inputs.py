"""The recorded inputs of a property: every varied input it tried, in order, and the one shrinking ended on.

A replay reads these instead of asking Hypothesis again, so any Hypothesis version (or none) replays the
same inputs; only recording a property live draws new ones. A record is found by its key: the property,
the model identity, the budget of examples, and a digest of what the inputs are made from (the variations,
the base cases and the values they vary), so that a changed property is a miss, never stale inputs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TriedInput:
    """One input a property tried: its base case, the vars it changed, and what changed them."""

    base: str
    vars: dict[str, Any]
    variations: tuple[str, ...]
    shrinking: bool  # tried while shrinking a failure (after the first failing input)

    def to_yaml_dict(self) -> dict[str, Any]:
        return {"base": self.base, "vars": self.vars, "variations": list(self.variations), "shrinking": self.shrinking}


@dataclass(frozen=True)
class PropertyInputs:
    """A property's inputs for one model and budget (`properties:` in a feature's recording)."""

    key: str
    property: str
    model: dict[str, str] | None  # None for a property whose feature calls no model
    budget: int
    definition: str  # digest of the variations, base cases and the values they vary
    examples: tuple[TriedInput, ...]
    minimal: int | None = None  # index in ``examples`` of the smallest failing input, None when all held
    generated: int = 0  # examples Hypothesis generated, repeats included (its budget counts them)
    shrink_cut: bool = False  # shrinking stopped at aitest's budget of new inputs
    hypothesis: str = ""  # the version that drew them (for the reader: a replay does not need it)

    def to_yaml_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "property": self.property}
        if self.model is not None:
            out["model"] = dict(self.model)
        out.update(budget=self.budget, definition=self.definition, hypothesis=self.hypothesis)
        out.update(generated=self.generated, minimal=self.minimal, shrink_cut=self.shrink_cut)
        out["examples"] = [example.to_yaml_dict() for example in self.examples]
        return out

    @classmethod
    def from_yaml_dict(cls, raw: dict[str, Any]) -> PropertyInputs:
        """From a dict already checked field by field (fileformat) or from aitest's own parse cache."""
        examples = tuple(
            TriedInput(str(e["base"]), dict(e["vars"]), tuple(e["variations"]), bool(e["shrinking"]))
            for e in raw["examples"]
        )
        model = raw.get("model")
        return cls(
            key=str(raw["key"]),
            property=str(raw["property"]),
            model=None if model is None else {str(k): str(v) for k, v in model.items()},
            budget=int(raw["budget"]),
            definition=str(raw["definition"]),
            examples=examples,
            minimal=raw.get("minimal"),
            generated=int(raw.get("generated") or 0),
            shrink_cut=bool(raw.get("shrink_cut")),
            hypothesis=str(raw.get("hypothesis") or ""),
        )


def inputs_key(prop: str, model: dict[str, str] | None, budget: int, definition: str) -> str:
    """The key of a property's recorded inputs (20 hex digits, as an entry's key)."""
    blob = json.dumps(
        {"kind": "property-inputs", "property": prop, "model": model, "budget": budget, "definition": definition},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]
