"""Recordings: model calls kept in one readable file per feature, replayed offline."""

MODES = ("none", "once", "new", "all", "rewrite", "off")
