"""Acme's delivery desk: a feature written against the OpenAI Python SDK that runs its own tools and loop.

The code is what a team ships: `client.chat.completions.create(...)` with tools, the calls run by the
feature's own Python functions, their results sent back, until the model answers. aitest hands it an
OpenAI-SDK-shaped client (the target's `openai` parameter): every step is recorded and replayed, and
the YAML tool checks of specs/delivery_desk.yaml see the calls.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TOOLS = json.loads((Path(__file__).parent / "delivery_tools.json").read_text())
SYSTEM = (
    "You are Acme's delivery desk. Use the tools to track parcels or move a delivery; "
    "never guess a parcel's status. Answer in one short sentence."
)
PARCELS = {
    "AC123": {"status": "in transit", "eta": "2026-12-08"},
    "AC999": {"status": "delivered", "eta": "2026-12-02"},
}


def track_parcel(tracking_id: str) -> dict[str, str]:
    parcel = PARCELS.get(tracking_id.strip().upper())
    return {"tracking_id": tracking_id, **parcel} if parcel else {"error": f"unknown tracking number {tracking_id}"}


def reschedule_delivery(tracking_id: str, date: str) -> dict[str, str]:
    if tracking_id.strip().upper() not in PARCELS:
        return {"error": f"unknown tracking number {tracking_id}"}
    return {"tracking_id": tracking_id, "delivery": date, "status": "rescheduled"}


FUNCTIONS = {"track_parcel": track_parcel, "reschedule_delivery": reschedule_delivery}


def answer(message: str, openai: Any, max_steps: int = 3) -> str:
    """The desk's reply to a customer, after whatever tool calls the model makes (at most max_steps turns)."""
    messages: list[Any] = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": message}]
    reply = ""
    for step in range(max_steps):
        choice = "required" if step == 0 else "auto"  # look the parcel up first, then answer
        completion = openai.chat.completions.create(
            model="gpt-4o-mini",
            messages=messages,
            tools=TOOLS,
            tool_choice=choice,
            temperature=0,
            max_tokens=64,
            seed=7,
        )
        message = completion.choices[0].message
        reply = message.content or ""
        if not message.tool_calls:
            return reply
        messages.append(message)
        for call in message.tool_calls:
            function = FUNCTIONS.get(call.function.name)
            try:
                result = function(**json.loads(call.function.arguments)) if function else {"error": "unknown tool"}
            except TypeError as exc:  # arguments the function does not take: tell the model
                result = {"error": str(exc)}
            messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
    return reply
