"""`similar`: cosine similarity of sentence embeddings to one reference or the best of several."""

from __future__ import annotations

from typing import Any

from aitest.checks.base import Check, CheckContext, CheckResult, CheckSetup, as_text, show
from aitest.checks.registry import register

DEFAULT_THRESHOLD = 0.8


@register
class Similar(Check):
    name = "similar"
    example = "similar: We are sorry your parcel is late."
    description = "the output means about the same as the reference (or the best of a list of references)"
    value_schema = {
        "oneOf": [{"type": "string", "minLength": 1}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]
    }
    options = {
        "threshold": {"type": "number", "minimum": 0, "maximum": 1, "description": "default 0.8"},
    }

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        self.references = [value] if isinstance(value, str) else list(value)
        self.threshold = float(options.get("threshold", DEFAULT_THRESHOLD))

    def reference_texts(self) -> tuple[str, ...]:
        return tuple(self.references)

    def run(self, ctx: CheckContext) -> CheckResult:
        from aitest.embeddings import cosine

        text = as_text(ctx.value)
        vectors = ctx.embeddings().embed([text, *self.references])
        scores = [cosine(vectors[0], v) for v in vectors[1:]]
        best = max(range(len(scores)), key=scores.__getitem__)
        score, nearest = scores[best], self.references[best]
        which = "the reference" if len(self.references) == 1 else f"the nearest of {len(self.references)} references"
        if score >= self.threshold:
            return CheckResult(True, f"similarity {score:.3f} to {which} >= {self.threshold}", score=score)
        return CheckResult(
            False,
            f"similarity {score:.3f} to {which}, below the threshold {self.threshold}",
            score=score,
            detail=f"reference: {show(nearest, 200)}\noutput:    {show(text, 200)}",
        )
