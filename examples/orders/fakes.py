"""Acme's order system as the order_assistant spec sees it: tool results that depend on the call's arguments.

`tool_results` in specs/order_assistant.yaml names these functions; each gets the arguments the model
gave, as keyword arguments, and returns what the real tool would (here, from a small table).
"""

from __future__ import annotations

ORDERS = {
    "1234": {"status": "processing", "item": "running shoes, size 42", "eta": "2026-12-09"},
    "77": {"status": "shipped", "item": "coffee grinder", "eta": "2026-12-08"},
    "4471": {"status": "delivered", "item": "blender", "eta": "2026-12-01"},
}


def lookup_order(order_id: str) -> dict[str, str]:
    """The order's status and delivery date, or an error the model can read."""
    order = ORDERS.get(str(order_id).strip().lstrip("#"))
    return {"order_id": order_id, **order} if order else {"error": f"no order {order_id}"}


def cancel_order(order_id: str, reason: str = "other") -> dict[str, str]:
    """Cancels an order that has not shipped."""
    order = ORDERS.get(str(order_id).strip().lstrip("#"))
    if order is None:
        return {"error": f"no order {order_id}"}
    if order["status"] != "processing":
        return {"error": f"order {order_id} has {order['status']} and can no longer be cancelled"}
    return {"order_id": order_id, "status": "cancelled", "reason": reason}
