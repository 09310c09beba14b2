"""`aitest init`: set a project up for aitest without touching what is there.

`steps.py` writes one file and says what it did; `pyproject.py` adds the `[tool.aitest]` table;
`vscode.py` maps spec files to the schema in `.vscode/settings.json`; `templates.py` renders the
files in `aitest/templates/`; `command.py` is the command.
"""
