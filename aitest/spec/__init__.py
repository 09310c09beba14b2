"""Spec files: the YAML loader with positions, the format's JSON Schema, the typed Spec."""
