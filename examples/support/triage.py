"""Support-ticket triage: route a ticket to a queue with a priority.

The feature asks the model for JSON constrained by a schema (llama.cpp grammar, or
response_format over HTTP), with a few examples in the prompt, and parses the answer.
specs/ticket_triage.yaml pins its behavior so a model swap cannot change it silently.
"""

from __future__ import annotations

import json
from typing import Any

CATEGORIES = ["billing", "account", "shipping", "general"]
PRIORITIES = ["low", "normal", "urgent"]
SCHEMA = {
    "type": "object",
    "properties": {"category": {"enum": CATEGORIES}, "priority": {"enum": PRIORITIES}},
    "required": ["category", "priority"],
    "additionalProperties": False,
}
EXAMPLES = """Route each support ticket to a queue (billing, account, shipping, general) with a priority.

Ticket: My card was charged twice for the same order.
Answer: {"category": "billing", "priority": "urgent"}

Ticket: I forgot my password and cannot log in.
Answer: {"category": "account", "priority": "normal"}

Ticket: Where is my parcel? The tracking page has not moved for a week.
Answer: {"category": "shipping", "priority": "normal"}

Ticket: Do you have a shop in Lisbon?
Answer: {"category": "general", "priority": "low"}
"""


def classify(ticket: str, model: Any) -> dict[str, str]:
    """Return {"category": ..., "priority": ...} for a support ticket."""
    prompt = f"{EXAMPLES}\nTicket: {ticket.strip()}\nAnswer: "
    answer = model.complete(prompt, json_schema=SCHEMA, max_tokens=32, temperature=0)
    result: dict[str, str] = json.loads(answer)
    return result
