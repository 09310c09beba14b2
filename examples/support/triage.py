"""Support-ticket triage: route a ticket to a queue with a priority.

This is the rule-based version a team has before (or beside) a model: the spec in
specs/ticket_triage.yaml pins its behavior so a model-backed version can replace it
without silently changing what the product does.
"""

from __future__ import annotations

QUEUES = {
    "billing": ("charge", "charged", "refund", "invoice", "payment", "card"),
    "account": ("password", "login", "log in", "sign in", "2fa", "email address"),
    "shipping": ("delivery", "package", "shipped", "tracking", "arrive"),
}
URGENT = ("twice", "fraud", "locked out", "asap", "immediately")


def classify(ticket: str) -> dict[str, str]:
    """Return {"category": ..., "priority": ...} for a support ticket."""
    text = ticket.lower()
    category = next((queue for queue, words in QUEUES.items() if any(w in text for w in words)), "general")
    priority = "urgent" if any(w in text for w in URGENT) else "normal"
    return {"category": category, "priority": priority}
