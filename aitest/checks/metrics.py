"""Checks by the metric libraries the field trusts (the `aitest[metrics]` extra, imported only when a spec
uses one): rouge_n (rouge-score), bleu (sacrebleu), is_sql (sqlglot), language (lingua)."""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

from aitest.checks.base import CheckResult, CheckSetup, ValueCheck, as_text, show
from aitest.checks.registry import register
from aitest.errors import SpecError
from aitest.util.text import did_you_mean, plural, shown

INSTALL = "pip install 'aitest[metrics]'"
_THRESHOLD = {"type": "number", "minimum": 0, "maximum": 1}
_TEXTS = {"oneOf": [{"type": "string", "minLength": 1}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]}


def require(module: str, package: str, check: str, setup: CheckSetup) -> ModuleType:
    """Import a metric library for a check being prepared; missing, the spec fails here with the pip line."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise SpecError(
            f"{check} needs the package {package}, which is not installed ({exc})",
            location=setup.location,
            hint=f"{INSTALL} (the metric libraries are optional)",
        ) from None


def text_of(value: Any) -> str:
    """The output as text for a metric: bytes decoded leniently, JSON compact, anything else by str()."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    try:
        return as_text(value)
    except (TypeError, ValueError):
        return str(value)


def guarded(what: str, compute: Callable[[], CheckResult]) -> CheckResult:
    """Run a library on the output: whatever it raises on odd input fails the case with a message."""
    try:
        return compute()
    except Exception as exc:  # a library's own error on odd input (empty, huge, binary) is a verdict, not a crash
        return CheckResult(False, f"{what} could not judge the output: {type(exc).__name__}: {show(str(exc), 200)}")


def figure(score: float, threshold: float) -> str:
    """A score with two decimals, or more when two would make it look equal to the threshold."""
    for places in (2, 3, 4):
        shown = f"{score:.{places}f}"
        if float(shown) != threshold or score == threshold:
            return shown
    return f"{score:.6f}"


def _references(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _against(references: list[str], best: str) -> str:
    return show(best) if len(references) == 1 else f"the best of {len(references)} references, {show(best)}"


def _verdict(label: str, score: float, threshold: float, against: str, detail: str) -> CheckResult:
    shown = figure(score, threshold)
    if score >= threshold:
        return CheckResult(True, f"{label} {shown} >= threshold {threshold} against {against}", score=score)
    return CheckResult(False, f"{label} {shown} < threshold {threshold} against {against}", score=score, detail=detail)


_ROUGE_SCORERS: dict[int, Any] = {}  # one scorer per n, built once per process


@register
class RougeN(ValueCheck):
    name = "rouge_n"
    example = "rouge_n: The parcel left our warehouse today."
    aliases = ("rouge-n",)
    description = (
        "ROUGE-N F-measure of the output against the reference (the best of a list) is at least the threshold, "
        "by Google's rouge-score (its tokenizer lowercases and keeps only a-z and 0-9)"
    )
    value_schema = _TEXTS
    options = {
        "n": {"type": "integer", "minimum": 1, "maximum": 4, "description": "the n-gram size, default 1"},
        "threshold": {**_THRESHOLD, "description": "the least F-measure, 0..1, default 0.75 (promptfoo's)"},
    }

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        self.references = _references(value)
        self.n = int(options.get("n", 1))
        self.threshold = float(options.get("threshold", 0.75))
        scorer_module = require("rouge_score.rouge_scorer", "rouge-score", self.name, setup)
        tokenize = importlib.import_module("rouge_score.tokenize").tokenize
        for reference in self.references:
            if not tokenize(reference, None):
                raise SpecError(
                    f"rouge_n: the reference {show(reference)} has no word rouge-score can count "
                    "(its tokenizer keeps only a-z and 0-9)",
                    location=setup.location,
                    hint="for text in other scripts, use bleu or similar",
                )
        if self.n not in _ROUGE_SCORERS:
            _ROUGE_SCORERS[self.n] = scorer_module.RougeScorer([f"rouge{self.n}"])
        self.scorer = _ROUGE_SCORERS[self.n]

    def judge(self, output: Any) -> CheckResult:
        return guarded("rouge-score", lambda: self.score(text_of(output)))

    def score(self, text: str) -> CheckResult:
        key = f"rouge{self.n}"
        scores = [self.scorer.score(reference, text)[key].fmeasure for reference in self.references]
        best = max(range(len(scores)), key=scores.__getitem__)
        detail = f"reference: {show(self.references[best], 300)}"
        against = _against(self.references, self.references[best])
        return _verdict(f"ROUGE-{self.n}", scores[best], self.threshold, against, detail)


@register
class Bleu(ValueCheck):
    name = "bleu"
    example = "bleu: The parcel left our warehouse today."
    description = (
        "sentence BLEU of the output against the reference (or a list of references), 0..1, is at least the "
        "threshold, by sacrebleu (its 13a tokenizer, exponential smoothing)"
    )
    value_schema = _TEXTS
    options = {
        "threshold": {**_THRESHOLD, "description": "the least BLEU, 0..1, default 0.5 (promptfoo's)"},
        "ignore_case": {"type": "boolean", "description": "lowercase output and references first"},
    }

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        self.references = _references(value)
        self.threshold = float(options.get("threshold", 0.5))
        self.sacrebleu = require("sacrebleu", "sacrebleu", self.name, setup)

    def judge(self, output: Any) -> CheckResult:
        return guarded("sacrebleu", lambda: self.score(text_of(output)))

    def score(self, text: str) -> CheckResult:
        lowercase = bool(self.opts.get("ignore_case"))
        result = self.sacrebleu.sentence_bleu(text, self.references, lowercase=lowercase)
        score = min(1.0, max(0.0, result.score / 100))  # sacrebleu reports 0..100
        detail = f"sacrebleu: {result}"
        best = self.references[0]
        if len(self.references) > 1:  # name the reference the output is closest to
            each = [self.sacrebleu.sentence_bleu(text, [r], lowercase=lowercase).score for r in self.references]
            best = self.references[max(range(len(each)), key=each.__getitem__)]
            against = f"{len(self.references)} references (closest {show(best)})"
        else:
            against = show(best)
        return _verdict("BLEU", score, self.threshold, against, detail)


# promptfoo's is-sql `databaseType` names (node-sql-parser's) -> sqlglot's dialects
_DATABASE_TYPES = {
    "mysql": "mysql",
    "mariadb": "mysql",
    "postgresql": "postgres",
    "postgres": "postgres",
    "bigquery": "bigquery",
    "hive": "hive",
    "sqlite": "sqlite",
    "transactsql": "tsql",
    "snowflake": "snowflake",
    "redshift": "redshift",
    "trino": "trino",
    "athena": "athena",
}
# the kinds of statement `allowed_statements` names (a statement sqlglot knows no class for is named by its keyword)
_READS_WRITES = ("select", "insert", "update", "delete", "merge", "create", "drop", "alter", "truncate")
_OTHERS = ("grant", "revoke", "set", "use", "show", "describe", "explain", "begin", "commit", "rollback", "copy")
STATEMENTS = (*_READS_WRITES, *_OTHERS, "pragma", "analyze")
_COMMON_DIALECTS = ("mysql", "postgres", "sqlite", "tsql", "oracle", "bigquery", "snowflake", "duckdb")
_FENCE = re.compile(r"^```[A-Za-z]*\n(.*)\n?```$", re.DOTALL)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@register
class IsSql(ValueCheck):
    name = "is_sql"
    example = "{is_sql: null, dialect: postgres, allowed_tables: [orders]}"
    aliases = ("is-sql",)
    description = (
        "the output parses as SQL statements (a ```sql fence is allowed), by sqlglot; optionally touching only "
        "the allowed tables with the allowed kinds of statement"
    )
    value_schema = {
        "oneOf": [
            {"type": "null"},
            {
                "type": "object",
                "description": "promptfoo's form: {databaseType: MySQL, allowedTables: ['select::null::orders']}",
                "properties": {
                    "databaseType": {"type": "string"},
                    "allowedTables": {"type": "array", "items": {"type": "string"}},
                    "allowedColumns": {"type": "array", "items": {"type": "string"}},
                },
                "additionalProperties": False,
            },
        ]
    }
    options = {
        "dialect": {
            "type": "string",
            "description": "a sqlglot dialect (mysql, postgres, sqlite, ...); default generic",
        },
        "allowed_tables": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "description": "the tables the SQL may touch (`orders` or `sales.orders`), any case",
        },
        "allowed_statements": {
            "type": "array",
            "items": {"enum": list(STATEMENTS)},
            "minItems": 1,
            "description": "the kinds of statement allowed, e.g. [select]",
        },
    }

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        self.sqlglot = require("sqlglot", "sqlglot", self.name, setup)
        self.exp = importlib.import_module("sqlglot.expressions")
        promptfoo = value if isinstance(value, dict) else {}
        if "allowedColumns" in promptfoo:
            raise SpecError(
                "is_sql: allowedColumns is not supported",
                location=setup.location,
                hint="limit the tables with allowedTables (or allowed_tables), or check columns in a python: check",
            )
        self.dialect = self._dialect(options.get("dialect"), promptfoo.get("databaseType"), setup)
        tables = list(options.get("allowed_tables", []))
        statements = list(options.get("allowed_statements", []))
        for entry in promptfoo.get("allowedTables", []):  # node-sql-parser's `kind::schema::table`
            kind, _, table = entry.rpartition("::")
            kind = kind.split("::")[0].lower()
            if not re.fullmatch(r"[\w.]+", table) or (kind and kind not in STATEMENTS):
                raise SpecError(
                    f"is_sql: allowedTables entry {shown(entry)} is not `kind::schema::table` with plain names",
                    location=setup.location,
                    hint="plain names, not patterns: e.g. select::null::orders, or allowed_tables: [orders]",
                )
            tables.append(table)
            statements += [kind] if kind else []
        self.tables = {t.lower() for t in tables} if tables or "allowedTables" in promptfoo else None
        self.statements = set(statements) if statements else None

    def _dialect(self, dialect: str | None, database_type: str | None, setup: CheckSetup) -> str | None:
        if dialect is None and database_type is not None:
            mapped = _DATABASE_TYPES.get(database_type.lower())
            if mapped is None:
                raise SpecError(
                    f"is_sql: unknown databaseType {shown(database_type)}"
                    f"{did_you_mean(database_type, list(_DATABASE_TYPES))}",
                    location=setup.location,
                    hint=f"one of {', '.join(sorted(_DATABASE_TYPES))}; or the dialect option, any sqlglot dialect",
                )
            return mapped
        if dialect is None:
            return None
        known = sorted(d for d in importlib.import_module("sqlglot.dialects.dialect").Dialect.classes if d)
        if dialect.lower() not in known:
            raise SpecError(
                f"is_sql: unknown SQL dialect {shown(dialect)}{did_you_mean(dialect, known)}",
                location=setup.location,
                hint=f"a sqlglot dialect, e.g. {', '.join(_COMMON_DIALECTS)} ({len(known)} in all); "
                "leave it out for generic SQL",
            )
        return dialect.lower()

    def judge(self, output: Any) -> CheckResult:
        return guarded("sqlglot", lambda: self.parse(text_of(output)))

    def parse(self, text: str) -> CheckResult:
        fenced = _FENCE.match(text.strip())
        sql = fenced.group(1) if fenced else text
        try:
            parsed = [s for s in self.sqlglot.parse(sql, read=self.dialect) if s is not None]
        except self.sqlglot.errors.SqlglotError as exc:
            return CheckResult(False, f"not valid {self._which()}SQL: {self._error(exc)}")
        if not parsed:
            return CheckResult(False, "the output holds no SQL statement (it is empty or only comments)")
        exp = self.exp
        for statement in parsed:
            if isinstance(statement, (exp.Condition, exp.Alias, exp.Star, exp.Identifier)):
                return CheckResult(False, f"not a SQL statement: {show(statement.sql())} is only an expression")
        kinds = [self._kind(s) for s in parsed]
        if self.statements is not None and any(k not in self.statements for k in kinds):
            bad = next(k for k in kinds if k not in self.statements)
            return CheckResult(False, f"a {bad.upper()} statement, but only {self._listed(self.statements)} allowed")
        touched = sorted({t for s in parsed for t in self._tables(s)})
        if self.tables is not None:
            other = [t for t in touched if t.lower() not in self.tables and t.split(".")[-1].lower() not in self.tables]
            if other:
                allowed = ", ".join(sorted(self.tables)) or "none"
                return CheckResult(
                    False,
                    f"the SQL touches {plural(len(other), 'table')} not allowed: {', '.join(other)} "
                    f"(allowed: {allowed})",
                )
        on = f" on {', '.join(touched)}" if touched else ""
        return CheckResult(
            True, f"valid {self._which()}SQL: {plural(len(parsed), 'statement')} ({', '.join(kinds)}){on}"
        )

    def _which(self) -> str:
        return f"{self.dialect} " if self.dialect else ""

    @staticmethod
    def _listed(kinds: set[str]) -> str:
        names = sorted(k.upper() for k in kinds)
        return f"{names[0]} is" if len(names) == 1 else f"{', '.join(names)} are"

    @staticmethod
    def _error(exc: Exception) -> str:
        errors = getattr(exc, "errors", None)
        if errors:
            first = errors[0]
            where = f" at line {first.get('line')}, column {first.get('col')}" if first.get("line") else ""
            near = _ANSI.sub("", str(first.get("highlight") or "")).strip()
            where += f" (near {show(near, 40)})" if near else ""
            return f"{_ANSI.sub('', str(first.get('description')))}{where}"
        return _ANSI.sub("", str(exc)).splitlines()[0] if str(exc) else type(exc).__name__

    def _kind(self, statement: Any) -> str:
        exp = self.exp
        for cls, kind in (
            (exp.Query, "select"),
            (exp.Values, "select"),
            (exp.Insert, "insert"),
            (exp.Update, "update"),
            (exp.Delete, "delete"),
            (exp.Merge, "merge"),
            (exp.Create, "create"),
            (exp.Drop, "drop"),
            (exp.Alter, "alter"),
            (exp.TruncateTable, "truncate"),
            (exp.Transaction, "begin"),
        ):
            if isinstance(statement, cls):
                return kind
        if isinstance(statement, exp.Command):
            return str(statement.this).lower()
        return type(statement).__name__.lower()

    def _tables(self, statement: Any) -> set[str]:
        """The tables a statement names (qualified when it qualifies them), less its own CTEs."""
        exp = self.exp
        ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
        found = set()
        for table in statement.find_all(exp.Table):
            if table.name and not (not table.db and table.name.lower() in ctes):
                found.add(f"{table.db}.{table.name}" if table.db else table.name)
        return found


# the languages `language` tells apart when a check names no `among`: widely used ones, each of a script or
# spelling of its own; lingua is most accurate among few candidates, and loads a model per language it weighs
DEFAULT_AMONG = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "uk", "tr", "ar", "zh", "ja", "ko", "hi")
_CODE = {"type": "string", "pattern": "^[A-Za-z]{2}$"}
_DETECTORS: dict[frozenset[str], Any] = {}  # one detector per set of candidate languages, per process


@functools.cache
def _lingua_codes(lingua: ModuleType) -> list[str]:
    """The ISO 639-1 codes of the languages lingua knows (asked once: ten thousand checks ask it again)."""
    return sorted(language.iso_code_639_1.name.lower() for language in lingua.Language.all())


@register
class Language(ValueCheck):
    name = "language"
    example = "language: de"
    description = (
        "the output's detected language is the ISO 639-1 code (or one of a list), by lingua; the score is its "
        "confidence"
    )
    value_schema = {"oneOf": [_CODE, {"type": "array", "items": _CODE, "minItems": 1}]}
    options = {
        "among": {
            "type": "array",
            "items": _CODE,
            "minItems": 1,
            "description": "the languages to tell apart (ISO 639-1); default 16 widely used ones, plus the expected",
        },
    }

    def __init__(self, value: Any, options: dict[str, Any], setup: CheckSetup) -> None:
        super().__init__(value, options, setup)
        self.lingua = require("lingua", "lingua-language-detector", self.name, setup)
        self.wanted = [self._code(c, setup) for c in ([value] if isinstance(value, str) else value)]
        among = [self._code(c, setup) for c in options.get("among", DEFAULT_AMONG)]
        self.among = frozenset(among) | frozenset(self.wanted)
        if len(self.among) < 2:
            raise SpecError(
                "language: the detector needs at least two languages to choose between",
                location=setup.location,
                hint="list the languages the output might be in with among: [de, en, ...]",
            )

    def _code(self, code: str, setup: CheckSetup) -> str:
        known = _lingua_codes(self.lingua)
        if code.lower() not in known:
            raise SpecError(
                f"language: unknown ISO 639-1 code {shown(code)}{did_you_mean(code, known)}",
                location=setup.location,
                hint=f"a two-letter code lingua knows, e.g. {', '.join(DEFAULT_AMONG[:8])} ({len(known)} in all)",
            )
        return code.lower()

    def detector(self) -> Any:
        if self.among not in _DETECTORS:
            codes = [getattr(self.lingua.IsoCode639_1, c.upper()) for c in sorted(self.among)]
            _DETECTORS[self.among] = self.lingua.LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()
        return _DETECTORS[self.among]

    def judge(self, output: Any) -> CheckResult:
        return guarded("lingua", lambda: self.detect(text_of(output)))

    def detect(self, text: str) -> CheckResult:
        values = self.detector().compute_language_confidence_values(text)
        confidence = {v.language.iso_code_639_1.name.lower(): float(v.value) for v in values}
        top = max(confidence, key=confidence.__getitem__) if confidence else None
        wanted = " or ".join(self.wanted)
        if top is None or confidence[top] == 0:
            return CheckResult(False, f"no language detected in the output (expected {wanted}): {show(text)}", 0.0)
        score = max(confidence.get(c, 0.0) for c in self.wanted)
        if top in self.wanted:
            return CheckResult(True, f"language {top} (confidence {score:.2f})", score=score)
        return CheckResult(
            False,
            f"detected language {top} (confidence {confidence[top]:.2f}), expected {wanted} "
            f"(confidence {score:.2f}): {show(text)}",
            score=score,
        )
