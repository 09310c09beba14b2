"""The metric checks (rouge_n, bleu, is_sql, language) on real specs: verdicts and messages as a user sees
them, scores equal to the reference libraries' own, bad options at collection, and the missing extra."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from aitest.checks.metrics import DEFAULT_AMONG, figure
from aitest.checks.registry import all_checks
from conftest import Project, literal_brackets

METRICS = pytest.mark.needs("rouge_score", "sacrebleu", "sqlglot", "lingua")  # the metrics extra runs the check
REFERENCE = "The parcel is on its way and will arrive tomorrow"


def verdict(project: Project, check: str, output: Any) -> tuple[dict[str, Any], pytest.RunResult]:
    """Run one case whose target returns ``output`` under ``check`` (YAML of one list item): the check's
    verdict as the JSON report holds it, and the pytest result."""
    project.module("out", f"def produce():\n    return {output!r}\n")
    check = textwrap.indent(textwrap.dedent(check).strip(), "        ").lstrip()
    project.spec(
        "specs/c.yaml", f"feature: c\ntarget: out:produce\ncases:\n  - id: one\n    expect:\n      - {check}\n"
    )
    result = project.run("--aitest-report=report.json")
    (case,) = json.loads((project.root / "report.json").read_text())["cases"]
    (checked,) = case["runs"][0]["checks"]
    return checked, result


def rouge(n: int, reference: str, output: str) -> float:
    from rouge_score import rouge_scorer

    return float(rouge_scorer.RougeScorer([f"rouge{n}"]).score(reference, output)[f"rouge{n}"].fmeasure)


def bleu(output: str, references: list[str]) -> float:
    import sacrebleu

    return float(sacrebleu.sentence_bleu(output, references).score / 100)


# rouge_n


@METRICS
@pytest.mark.parametrize(
    ("options", "output", "n", "threshold"),
    [
        ("", "The parcel is on its way and arrives tomorrow", 1, 0.75),
        ("threshold: 0.6", "Your order was cancelled, sorry about the parcel", 1, 0.6),
        ("n: 2", "The parcel is on its way and arrives tomorrow", 2, 0.75),
        ("n: 3\nthreshold: 0.5", "The parcel is on its way and arrives tomorrow", 3, 0.5),
    ],
)
def test_rouge_n_scores_as_rouge_score_does(
    project: Project, options: str, output: str, n: int, threshold: float
) -> None:
    checked, result = verdict(project, f"rouge_n: {REFERENCE}\n{options}", output)
    expected = rouge(n, REFERENCE, output)
    assert checked["score"] == pytest.approx(expected)
    if expected >= threshold:
        result.assert_outcomes(passed=1)
        assert checked["message"] == f"ROUGE-{n} {expected:.2f} >= threshold {threshold} against '{REFERENCE}'"
    else:
        result.assert_outcomes(failed=1)
        line = f"  rouge_n at specs/c.yaml:6:9: ROUGE-{n} {expected:.2f} < threshold {threshold} against '{REFERENCE}'"
        result.stdout.fnmatch_lines([line, f"      reference: '{REFERENCE}'"])


def test_a_score_shows_enough_decimals_to_differ_from_the_threshold() -> None:
    assert figure(0.4213, 0.6) == "0.42"
    assert figure(0.8471, 0.85) == "0.847"  # not "0.85 < threshold 0.85"
    assert figure(0.84996, 0.85) == "0.849960"
    assert figure(0.85, 0.85) == "0.85"


@METRICS
def test_rouge_n_with_a_list_takes_the_best_reference(project: Project) -> None:
    references = ["Your refund was issued today", REFERENCE]
    output = "The parcel is on its way"
    checked, result = verdict(project, f"rouge_n: {json.dumps(references)}\nthreshold: 0.9", output)
    result.assert_outcomes(failed=1)
    assert checked["score"] == pytest.approx(max(rouge(1, r, output) for r in references))
    best = max(rouge(1, r, output) for r in references)
    result.stdout.fnmatch_lines(
        [f"*ROUGE-1 {best:.2f} < threshold 0.9 against the best of 2 references, '{REFERENCE}'"]
    )


# bleu


@METRICS
def test_bleu_passes_on_a_close_output_with_sacrebleus_score(project: Project) -> None:
    output = "The parcel is on its way and will arrive today"
    checked, result = verdict(project, f"bleu: {REFERENCE}", output)
    result.assert_outcomes(passed=1)
    assert checked["score"] == pytest.approx(bleu(output, [REFERENCE]))
    assert checked["message"] == f"BLEU {bleu(output, [REFERENCE]):.2f} >= threshold 0.5 against '{REFERENCE}'"


@METRICS
def test_bleu_fails_below_the_threshold_against_several_references(project: Project) -> None:
    references = ["The parcel is on its way", "Your order is on its way"]
    output = "Your order was cancelled"
    checked, result = verdict(project, f"bleu: {json.dumps(references)}", output)
    result.assert_outcomes(failed=1)
    expected = bleu(output, references)
    assert checked["score"] == pytest.approx(expected)
    result.stdout.fnmatch_lines(
        [
            f"  bleu at specs/c.yaml:6:9: BLEU {expected:.2f} < threshold 0.5 against 2 references "
            "(closest 'Your order is on its way')",
            f"      sacrebleu: BLEU = {expected * 100:.2f} *",
        ]
    )


@METRICS
def test_bleu_ignore_case_lowercases_both_sides(project: Project) -> None:
    checked, result = verdict(project, "bleu: the parcel is on its way\nignore_case: true", "THE PARCEL IS ON ITS WAY")
    result.assert_outcomes(passed=1)
    assert checked["score"] == pytest.approx(1.0)


# is_sql


@METRICS
@pytest.mark.parametrize(
    ("check", "output", "line"),
    [
        ("is_sql", "SELECT id FROM orders WHERE total > 10", None),
        ("is_sql", "```sql\nSELECT id FROM orders;\nSELECT 1\n```", None),
        ("is_sql:\ndialect: mysql", "SELECT * FROM `orders`", None),
        ("is_sql:\ndialect: postgres", "SELECT * FROM `orders`", "*is_sql at *: not valid postgres SQL: *"),
        ("is_sql", "Sure! SELECT 1", "*is_sql at specs/c.yaml:6:9: not valid SQL: * at line 1, column 5 (near '!')"),
        ("is_sql", "orders", "*is_sql at *: not a SQL statement: 'orders' is only an expression"),
        ("is_sql", "", "*is_sql at *: the output holds no SQL statement (it is empty or only comments)"),
        ("is_sql:\nallowed_tables: [orders]", "SELECT o.id FROM Orders o", None),
        (
            "is_sql:\nallowed_tables: [orders]",
            "WITH recent AS (SELECT * FROM orders) SELECT * FROM recent JOIN users u ON u.id = recent.user_id",
            "*is_sql at *: the SQL touches 1 table not allowed: users (allowed: orders)",
        ),
        (
            "is_sql:\nallowed_statements: [select]",
            "SELECT 1; DELETE FROM orders",
            "*is_sql at *: a DELETE statement, but only SELECT is allowed",
        ),
        ("is_sql: {databaseType: MySQL, allowedTables: ['select::null::orders']}", "SELECT * FROM `orders`", None),
        (
            "is_sql: {databaseType: MySQL, allowedTables: ['select::null::orders']}",
            "UPDATE orders SET total = 0",
            "*is_sql at *: a UPDATE statement, but only SELECT is allowed",
        ),
    ],
)
def test_is_sql(project: Project, check: str, output: str, line: str | None) -> None:
    checked, result = verdict(project, check, output)
    if line is None:
        result.assert_outcomes(passed=1)
        assert checked["message"].startswith("valid ")
    else:
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines([literal_brackets(line)])


@METRICS
def test_is_sql_passes_with_a_message_naming_statements_and_tables(project: Project) -> None:
    checked, _ = verdict(project, "is_sql", "SELECT * FROM orders JOIN sales.users ON 1 = 1")
    assert checked["message"] == "valid SQL: 1 statement (select) on orders, sales.users"


# language


@functools.cache
def detector(codes: frozenset[str]) -> Any:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_iso_codes_639_1(*(getattr(IsoCode639_1, c.upper()) for c in codes)).build()


def lingua_confidence(text: str, wanted: str, among: tuple[str, ...]) -> float:
    from lingua import IsoCode639_1, Language

    language = Language.from_iso_code_639_1(getattr(IsoCode639_1, wanted.upper()))
    return float(detector(frozenset({*among, wanted})).compute_language_confidence(text, language))


@METRICS
def test_language_passes_with_linguas_confidence(project: Project) -> None:
    text = "Das Paket ist unterwegs und kommt morgen an."
    checked, result = verdict(project, "language: de", text)
    result.assert_outcomes(passed=1)
    assert checked["score"] == pytest.approx(lingua_confidence(text, "de", DEFAULT_AMONG))
    assert checked["message"].startswith("language de (confidence 0.")


@METRICS
def test_language_fails_naming_the_detected_language(project: Project) -> None:
    text = "The parcel is on its way and arrives tomorrow."
    checked, result = verdict(project, "language: de", text)
    result.assert_outcomes(failed=1)
    assert checked["score"] == pytest.approx(lingua_confidence(text, "de", DEFAULT_AMONG))
    result.stdout.fnmatch_lines(
        [
            f"*language at specs/c.yaml:6:9: detected language en (confidence 0.*), expected de (confidence 0.*): '{text}'"
        ]
    )


@METRICS
def test_language_accepts_a_list_and_a_set_of_candidates(project: Project) -> None:
    text = "Le colis est en route."
    checked, result = verdict(project, "language: [de, FR]\namong: [en, it]", text)
    result.assert_outcomes(passed=1)
    assert checked["score"] == pytest.approx(lingua_confidence(text, "fr", ("en", "it", "de")))


# bad options: file:line at collection


@METRICS
@pytest.mark.parametrize(
    ("check", "error"),
    [
        ("rouge_n: x\n        n: 7", "specs/c.yaml:7:12: 'n' must be at most 4, not 7"),
        ("bleu: x\n        threshold: 1.5", "specs/c.yaml:7:20: 'threshold' must be at most 1, not 1.5"),
        ("rouge_n: '日本語'", "specs/c.yaml:6:18: rouge_n: the reference '日本語' has no word rouge-score can count*"),
        (
            "is_sql:\n        dialect: mysqll",
            "specs/c.yaml:6:16: is_sql: unknown SQL dialect 'mysqll'; did you mean 'mysql'?",
        ),
        ("is_sql: {databaseType: Oracle9}", "specs/c.yaml:6:17: is_sql: unknown databaseType 'Oracle9'"),
        ("is_sql: {allowedColumns: ['select::null::id']}", "*is_sql: allowedColumns is not supported"),
        ("is_sql: {allowedTables: ['(select|update)::(.*)::(a|b)']}", "*is_sql: allowedTables entry * is not *"),
        (
            "is_sql:\n        allowed_statements: [selekt]",
            "specs/c.yaml:7:30: 'allowed_statements' must be one of select, *, not 'selekt'; did you mean 'select'?",
        ),
        ("language: xx", "specs/c.yaml:6:19: language: unknown ISO 639-1 code 'xx'"),
        ("language: de\n        among: [de]", "*language: the detector needs at least two languages*"),
        ("language: deu", "specs/c.yaml:6:19: *"),
    ],
)
def test_bad_options_fail_at_collection_with_file_and_line(project: Project, check: str, error: str) -> None:
    project.module("out", "def produce():\n    return 'x'\n")
    project.spec(
        "specs/c.yaml", f"feature: c\ntarget: out:produce\ncases:\n  - id: one\n    expect:\n      - {check}\n"
    )
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*spec error*", literal_brackets(error)])


@METRICS
def test_an_unknown_dialect_lists_some_known_ones(project: Project) -> None:
    project.module("out", "def produce():\n    return 'x'\n")
    project.spec(
        "specs/c.yaml",
        "feature: c\ntarget: out:produce\ncases:\n  - id: one\n    expect:\n      - is_sql:\n        dialect: db9\n",
    )
    project.run().stdout.fnmatch_lines(["*hint: a sqlglot dialect, e.g. mysql, postgres, sqlite, tsql, *(* in all)*"])


# odd output: a message, never a traceback


@METRICS
@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("", "*language at *: no language detected in the output (expected en): ''"),
        ("a\ud800b SELECT", "*language at *: lingua could not judge the output: UnicodeEncodeError: *"),
        ("\x00\xff\ufffd\x89PNG\r\n\x1a\n", "*is_sql at *: not a SQL statement: * is only an expression"),
        (
            "SELECT " + "(" * 3000 + "1" + ")" * 3000,
            "*is_sql at *: sqlglot could not judge the output: RecursionError: *",
        ),
        ("the parcel is on its way " * 8000, "*rouge_n at *: ROUGE-1 0.00 < threshold 0.75 against *"),
    ],
)
def test_odd_output_fails_the_case_with_a_message(project: Project, output: str, message: str) -> None:
    check = "rouge_n: the parcel is on its way\n      - bleu: the parcel is on its way\n      - is_sql\n      - language: en"
    project.module("out", f"def produce():\n    return {output!r}\n")
    project.spec(
        "specs/c.yaml", f"feature: c\ntarget: out:produce\ncases:\n  - id: one\n    expect:\n      - {check}\n"
    )
    result = project.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([message])
    assert "Traceback" not in result.stdout.str() and "INTERNALERROR" not in result.stdout.str()


# the optional extra


def test_without_the_extra_a_spec_fails_at_collection_with_the_pip_line(project: Project) -> None:
    project.module("out", "def produce():\n    return 'x'\n")
    project.spec(
        "specs/c.yaml",
        """
        feature: c
        target: out:produce
        cases:
          - id: one
            expect:
              - rouge_n: x
              - bleu: x
              - is_sql
              - language: de
              - contains: x
        """,
    )
    project.block_imports("rouge_score", "sacrebleu", "sqlglot", "lingua")
    result = project.pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            literal_brackets(line)
            for line in [
                "specs/c.yaml:6:18: rouge_n needs the package rouge-score, which is not installed *",
                "  hint: pip install 'aitest[metrics]' (the metric libraries are optional)",
                "specs/c.yaml:7:15: bleu needs the package sacrebleu, which is not installed *",
                "  hint: pip install 'aitest[metrics]' *",
                "specs/c.yaml:8:9: is_sql needs the package sqlglot, which is not installed *",
                "  hint: pip install 'aitest[metrics]' *",
                "specs/c.yaml:9:19: language needs the package lingua-language-detector, which is not installed *",
                "  hint: pip install 'aitest[metrics]' *",
            ]
        ]
    )


def test_the_libraries_are_imported_only_when_a_spec_uses_them() -> None:
    code = (
        "import sys, aitest.plugin\n"
        "from aitest.checks.registry import all_checks\n"
        "from aitest.spec.schema import check_schemas\n"
        "all_checks(); check_schemas()\n"
        "print(sorted(m for m in ('rouge_score', 'sacrebleu', 'sqlglot', 'lingua', 'nltk') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_promptfoo_spellings_are_declared_as_aliases() -> None:
    checks = all_checks()
    assert checks["rouge_n"].aliases == ("rouge-n",)
    assert checks["is_sql"].aliases == ("is-sql",)
    assert {"rouge_n", "bleu", "is_sql", "language"} <= set(checks)
