"""Checks of the output's structure: is_json, contains_json, is_xml, contains_xml."""

from __future__ import annotations
