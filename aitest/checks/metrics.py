"""Checks by the metric libraries the field trusts (the `aitest[metrics]` extra, imported only when a spec
uses one): rouge_n (rouge-score), bleu (sacrebleu), is_sql (sqlglot), language (lingua)."""

from __future__ import annotations
