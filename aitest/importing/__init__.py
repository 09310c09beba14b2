"""`aitest import`: an LLM's logs made into cases, recordings and a replay-only profile.

Readers turn each log format into `LoggedCall`s (``formats``), one line at a time; ``redact`` replaces
personal data before anything is kept; ``select`` drops duplicates and samples; ``spec_text`` writes or
extends the spec; ``write`` keys the recordings as a run of that spec would and writes every file atomically.
"""
