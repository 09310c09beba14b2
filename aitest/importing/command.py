"""`aitest import FILE... --feature F --profile P`: logged calls -> cases, recordings and a replay-only profile.

Exit status: 0 imported (or nothing new), 1 some lines were not of the format (unless --skip-bad),
2 nothing imported or bad usage, with a one-line reason.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from aitest.errors import AitestError, SpecErrors
from aitest.importing.detect import FORMATS, UnknownFormat
from aitest.importing.logged import LoggedCall, Skipped
from aitest.importing.openai_batch import BatchError
from aitest.importing.redact import ORDER, Redactor, UnknownDetector, detectors
from aitest.importing.select import Selection, select
from aitest.importing.target import Plan, Refused
from aitest.importing.write import Written
from aitest.util.text import bounded, plural, shown

SHOWN_SKIPPED = 10  # lines named one by one; the rest are counted


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="log files (a batch's input and output file both)")
    parser.add_argument("--feature", required=True, help="the feature the requests belong to (the spec's feature)")
    parser.add_argument("--profile", required=True, help="the replay-only model profile the answers are recorded for")
    parser.add_argument("--spec", help="the spec to add cases to, or to create (default: SPECS/FEATURE.yaml)")
    parser.add_argument("--format", default="auto", choices=("auto", *FORMATS), help="the log format (default: auto)")
    parser.add_argument(
        "--sample", type=int, metavar="N", help="import N distinct requests (the same N for the same log)"
    )
    parser.add_argument("--redact", metavar="DETECTORS", help=f"replace personal data first: {','.join(ORDER)} or all")
    parser.add_argument("--skip-bad", action="store_true", help="exit 0 even when some lines are not of the format")


def _fail(message: str) -> int:
    print(bounded(f"aitest import: {message}"), file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (AitestError, UnknownFormat, BatchError, UnknownDetector, Refused) as error:
        return _fail(str(error))


def _run(args: argparse.Namespace) -> int:
    from aitest.config import find_rootdir, load_config
    from aitest.importing import profile_table, spec_text, target, write
    from aitest.importing.sources import kind_of, read_all
    from aitest.models.profile import Profile
    from aitest.models.profiles import all_profiles
    from aitest.spec.loader import load_spec
    from aitest.util.files import write_atomic

    if not re.fullmatch(r"[a-z0-9_]+", args.feature):
        return _fail(f"--feature {shown(args.feature)}: a feature name is lowercase letters, digits and _")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", args.profile):
        return _fail(f"--profile {shown(args.profile)}: a profile name is letters, digits, - and _")
    if args.sample is not None and args.sample < 1:
        return _fail("--sample must be 1 or more")
    names = detectors(args.redact) if args.redact else ()
    rootdir = find_rootdir(Path.cwd())
    config = load_config(rootdir)
    profiles = all_profiles(config)
    existing = profiles.get(args.profile)
    if existing is not None and existing.provider != "recorded":
        at = existing.location if args.profile in config.models else None
        where = f" ({_relative(Path(at.file), rootdir)}:{at.line})" if at is not None else " (built in)"
        return _fail(f"model profile {shown(args.profile)} exists with provider {existing.provider}{where}: import the "
                     "log into a profile of its own (--profile prod-llm)")  # fmt: skip

    files = []
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            return _fail(f"{shown(name, 120, quoted=False)}: no such file")
        files.append((path, name, kind_of(path, name, args.format)))
    sources = ", ".join(_relative(p, rootdir) for p, _, _ in files)

    spec_file = target.spec_path(args.spec, args.feature, config)
    shown_spec = _relative(spec_file, rootdir)
    spec = None
    if spec_file.exists():
        try:
            spec = load_spec(spec_file, rootdir=rootdir, target_packages=config.target_packages)
        except SpecErrors as errors:
            return _fail(f"{errors.errors[0]} (fix the spec, then import again)")
        except AitestError as error:
            return _fail(f"{error} (fix the spec, then import again)")
        target.check_existing(spec, args.feature, shown_spec)

    bad: list[Skipped] = []
    unanswered: list[Skipped] = []
    scan = Redactor(names or ORDER, replace=bool(names))
    lines = 0

    def calls() -> Iterator[LoggedCall]:
        nonlocal lines
        for item in read_all(files):
            if isinstance(item, Skipped):
                (bad if item.bad else unanswered).append(item)
                lines += not item.bad  # a logged call with no answer is still a logged call
                continue
            lines += 1
            yield scan.call(item)

    selection = select(calls(), args.sample)
    for item in bad[:SHOWN_SKIPPED]:
        print(f"{item}", file=sys.stderr)
    if len(bad) > SHOWN_SKIPPED:
        print(f"... and {len(bad) - SHOWN_SKIPPED} more lines not of the format", file=sys.stderr)
    if not selection.calls:
        for item in unanswered[:SHOWN_SKIPPED]:
            print(f"{item}", file=sys.stderr)
        why = "no line holds a request with its answer" if lines else "no logged model call in it"
        return _fail(f"nothing imported from {sources}: {why}; nothing was written")

    plan = target.plan(selection.calls, spec)
    logged_model = _most_common(c.model for c in selection.calls)
    profile = existing or Profile(args.profile, "recorded", {**({"model": logged_model} if logged_model else {}),
                                                             "imported_from": sources})  # fmt: skip
    outcome = Outcome(sources, lines, selection, plan, bad, unanswered, scan, shown_spec, spec is None)
    if not plan.cases and not plan.present:
        print(outcome.summary(args))
        return _fail(f"nothing imported from {sources}: no request fits (the reasons are above); nothing was written")

    text = spec_file.read_bytes().decode("utf-8") if spec is not None else ""  # line endings kept as they are
    if plan.cases:
        if spec is None:
            assert plan.first is not None
            text = spec_text.new_spec(args.feature, sources, logged_model, plan.system, plan.first, plan.cases)
        else:
            from aitest.spec.yaml_loader import load_yaml

            data, positions = load_yaml(text, shown_spec)
            line = positions.of(("cases",), key=True).line if "cases" in data else None
            try:
                text = spec_text.append(text, line, plan.cases)
            except spec_text.CannotAppend as why:
                return _fail(f"{shown_spec}: {why}")
    try:
        written_spec = load_spec(spec_file, rootdir=rootdir, target_packages=config.target_packages, text=text)
    except AitestError as error:  # not expected: the import would write a spec that does not load
        return _fail(f"the spec the import would write does not load ({error}); nothing was written")
    ids = {c.id for c in written_spec.cases}
    kept = {c.id for c in spec.cases} if spec is not None else set()
    if not ids >= kept | {c.id for c in plan.cases}:
        return _fail(f"{shown_spec}: the new cases cannot be added after its last case as text (does it end in a "
                     "multi-line value?): add an empty line and a comment after it, then import again")  # fmt: skip
    present = list(plan.present)
    while True:
        try:
            entries = write.entries(written_spec, plan.cases + present, profile)
            break
        except write.Changed as changed:
            if changed.args[0] not in {c.id for c in present}:
                return _fail(f"case {changed.args[0]}: the written spec would not send the logged request; "
                             "nothing was written (please report this)")  # fmt: skip
            case = next(c for c in present if c.id == changed.args[0])
            present.remove(case)
            plan.skipped.append(Skipped(case.call.where, f"the spec's case {case.id} was changed since it was "
                                        "imported: left as it is", False))  # fmt: skip
    pyproject = rootdir / "pyproject.toml"
    table_text = None
    if existing is None:
        table_text = profile_table.added_text(pyproject, profile_table.table(args.profile, logged_model, sources))
    lacking = write.missing(config, args.feature, entries)
    if plan.cases or lacking or table_text is not None:
        write.check_writable(spec_file, config.recordings / f"{args.feature}.yaml", pyproject)
        outcome.recorded = write.write_recording(config, args.feature, entries) if lacking else None
        if plan.cases:
            write_atomic(spec_file, text)
        if table_text is not None:
            profile_table.write(pyproject, table_text)
            outcome.new_profile = True
    if not config.is_spec_file(spec_file):
        folders = ", ".join(_relative(f, rootdir) for f in config.specs) or "none"
        print(f"note: {shown_spec} is outside the spec folders ({folders}): pytest collects it only when named",
              file=sys.stderr)  # fmt: skip
    print(outcome.summary(args))
    counts, requests = scan.tally([c.call for c in plan.cases])
    if not names and counts:
        found = ", ".join(f"{n} {counts[n]}" for n in ORDER if counts[n])
        named = ",".join(n for n in ORDER if counts[n])
        said = f"warning: personal data found in {plural(requests, 'request')} ({found}) and written as logged"
        print(f"{said}; to replace it, remove what this import wrote (the new cases, or the new spec and its "
              f"recording) and import again with --redact {named}", file=sys.stderr)  # fmt: skip
    return 1 if bad and not args.skip_bad else 0


@dataclass
class Outcome:
    """What one import did, for its summary."""

    sources: str
    lines: int
    selection: Selection
    plan: Plan
    bad: list[Skipped]
    unanswered: list[Skipped]
    scan: Redactor
    shown_spec: str
    new_spec: bool
    new_profile: bool = False
    recorded: Written | None = None

    def summary(self, args: argparse.Namespace) -> str:
        plan, selection, scan = self.plan, self.selection, self.scan
        out = [f"aitest import: {plural(self.lines, 'logged call')} read from {self.sources}"]
        if plan.cases:
            made = "a new spec" if self.new_spec else "new cases"
            out.append(f"  imported {plural(len(plan.cases), 'request')} as cases of {args.feature} "
                       f"({self.shown_spec}: {made})")  # fmt: skip
        if plan.present:
            out.append(f"  already imported: {plural(len(plan.present), 'request')} (left as they are)")
        if not plan.cases and not plan.present:
            out.append("  nothing imported")
        if args.sample is not None:
            out.append(f"  sample: {len(selection.calls)} of {plural(selection.seen, 'distinct request')} "
                       f"(--sample {args.sample})")  # fmt: skip
        if selection.duplicates:
            other = f"; {selection.differing} had another answer, the first one is kept" if selection.differing else ""
            out.append(f"  duplicates: {selection.duplicates} (imported once{other})")
        left = self.unanswered + plan.skipped
        if left:
            out.append(f"  skipped: {plural(len(left), 'request')} with a reason")
            out += [f"    {item}" for item in left[:SHOWN_SKIPPED]]
            if len(left) > SHOWN_SKIPPED:
                out.append(f"    ... and {len(left) - SHOWN_SKIPPED} more")
        if self.bad:
            status = " (--skip-bad)" if args.skip_bad else " (exit 1; --skip-bad to accept them)"
            out.append(f"  not of the format: {plural(len(self.bad), 'line')}{status}")
        counts, requests = scan.tally([c.call for c in plan.cases])
        if scan.replace and counts:
            counted = ", ".join(f"{n} {counts[n]}" for n in ORDER if counts[n])
            out.append(f"  redacted: {counted} (in {plural(requests, 'request')} imported)")
        elif scan.replace and plan.cases:
            out.append(f"  redacted: nothing found ({', '.join(scan.names)})")
        if plan.other_params:
            out.append(f"  {plural(plan.other_params, 'request')} logged with other params than the spec's: "
                       "recorded under the spec's")  # fmt: skip
        if self.recorded is not None:
            added = plural(self.recorded.added, "entry", "entries")
            out.append(f"  recordings: {self.recorded.recording} (+{added} for {args.profile})")
        if self.new_profile:
            out.append(f"  profile: [tool.aitest.models.{args.profile}] added to pyproject.toml (provider recorded)")
        if plan.cases or plan.present:
            out.append(f"next: aitest compare --baseline {args.profile} --candidate gemma-270m "
                       "--candidate smollm2-135m --aitest-record=new")  # fmt: skip
        return "\n".join(out)


def _most_common(values: Iterable[str | None]) -> str | None:
    counted = Counter(v for v in values if v)
    return counted.most_common(1)[0][0] if counted else None


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)
