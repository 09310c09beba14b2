"""Distinct requests, and a reproducible sample of them: duplicates (the same turns, tools and tool_choice)
are kept once, with the first answer the log holds, and counted; ``--sample N`` keeps the N requests with
the smallest digests, so the same file gives the same N, whatever the line order (a bigger log may hold
requests with smaller digests, which then take the place of some)."""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

from aitest.importing.logged import LoggedCall


@dataclass
class Selection:
    calls: list[LoggedCall] = field(default_factory=list)  # in the log's order (of first appearance)
    duplicates: int = 0  # requests seen again after the first time
    differing: int = 0  # of those, how many had another answer than the one kept
    seen: int = 0  # distinct requests in the log (before sampling)


def select(calls: Iterable[LoggedCall], sample: int | None = None) -> Selection:
    out = Selection()
    first: dict[bytes, bytes] = {}  # request digest -> answer digest (16 bytes each: bounded per request)
    kept: list[tuple[bytes, int, LoggedCall]] = []  # a heap of (-digest, order, call) when sampling
    everything: list[LoggedCall] = []
    for order, call in enumerate(calls):
        digest = bytes.fromhex(call.identity())[:16]
        answer = _answer(call)
        if digest in first:
            out.duplicates += 1
            out.differing += first[digest] != answer
            continue
        first[digest] = answer
        if sample is None:
            everything.append(call)
        else:
            item = (bytes(255 - b for b in digest), order, call)  # a max-heap on the digest
            if len(kept) < sample:
                heapq.heappush(kept, item)
            elif item[0] > kept[0][0]:
                heapq.heapreplace(kept, item)
    out.seen = len(first)
    out.calls = everything if sample is None else [c for _, _, c in sorted(kept, key=lambda k: k[1])]
    return out


def _answer(call: LoggedCall) -> bytes:
    blob = call.text + "\x00" + "\x00".join(f"{c.name}{sorted(c.arguments.items())}" for c in call.tool_calls)
    return hashlib.sha256(blob.encode("utf-8")).digest()[:16]
