"""Small helpers shared across aitest, one home each: text for messages, files on disk."""
