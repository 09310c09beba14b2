"""The `aitest compare` command: sides from profiles or reports, the comparison, the table and the reports.

Exit status: 0 when the gate passes, 1 when it fails, 2 for bad usage or input (one line, and a hint).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aitest.compare.engine import Comparison, Similarity, compare
from aitest.compare.sides import CompareError, Side, side_from_path, side_from_profile
from aitest.config import Config, find_rootdir, load_config
from aitest.errors import AitestError
from aitest.recordings.mode import MODES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--baseline", required=True, metavar="A", help="a model profile, a run report, or a folder of them"
    )
    parser.add_argument(
        "--candidate",
        required=True,
        action="append",
        metavar="B",
        help="the same kinds as --baseline; repeat for several",
    )
    parser.add_argument("paths", nargs="*", help="spec files or folders (for profile sides; default: all specs)")
    parser.add_argument("--report-dir", metavar="DIR", help="write compare.json, compare.md and compare.html there")
    parser.add_argument("--aitest-record", choices=MODES, help="record mode of profile sides (default: none, replay)")
    parser.add_argument("--max-regressions", type=int, metavar="N", help="cases that may regress (default 0)")
    parser.add_argument("--min-pass-rate", type=_share, metavar="R", help="the candidate's pass rate, at least (0..1)")
    parser.add_argument("--min-agreement", type=_share, metavar="A", help="agreement with the baseline, at least")
    parser.add_argument("--allow-missing", action="store_true", default=None, help="missing cases do not fail")
    parser.add_argument("--margin", type=_share, metavar="D", help="a statistical verdict: at most D worse (95%%)")
    parser.add_argument("--allow-inconclusive", action="store_true", default=None, help="with --margin")
    parser.add_argument(
        "--jobs", type=int, metavar="N", help="profile sides run at once (default: one per core, at most all sides)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 0 to 1") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(find_rootdir(Path.cwd(), args.paths))
        if args.max_regressions is not None and args.max_regressions < 0:
            raise CompareError(f"--max-regressions={args.max_regressions}: give 0 or more")
        baseline, *candidates = _sides([args.baseline, *args.candidate], config, args)
        similarity, embedder = _similarity(config, baseline, candidates)
        overrides = {
            "max_regressions": args.max_regressions,
            "min_pass_rate": args.min_pass_rate,
            "min_agreement": args.min_agreement,
            "allow_missing": args.allow_missing,
            "margin": args.margin,
            "allow_inconclusive": args.allow_inconclusive,
        }
        comparison = compare(baseline, candidates, overrides=overrides, similarity=similarity)
        if embedder is not None:
            with contextlib.suppress(AitestError):  # a cache that cannot be written fails no comparison
                embedder.save()
        _output(comparison, args)
    except AitestError as error:
        print(f"aitest compare: {error}", file=sys.stderr)
        return 2
    return 0 if comparison.passed else 1


def _sides(names: list[str], config: Config, args: argparse.Namespace) -> list[Side]:
    """Every side: reports read, profiles checked first, then run side by side (one process each, as many
    at once as there are cores: replays of two profiles take about as long as one)."""
    from concurrent.futures import ThreadPoolExecutor

    runs = [_side(name, config, args) for name in names]  # errors in names before anything runs
    jobs = args.jobs or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=max(1, min(len(runs), jobs))) as pool:
        return list(pool.map(lambda run: run(), runs))


def _side(name: str, config: Config, args: argparse.Namespace) -> Callable[[], Side]:
    """A report file or folder when the name is one; else a model profile, run on the specs."""
    path = Path(name)
    if path.exists():
        side = side_from_path(name, path)
        return lambda: side
    from aitest.util.text import did_you_mean, shown

    if name.endswith(".json") or os.sep in name:
        raise CompareError(f"{shown(name, 120, quoted=False)}: no such report file or folder")
    from aitest.models.profiles import BUILTIN_PROFILES

    # names only: the profile itself is checked by the pytest run, where a plugin may register its provider
    known = sorted({*BUILTIN_PROFILES, *config.models})
    if name not in known:
        raise CompareError(
            f"unknown model profile or report {shown(name)}{did_you_mean(name, known)}",
            hint=f"profiles: {', '.join(shown(k, quoted=False) for k in known)}; "
            "or a report file written by pytest --aitest-report",
        )
    # the spec folders by default: a bare pytest would look in testpaths, which may not hold them
    paths = [str(Path(p).resolve()) for p in args.paths] or [str(p) for p in config.specs if p.exists()]
    return lambda: side_from_profile(
        name, rootdir=config.rootdir, paths=paths, record=args.aitest_record, quiet=args.quiet
    )


def _similarity(config: Config, *sides: Side | list[Side]) -> tuple[Similarity | None, Any]:
    """Text agreement by embedding similarity, where the embedding model or its cache can answer: every
    text output is queued for one batch; a missing model makes it "n/a", never an error."""
    from aitest.embeddings import Embedder, cosine

    embedder = Embedder.for_config(config)
    flat = [s for side in sides for s in (side if isinstance(side, list) else [side])]
    embedder.pending.update(
        run["output"]
        for side in flat
        for case in side.cases.values()
        for run in case.get("runs") or []
        if isinstance(run.get("output"), str)
    )
    gave_up: list[bool] = []

    def similarity(a: str, b: str) -> float | None:
        if gave_up:
            return None
        try:
            first, second = embedder.embed([a, b])
        except AitestError:
            gave_up.append(True)
            return None
        return round(cosine(first, second), 4)

    return similarity, embedder


def _output(comparison: Comparison, args: argparse.Namespace) -> None:
    from aitest.reports.compare_report import markdown, terminal

    print(terminal(comparison))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write(markdown(comparison))
    if args.report_dir:
        _write_reports(comparison, Path(args.report_dir))


def _write_reports(comparison: Comparison, folder: Path) -> None:
    """compare.json, compare.md and compare.html, each rendered first, then written atomically."""
    import json

    from aitest.reports.compare_html import html
    from aitest.reports.compare_report import compare_document, markdown
    from aitest.util.files import write_atomic

    files = {
        "compare.json": json.dumps(compare_document(comparison), indent=1, ensure_ascii=False, default=repr) + "\n",
        "compare.md": markdown(comparison),
        "compare.html": html(comparison),
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            write_atomic(folder / name, text)
    except OSError as exc:
        raise CompareError(f"cannot write the reports to {folder}: {exc.strerror or exc}") from None
    print(f"aitest compare: reports written to {folder}/compare.{{json,md,html}}", file=sys.stderr)
