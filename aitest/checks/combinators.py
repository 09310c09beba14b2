"""Checks of checks: not, any_of, all_of."""

from __future__ import annotations
