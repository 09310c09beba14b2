"""compare.html of a conversation feature opened in a real browser (Debian's Chromium, driven headless by
Playwright, as in test_compare_browser.py): both trajectories show for a case, the call that changed is marked,
and model output stays text."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from test_compare_tools import changed_call

from aitest.reports.compare_html import html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# locally a machine without Chromium skips this test; in CI (where make test installs it) its absence fails
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (make test installs it)",
    ),
    pytest.mark.needs("playwright"),  # the dev extra
]
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip


def test_both_trajectories_and_the_changed_call_show_in_chromium(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    page_file = tmp_path / "compare.html"
    page_file.write_text(html(changed_call()), encoding="utf-8")
    shot = tmp_path / "compare-tools.png"
    errors: list[str] = []
    dialogs: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        row = page.locator("#cases tr.case", has_text="orders::cancel_by_number")
        baseline, candidate = row.locator(".trajectory.baseline"), row.locator(".trajectory.candidate")
        expect(baseline).to_be_visible()
        expect(candidate).to_be_visible()
        expect(baseline.locator(".call")).to_have_text(['≠ cancel_order(order_id="1234")'])
        expect(candidate.locator(".call")).to_have_text(['≠ lookup_order(order_id="1234")'])
        expect(baseline.locator(".call.changed")).to_have_count(1)  # the differing call, marked on both sides
        expect(candidate.locator(".call.changed .mark")).to_be_visible()
        expect(baseline.locator(".result")).to_have_text(['→ {"ok": true, "order_id": "1234"}'])
        expect(candidate.locator(".reply")).to_have_text("Order 1234 is <script>alert('x')</script> shipped.")
        diff = row.locator(".calls-diff")
        expect(diff.locator(".del")).to_have_text('- 1. cancel_order(order_id="1234")')
        expect(diff.locator(".add")).to_have_text('+ 1. lookup_order(order_id="1234")')
        expect(row.locator(".calls-changed")).to_have_text(
            'tool calls changed: cancel_order(order_id="1234") -> lookup_order(order_id="1234")'
        )
        expect(row.locator("td.verdict")).to_have_text("regressed")
        same = page.locator("#cases tr.case", has_text="orders::status")
        expect(same.locator(".trajectory")).to_have_count(2)
        expect(same.locator(".call.changed")).to_have_count(0)  # the same calls: nothing marked
        expect(page.locator("#cases tr.case", has_text="orders::greeting").locator(".trajectory")).to_have_count(0)
        row.scroll_into_view_if_needed()
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert errors == [] and dialogs == []
    assert requests == [page_file.as_uri()]  # one self-contained page: nothing else fetched
    assert shot.stat().st_size > 10_000
