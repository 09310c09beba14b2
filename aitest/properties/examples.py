"""The varied inputs of a property: a base case, and each varied var with the variations that made it.

Hypothesis is imported only to draw new inputs (``example_strategy``): a replay builds its examples from
the recording, and needs no Hypothesis at all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from aitest.result import jsonable
from aitest.spec.model import Case, Property, Spec

if TYPE_CHECKING:
    from hypothesis import strategies as st


@dataclass(frozen=True)
class Example:
    """One generated input: the base case, the vars that changed, and what changed them."""

    base: Case
    changed: dict[str, Any]
    notes: tuple[str, ...]

    @property
    def key(self) -> str:
        """Equal for equal inputs (Hypothesis may draw the same input twice; the feature runs once)."""
        return json.dumps([self.base.id, jsonable(self.changed)], sort_keys=True, ensure_ascii=False)

    @property
    def case(self) -> Case:
        """The base case with the varied vars: what the feature runs on."""
        return replace(self.base, vars={**self.base.vars, **self.changed})

    @property
    def variations(self) -> str:
        return "; ".join(self.notes)


def property_seed(spec: Spec, prop: Property) -> int:
    """The seed of a property's inputs: from the feature and the property id only, the same on every machine."""
    digest = hashlib.sha256(f"aitest-property:{spec.feature}:{prop.id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def example_strategy(spec: Spec, prop: Property) -> st.SearchStrategy[Example]:
    """Examples of a property. Fixed edits (append, prepend, replace, choices) apply to every example; each
    random variation is drawn on or off (one at least when there is no fixed edit, else the example
    would be the base case itself), so that shrinking keeps only those that matter. Shrinking also
    moves towards the first base case and the simplest form of each edit."""
    from hypothesis import strategies as st

    from aitest.properties.variations import edit_strategy, small_index

    bases = [spec.case(case_id) for case_id in prop.bases]
    slots = [(var, variation) for var, variations in prop.vary for variation in variations]
    optional = [k for k, (_, variation) in enumerate(slots) if not variation.fixed]
    always = [k for k in range(len(slots)) if k not in optional]
    edits = [edit_strategy(variation) for _, variation in slots]
    several_vars = len(prop.vary) > 1

    @st.composite
    def examples(draw: st.DrawFn) -> Example:
        base = bases[draw(small_index(len(bases)))]
        active = set(always) | {k for k in optional if draw(st.booleans())}
        if not active and optional:  # all off: the input would be the base case itself, so one goes on
            active.add(optional[draw(small_index(len(optional)))])
        values = dict(base.vars)
        notes = []
        for k, (var, _) in enumerate(slots):
            if k in active:
                edited = draw(edits[k])(values[var])
                values[var] = edited.value
                notes.append(f"{var}: {edited.note}" if several_vars else edited.note)
        return Example(base, {var: values[var] for var, _ in prop.vary}, tuple(notes))

    return examples()
