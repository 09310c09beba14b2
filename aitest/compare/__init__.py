"""`aitest compare`: a candidate model against a baseline, case by case, with the evidence to gate the swap."""
