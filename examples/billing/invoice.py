"""Invoice extraction: the fields accounting needs, as JSON, from an invoice's text."""

from __future__ import annotations

import json
from typing import Any

SCHEMA = {
    "type": "object",
    "properties": {
        "vendor": {"type": "string", "maxLength": 60},
        "invoice_number": {"type": "string", "maxLength": 30},
        "total": {"type": "number"},
        "currency": {"enum": ["EUR", "USD", "GBP"]},
    },
    "required": ["vendor", "invoice_number", "total", "currency"],
    "additionalProperties": False,
}
EXAMPLE = """Extract vendor, invoice_number, total and currency from the invoice.

Invoice:
Northwind Traders Ltd, 12 Harbour Road, Bristol
Invoice no. NW-2291    Date: 3 March 2025
Consulting, 4 hours ......... GBP 480.00
Total due: GBP 480.00
JSON: {"vendor": "Northwind Traders Ltd", "invoice_number": "NW-2291", "total": 480.0, "currency": "GBP"}
"""


def extract(invoice: str, model: Any) -> dict[str, Any]:
    """Vendor, invoice number, total and currency of an invoice."""
    prompt = f"{EXAMPLE}\nInvoice:\n{invoice.strip()}\nJSON: "
    answer = model.complete(prompt, json_schema=SCHEMA, max_tokens=80, temperature=0)
    result: dict[str, Any] = json.loads(answer)
    return result
