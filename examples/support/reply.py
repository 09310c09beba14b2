"""Customer reply: a short, polite first reply to a support message, in plain text."""

from __future__ import annotations

from typing import Any

STYLE = """Support replies from Acme. Each reply thanks the customer, says what happens next, and is signed "Acme Support".

Message: My order arrived with a cracked screen.
Reply: Thank you for telling us, and sorry about the screen. We will send a replacement today and email you the tracking link. Acme Support

Message: Can I change the delivery address of my order?
Reply: Thank you for your message. Yes: reply with the new address and we will update the order before it ships. Acme Support
"""


def draft(message: str, model: Any) -> str:
    """A first reply to a customer's message."""
    prompt = f"{STYLE}\nMessage: {message.strip()}\nReply:"
    reply: str = model.complete(prompt, max_tokens=60, temperature=0, stop=["\nMessage:", "\n\n"])
    return reply.strip()
