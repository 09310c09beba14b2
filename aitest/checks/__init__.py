"""Checks: one module per family, and the registry that maps names to them."""
