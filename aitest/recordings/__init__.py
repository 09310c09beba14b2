"""Recordings: model calls kept in one readable file per feature, replayed offline."""
