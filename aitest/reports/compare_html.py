"""compare.html: one self-contained page (inline CSS and SVG, no script, nothing fetched): charts of
pass rate and latency per feature and model, the model-selection table, and every case with both
outputs and their diff. Every text from a model or a spec is escaped."""

from __future__ import annotations

import difflib
import json
from html import escape
from typing import Any

from aitest.compare.calls import first_calls, first_trajectory
from aitest.compare.engine import CaseComparison, Comparison
from aitest.reports.compare_report import compare_document, ordered_cases, size, usd, verdict_line
from aitest.reports.trajectory_html import STYLE as TRAJECTORY_STYLE
from aitest.reports.trajectory_html import calls_diff_html, trajectory_html

COLOURS = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2"]
STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1d1d1f;max-width:1400px}
h1{font-size:20px} h2{font-size:17px;margin-top:28px} .pass{color:#1a7f37} .fail{color:#c62828}
table{border-collapse:collapse;margin:8px 0 16px;width:100%} th,td{border:1px solid #d0d7de;padding:4px 8px;
text-align:left;vertical-align:top} th{background:#f6f8fa} td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{margin:0;white-space:pre-wrap;word-break:break-word;max-height:260px;overflow:auto;font-size:12px}
.verdict{font-weight:600} .regressed,.missing{background:#ffebe9} .improved{background:#dafbe1}
.diff .add{background:#aceebb} .diff .del{background:#ffcecb}
.charts{display:flex;flex-wrap:wrap;gap:24px} figure{margin:0} figcaption{font-weight:600;margin-bottom:4px}
.legend span{display:inline-block;margin-right:14px} .swatch{display:inline-block;width:10px;height:10px;
margin-right:4px} #choices .no-model{color:#c62828}
"""


def _text(value: Any) -> str:
    if value is None:
        return "(none)"
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)


def _diff(before: Any, after: Any) -> str:
    """A unified diff of two outputs as escaped HTML lines (JSON pretty-printed first)."""
    if before is None or after is None:
        return ""
    a, b = _text(_maybe_json(before)), _text(_maybe_json(after))
    if a == b:
        return "<pre>(the same)</pre>"
    lines = []
    for line in difflib.unified_diff(a.splitlines(), b.splitlines(), "baseline", "candidate", lineterm="", n=2):
        kind = "add" if line.startswith("+") and not line.startswith("+++") else ""
        kind = "del" if line.startswith("-") and not line.startswith("---") else kind
        lines.append(f'<span class="{kind}">{escape(line)}</span>' if kind else escape(line))
    return '<pre class="diff">' + "\n".join(lines) + "</pre>"


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _bars(title: str, groups: list[tuple[str, list[tuple[str, float | None, float | None]]]], *, unit: str,
          top: float, caption: str) -> str:  # fmt: skip
    """A grouped bar chart as inline SVG: per group (feature), one bar per model, an optional whisker."""
    models = sorted({name for _, bars in groups for name, _, _ in bars})
    colour = {name: COLOURS[i % len(COLOURS)] for i, name in enumerate(models)}
    bar, height, left = 26, 160, 70
    group_width = [max(len(bars) * bar + 24, 140) for _, bars in groups]
    width = left + sum(group_width) + 20
    parts = [f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{height + 60}" '
             f'xmlns="http://www.w3.org/2000/svg">']  # fmt: skip
    for tick in range(5):
        y = 10 + height - tick * height / 4
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
                     f"{top * tick / 4:.0f}{unit}</text>")  # fmt: skip
    x = float(left)
    for (group, bars), room in zip(groups, group_width, strict=True):
        start = x
        x += (room - len(bars) * bar) / 2
        for name, value, whisker in bars:
            if value is None:  # no data: said so where the bar would stand, never an empty gap
                parts.append(_label(x + bar / 2, 6 + height, "n/a", "na"))
            else:
                # a 0 would draw nothing and read as no data: a 2px sliver and its value mark it
                h = max(min(value, top) / top * height if top else 0, 2.0 if value == 0 else 0)
                parts.append(f'<rect class="bar" x="{x:.1f}" y="{10 + height - h:.1f}" width="{bar}" '
                             f'height="{h:.1f}" fill="{colour[name]}"><title>{escape(name)}: {value:.1f}{unit}'
                             f"</title></rect>")  # fmt: skip
                if value == 0:
                    parts.append(_label(x + bar / 2, 6 + height - h, f"0{unit}", "zero"))
                if whisker is not None:
                    w = min(whisker, top) / top * height
                    parts.append(f'<line x1="{x + bar / 2:.1f}" x2="{x + bar / 2:.1f}" y1="{10 + height - h:.1f}" '
                                 f'y2="{10 + height - w:.1f}" stroke="#333"/>')  # fmt: skip
            x += bar
        parts.append(f'<text x="{start + room / 2:.1f}" y="{height + 28}" font-size="11" text-anchor="middle">'
                     f"{escape(group)}</text>")  # fmt: skip
        x = start + room
    parts.append("</svg>")
    legend = "".join(f'<span><i class="swatch" style="background:{colour[m]}"></i>{escape(m)}</span>' for m in models)
    return (f'<figure class="chart"><figcaption>{escape(title)}</figcaption>{"".join(parts)}'
            f'<div class="legend">{legend}</div><small>{escape(caption)}</small></figure>')  # fmt: skip


def _label(x: float, y: float, text: str, kind: str) -> str:
    return f'<text class="bar-label {kind}" x="{x:.1f}" y="{y:.1f}" font-size="10" text-anchor="middle">{text}</text>'


def html(comparison: Comparison) -> str:
    doc = compare_document(comparison)
    base = comparison.baseline.name
    Bars = list[tuple[str, list[tuple[str, float | None, float | None]]]]
    rate_groups: Bars = []
    latency_groups: Bars = []
    for feature, entry in doc["selection"].items():
        ordered = sorted(entry["ranking"], key=lambda r: (not r["baseline"], r["name"]))
        rate_groups.append((feature, [(r["name"], None if r["pass_rate"] is None else 100 * r["pass_rate"], None)
                                      for r in ordered]))  # fmt: skip
        latency_groups.append((feature, [(r["name"], r["latency_p50_ms"], r["latency_p95_ms"]) for r in ordered]))
    top_latency = max([v for _, bars in latency_groups for _, a, b in bars for v in (a, b) if v] or [1.0])
    passed = doc["gate"]["passed"]
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>aitest compare: {escape(base)} vs {escape(', '.join(c['name'] for c in doc['candidates']))}</title>",
        f"<style>{STYLE}{TRAJECTORY_STYLE}</style></head><body>",
        f'<h1 class="{"pass" if passed else "fail"}" id="verdict">{escape(verdict_line(comparison))}</h1>',
    ]
    out += [f"<p>{escape(note)}</p>" for note in doc["notes"]]
    if doc["gate"]["reasons"]:
        out.append("<ul>" + "".join(f"<li>{escape(r)}</li>" for r in doc["gate"]["reasons"]) + "</ul>")
    out += [
        '<h2>Per feature</h2><div class="charts">',
        _bars("Pass rate per feature and model", rate_groups, unit="%", top=100.0, caption="share of cases passed"),
        _bars(
            "Latency p50 per feature and model (whisker: p95)",
            latency_groups,
            unit=" ms",
            top=top_latency,
            caption="the model's time per run, as recorded when replayed",
        ),
        "</div>",
        _feature_table(doc),
        "<h2>Model selection</h2>",
        _selection_table(doc),
        "<h2>Cases</h2>",
        _cases_table(doc, ordered_cases(comparison)),
        "</body></html>",
    ]
    return "\n".join(out) + "\n"


def _feature_table(doc: dict[str, Any]) -> str:
    rows = ['<table id="features"><tr><th>feature</th><th>candidate</th><th>regressed</th><th>improved</th>'
            "<th>missing</th><th>baseline pass (95%)</th><th>candidate pass (95%)</th><th>p (McNemar)</th>"
            "<th>agreement</th><th>gate</th></tr>"]  # fmt: skip
    for f in doc["features"]:

        def rate(s: dict[str, Any]) -> str:
            return "n/a" if s["pass_rate"] is None else f"{s['pass_rate']:.0%} [{s['low']:.0%}-{s['high']:.0%}]"

        agree = "n/a" if f["agreement"] is None else f"{f['agreement']:.2f}"
        gate = "pass" if f["gate"]["passed"] else "fail: " + "; ".join(f["gate"]["reasons"])
        rows.append(
            f"<tr><td>{escape(f['feature'])}</td><td>{escape(f['candidate'])}</td>"
            + "".join(f'<td class="num">{f["counts"][k]}</td>' for k in ("regressed", "improved", "missing"))
            + f"<td>{rate(f['baseline'])}</td><td>{rate(f['candidate_stats'])}</td>"
            f'<td class="num">{f["p_adjusted"]:.3f}</td><td class="num">{agree}</td>'
            f'<td class="{"pass" if f["gate"]["passed"] else "fail"}">{escape(gate)}</td></tr>'
        )
    return "".join(rows) + "</table>"


def _selection_table(doc: dict[str, Any]) -> str:
    """The model named per feature (or why none is, in words), then every model's row."""
    named = ['<ul id="choices">']
    for feature, entry in doc["selection"].items():
        kind = "named" if entry["model"] else "no-model"
        named.append(f'<li class="{kind}"><b>{escape(feature)}</b>: {escape(entry["reason"])}</li>')
    heads = ("feature", "model", "meets the gate", "pass rate (bar)", "p50 ms", "p95 ms", "tokens/s", "size",
             "cost per 1,000 cases")  # fmt: skip
    rows = ['<table id="selection"><tr>' + "".join(f"<th>{h}</th>" for h in heads) + "</tr>"]
    for feature, entry in doc["selection"].items():
        for r in entry["ranking"]:
            keeps = " ★ keeps the behavior" if r["name"] == entry["model"] else ""
            cells = [
                escape(feature),
                escape(r["name"]) + (" (baseline)" if r["baseline"] else "") + keeps,
                "yes" if r["meets_gate"] else "no",
                ("n/a" if r["pass_rate"] is None else f"{r['pass_rate']:.0%}") + f" ({entry['bar']:.0%})",
                "n/a" if r["latency_p50_ms"] is None else f"{r['latency_p50_ms']:.0f}",
                "n/a" if r["latency_p95_ms"] is None else f"{r['latency_p95_ms']:.0f}",
                "n/a" if r["tokens_per_s"] is None else f"{r['tokens_per_s']:.1f}",
                size(r["bytes"], hosted=r["hosted"]),
                usd(r["cost_per_1000"]),
            ]
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return "".join(named) + "</ul>" + "".join(rows) + "</table>"


def _cases_table(doc: dict[str, Any], cases: list[CaseComparison]) -> str:
    """Every case with both outputs and their diff; a conversation also with both trajectories and the diff of
    their calls. ``cases`` are the comparisons behind ``doc["cases"]``, in the same order."""
    rows = ['<table id="cases"><tr><th>verdict</th><th>case</th><th>baseline output</th>'
            "<th>candidate output</th><th>diff</th></tr>"]  # fmt: skip
    for c, found in zip(doc["cases"], cases, strict=True):
        b, k = c["baseline"], c["candidate"]
        before, after, diff = _conversation(found)
        rows.append(
            f'<tr class="case {c["verdict"]}"><td class="verdict">{c["verdict"]}</td>'
            f"<td>{escape(c['feature'])}::{escape(c['id'])}{' (critical)' if c['critical'] else ''}</td>"
            f"<td>{_side_cell(b)}{before}</td><td>{_side_cell(k)}{after}</td>"
            f"<td>{diff}{_labelled(diff, _diff(b['output'], k['output']))}</td></tr>"
        )
    return "".join(rows) + "</table>"


def _side_cell(side: dict[str, Any]) -> str:
    """One side of a case: its outcome, its output (a property's: of which input), and its own reason."""
    of = f"<small>output of {escape(side['output_of'])}</small>" if side.get("output_of") else ""
    shown = side["reason"] and side["outcome"] != "passed"
    reason = f'<small class="reason">{escape(side["reason"])}</small>' if shown else ""
    head = f"<small>{escape(side['name'])}: {escape(side['outcome'])}</small>{of}"
    return f"{head}<pre>{escape(_text(side['output']))}</pre>{reason}"


def _conversation(found: CaseComparison) -> tuple[str, str, str]:
    """Both trajectories and the diff of their calls, as HTML; empty when neither side has a trajectory."""
    before, after = first_trajectory(found.baseline), first_trajectory(found.other)
    if before is None and after is None:
        return "", "", ""
    calls_before, calls_after = first_calls(found.baseline) or [], first_calls(found.other) or []
    shown = [
        trajectory_html(t, other, side=side) if t is not None else f'<p class="trajectory {side}">(no trajectory)</p>'
        for t, other, side in ((before, calls_after, "baseline"), (after, calls_before, "candidate"))
    ]
    changed = f'<p class="calls-changed">{escape(found.calls_reason)}</p>' if found.calls_changed else ""
    return shown[0], shown[1], changed + calls_diff_html(calls_before, calls_after)


def _labelled(calls: str, reply: str) -> str:
    """The diff of the outputs, named as the final reply's when the diff of the calls comes before it."""
    return f"<small>final reply</small>{reply}" if calls and reply else reply
