"""Checks of how the model answered: is_refusal, finish_reason, max_output_tokens."""

from __future__ import annotations
