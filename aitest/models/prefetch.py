"""Model calls sent ahead (a profile's `concurrency`): once the session knows its selected cases, the first
request of each (every determinism run) goes to the provider, N at once, and the case takes its answer when
it runs. Recordings are still written by the case that takes the answer, so files and verdicts are those of a
sequential run; a call's error is raised in its own case only.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aitest.conversation import first_step
from aitest.errors import AitestError
from aitest.models.client import chat_request, timed_call
from aitest.models.messages import tool_definitions
from aitest.models.profile import Profile
from aitest.models.providers.base import Completion, Provider
from aitest.models.providers.registry import get_provider
from aitest.recordings.entry import Request, entry_key, tool_summary
from aitest.spec.template import render

if TYPE_CHECKING:
    from pathlib import Path

    from aitest.models.runtime import ModelRuntime
    from aitest.spec.model import Case, Spec

Answer = Future[tuple[Completion, float]]


class Gate:
    """At most ``size`` calls in flight; a case's own call (a tool loop's later step) goes before queued ones."""

    def __init__(self, size: int) -> None:
        self._cond = threading.Condition()
        self._free = size
        self._urgent = 0

    @contextmanager
    def hold(self, *, urgent: bool = False) -> Iterator[None]:
        with self._cond:
            self._urgent += urgent
            try:
                while self._free == 0 or (not urgent and self._urgent):
                    self._cond.wait()
            finally:
                self._urgent -= urgent
            self._free -= 1
        try:
            yield
        finally:
            with self._cond:
                self._free += 1
                self._cond.notify_all()


@dataclass
class _Pool:
    """One profile's threads, its gate, and the answers not taken yet (by entry key, in the order sent)."""

    size: int
    provider: Provider
    executor: ThreadPoolExecutor
    gate: Gate
    answers: dict[str, deque[Answer]] = field(default_factory=dict)
    sent: list[Answer] = field(default_factory=list)


class Prefetcher:
    """This process's calls sent ahead, one thread pool per profile whose concurrency is above 1."""

    def __init__(self, rootdir: Path) -> None:
        self.rootdir = rootdir
        self.notes: list[str] = []  # said once: an `auto` that fell back, and why
        self._pools: dict[str, _Pool | None] = {}
        self.once: set[str] = set()  # keys already sent in a mode that replays (the next case replays it)
        self.planned: set[str] = set()  # node ids already planned (xdist hands a worker its items bit by bit)

    def holds(self, profile: Profile) -> bool:
        return self._pools.get(profile.name) is not None

    def pool(self, profile: Profile) -> _Pool | None:
        """The profile's pool, made on first use; None when it takes one call at a time."""
        if profile.name not in self._pools:
            self._pools[profile.name] = None
            if profile.options.get("concurrency", 1) != 1:  # never loads a provider that has no such option
                provider = get_provider(profile, self.rootdir)
                size, note = provider.concurrency()
                if note:
                    self.notes.append(note)
                if size > 1:
                    executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix=f"aitest-{profile.name}")
                    self._pools[profile.name] = _Pool(size, provider, executor, Gate(size))
        return self._pools[profile.name]

    def send(self, pool: _Pool, request: Request, key: str) -> None:
        future = pool.executor.submit(_call, pool.provider, request, pool.gate)
        pool.answers.setdefault(key, deque()).append(future)
        pool.sent.append(future)

    def take(self, profile: Profile, key: str) -> Answer | None:
        """The oldest answer sent ahead for this request and run, or None."""
        pool = self._pools.get(profile.name)
        queue = pool.answers.get(key) if pool is not None else None
        if not queue:
            return None
        future = queue.popleft()
        if not queue:
            del pool.answers[key]  # type: ignore[union-attr]
        return future

    @contextmanager
    def slot(self, profile: Profile) -> Iterator[None]:
        """A call the case makes itself counts against the profile's calls at once too."""
        pool = self._pools.get(profile.name)
        if pool is None:
            yield
            return
        with pool.gate.hold(urgent=True):
            yield

    def progress(self) -> list[tuple[str, int, int, int]]:
        """Per profile: its name, calls at once, calls sent ahead, and how many of them have been answered."""
        return [
            (name, pool.size, len(pool.sent), sum(f.done() and not f.cancelled() for f in pool.sent))
            for name, pool in self._pools.items()
            if pool is not None and pool.sent
        ]

    def close(self) -> None:
        """Cancel the calls not started, and wait for those in flight: no thread outlives the session."""
        for pool in self._pools.values():
            if pool is not None:
                pool.executor.shutdown(wait=True, cancel_futures=True)
                pool.answers.clear()


def _call(provider: Provider, request: Request, gate: Gate) -> tuple[Completion, float]:
    with gate.hold():
        return timed_call(provider, request)


def first_request(spec: Spec, case: Case) -> Request | None:
    """The first model request of a prompt or messages case, exactly as the run builds it; None for a target."""
    if spec.is_chat:
        history, definitions, choice = first_step(spec.turns_for(case), spec.tools, case.vars)
        tools = tool_definitions(list(definitions)) if definitions else None
        return chat_request(history, tools, tool_summary(tools) if tools else None, choice, dict(spec.params))
    if spec.prompt is not None:
        return Request("complete", prompt=str(render(spec.prompt, case.vars)), params=dict(spec.params))
    return None


def send_ahead(runtime: ModelRuntime, cases: Iterable[tuple[str, Spec, Case]], *, runs: int | None) -> int:
    """Send the first call of every (node id, spec, case) whose run will call the model; the number sent."""
    ahead = runtime.ahead
    assert ahead is not None  # made by ModelRuntime.send_ahead
    sent = 0
    for nodeid, spec, case in cases:
        if nodeid in ahead.planned or case.skip or not (spec.is_chat or spec.prompt is not None):
            continue
        ahead.planned.add(nodeid)
        try:
            pool = ahead.pool(runtime.profile_for(spec))
            request = first_request(spec, case) if pool is not None else None
        except Exception:  # a bad template or profile: the case reports it when it runs
            continue
        if pool is None or request is None:
            continue
        model = runtime.profile_for(spec).identity()
        det = spec.determinism_for(case)
        for run in range(det.with_runs(runs).runs if runs else det.runs):
            key = entry_key(model, request, run)
            if _calls_model(runtime, spec.feature, key, ahead.once):
                ahead.send(pool, request, key)
                sent += 1
    return sent


def _calls_model(runtime: ModelRuntime, feature: str, key: str, once: set[str]) -> bool:
    """Whether the run will call the model for this key, as ModelClient._dispatch decides."""
    mode = runtime.mode
    if not mode.uses_files:
        return True
    try:
        recording = runtime.store.feature(feature)
        existed = recording.existed_at_start
        if not mode.replays(file_existed=existed):
            return True
        if not mode.records_misses(file_existed=existed) or key in once or recording.get(key) is not None:
            return False
    except AitestError:  # a damaged recording: the case reports it
        return False
    once.add(key)
    return True
