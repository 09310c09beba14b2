"""A provider that answers at once, for benchmarks of aitest's own cost: registered by a project's conftest.py.

Model "a" answers every ticket as billing; model "b" misses every tenth (a candidate with regressions).
"""

CONFTEST = """
import json

from aitest.models.providers.base import Completion, Provider
from aitest.models.providers.registry import register


@register
class Instant(Provider):
    name = "instant"
    options = {"model": "str"}
    required = ("model",)
    model_option = "model"

    @classmethod
    def from_profile(cls, profile, rootdir=None):
        return cls(profile.options["model"])

    def __init__(self, model):
        self.model = model

    def complete(self, prompt, params):
        n = int(prompt.rsplit(" ", 1)[-1])
        category = "billing" if self.model == "a" or n % 10 else "account"  # b misses every tenth
        return Completion(json.dumps({"category": category, "n": n}), 10, 4)

    def chat(self, messages, params):
        return Completion("{}", 10, 1)
"""
