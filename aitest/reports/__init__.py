"""Reports of a run: the JSON run report, and the properties JUnit XML carries per case."""
