"""Properties: behaviors that must survive generated variations of the input (Hypothesis)."""
