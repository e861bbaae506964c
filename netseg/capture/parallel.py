"""Replay's reading, split by file and by chunk of file, in-process, on worker processes or Dask.

The unit of work is a :class:`Task`: one whole file, or one record-aligned part of an
uncompressed file (:class:`~netseg.capture.reader.Span`, found by walking the record headers
once in the calling process). Each task gives topology-independent
:class:`~netseg.capture.accounting.CaptureTables` whose frame numbers are those of one
sequential read (a span knows its first frame number); :func:`merge_parts` joins them, in task
order, into exactly the tables of ``--workers 1``: conversation and event tables merge
associatively, and the accounts of one file's parts add up (sample frames in order, ``cut_short``
from its last part, a file whose part could not be read is an error as a whole).

The same tasks and the same merge run three ways:

* in-process, one task after another (``workers=1``);
* on ``workers`` local processes (started at once, so that reading overlaps whatever the caller
  does next, such as loading the topology: :func:`start_tabulation` returns
  :class:`PendingTables`);
* on a Dask cluster (``scheduler="tcp://host:port"``, the optional ``netseg-hv[cluster]`` extra).
  Workers there read the files themselves: every path must be visible on every worker under the
  same absolute path.

::

    pending = start_tabulation(["a.pcap", "b.pcapng"], workers=2)
    with pending:
        ...                                # load the topology meanwhile
        tables = pending.result()
"""

from __future__ import annotations

import importlib
import math
import multiprocessing
import os
import queue
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from netseg.capture.accounting import CaptureTables, FileAccount, tabulate_file
from netseg.capture.conversations import SAMPLES
from netseg.capture.reader import Span, capture_files, spans
from netseg.errors import SchedulerError

__all__ = [
    "MIN_CHUNK",
    "PendingTables",
    "Task",
    "merge_parts",
    "plan",
    "run_task",
    "start_tabulation",
    "tabulate",
]

#: A file is split only into parts of at least this many bytes.
MIN_CHUNK = 16 * 1024 * 1024
#: Seconds to wait for a Dask scheduler to answer.
CONNECT_TIMEOUT = 5.0
# Whole files are kept whole when they already share out within this factor of a perfect split.
_BALANCED = 1.15

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Task:
    """One unit of reading: file ``index`` of the replay, whole or only ``span`` of it.

    ``path`` is what is opened (absolute for a cluster), ``name`` the path as given (shown in
    the output); ``size`` (bytes) orders the work, largest first.
    """

    index: int
    path: str
    name: str
    span: Span | None = None
    size: int = 0


def run_task(task: Task, progress: Progress | None = None) -> CaptureTables:
    """Read one task's records into tables (what a worker runs)."""
    out = tabulate_file(task.path, task.index, progress=progress, span=task.span)
    for account in out.files:
        account.file = task.name
    return out


# --- planning -----------------------------------------------------------------------------


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _pieces(sizes: Sequence[int], parts: int, chunk_bytes: int | None) -> list[int]:
    """How many parts each file should be read in (1: whole)."""
    if chunk_bytes is not None:
        return [max(1, round(s / max(chunk_bytes, 1))) for s in sizes]
    total = sum(sizes)
    if parts <= 1 or total == 0:
        return [1] * len(sizes)
    load = [0] * parts  # longest processing time first: the makespan of whole files
    for s in sorted(sizes, reverse=True):
        load[load.index(min(load))] += s
    if max(load) <= _BALANCED * total / parts:
        return [1] * len(sizes)
    piece = max(MIN_CHUNK, total // (2 * parts))
    return [max(1, math.ceil(s / piece - 0.01)) if s >= 2 * MIN_CHUNK else 1 for s in sizes]


def plan(
    paths: Iterable[str | os.PathLike[str]],
    parts: int = 1,
    *,
    chunk_bytes: int | None = None,
    absolute: bool = False,
) -> list[Task]:
    """The tasks for reading ``paths`` on ``parts`` workers, in replay order (file, then part).

    Files are split only when whole files would not share out evenly (or, with ``chunk_bytes``,
    into parts of about that size: for tests); compressed files and files too small to split
    are read whole.
    """
    whole, split = _plan_whole(paths, parts, chunk_bytes, absolute)
    return _order([*whole, *_plan_split(split)])


def _plan_whole(
    paths: Iterable[str | os.PathLike[str]],
    parts: int,
    chunk_bytes: int | None,
    absolute: bool,
) -> tuple[list[Task], list[tuple[Task, int]]]:
    files = capture_files(paths)
    sizes = [_size(p) for p in files]
    whole: list[Task] = []
    split: list[tuple[Task, int]] = []
    for i, (path, size, n) in enumerate(
        zip(files, sizes, _pieces(sizes, parts, chunk_bytes), strict=True)
    ):
        task = Task(i, os.path.abspath(path) if absolute else str(path), str(path), None, size)
        if n <= 1:
            whole.append(task)
        else:
            split.append((task, n))
    return whole, split


def _plan_split(split: Iterable[tuple[Task, int]]) -> list[Task]:
    out: list[Task] = []
    for task, n in split:
        found = spans(task.path, n)
        if not found:
            out.append(task)
            continue
        for span in found:
            end = span.end if span.end is not None else task.size
            out.append(replace(task, span=span, size=end - span.start))
    return out


def _order(tasks: Iterable[Task]) -> list[Task]:
    return sorted(tasks, key=lambda t: (t.index, t.span.start if t.span else 0))


# --- merging ------------------------------------------------------------------------------


def _join(a: FileAccount, b: FileAccount) -> FileAccount:
    """The account of two consecutive parts of one file (``a`` first)."""

    def add(x: dict[Any, int], y: dict[Any, int]) -> dict[Any, int]:
        return {k: x.get(k, 0) + y.get(k, 0) for k in {**x, **y}}

    def first(x: dict[Any, list[int]], y: dict[Any, list[int]]) -> dict[Any, list[int]]:
        return {k: [*x.get(k, []), *y.get(k, [])][:SAMPLES] for k in {**x, **y}}

    return FileAccount(
        a.file,
        a.index,
        a.format or b.format,
        a.compressed,
        a.frames + b.frames,
        a.decoded + b.decoded,
        add(a.undecodable, b.undecodable),
        first(a.undecodable_frames, b.undecodable_frames),
        add(a.unsupported, b.unsupported),
        first(a.unsupported_frames, b.unsupported_frames),
        b.cut_short,
        a.damage or b.damage,
        None,
        a.warning or b.warning,
        a.corrupt_record if a.corrupt_record is not None else b.corrupt_record,
        a.stream or b.stream,
        a.interrupted or b.interrupted,
    )


class _Merge:
    """Task results joined into one set of tables (:func:`merge_parts`), fed piece by piece:
    each task's file account (by its position in task order) and tables, which may hold the
    conversations and events of several tasks already merged (a worker's, see
    :func:`_start_pool`). Tables of part of a split file are given with that file's index,
    so that they are left out when any part of the file could not be read."""

    def __init__(self) -> None:
        self.accounts: dict[int, FileAccount] = {}
        self.tables: list[tuple[int | None, CaptureTables]] = []

    def account(self, pos: int, account: FileAccount) -> None:
        self.accounts[pos] = account

    def add(self, tables: CaptureTables, split_file: int | None = None) -> None:
        self.tables.append((split_file, tables))

    def result(self) -> CaptureTables:
        by_file: dict[int, list[FileAccount]] = {}
        for pos in sorted(self.accounts):
            account = self.accounts[pos]
            by_file.setdefault(account.index, []).append(account)
        failed = {i for i, group in by_file.items() if any(a.error for a in group)}
        result = CaptureTables()
        for index in sorted(by_file):
            group = by_file[index]
            if index in failed:
                result.files.append(next(a for a in group if a.error))
                continue
            account = group[0]
            for other in group[1:]:
                account = _join(account, other)
            result.files.append(account)
        kept = [t for split, t in self.tables if split is None or split not in failed]
        if kept:
            # the first tables are taken as they are (they are the merge's own): no copy
            result.conversations, result.events = kept[0].conversations, kept[0].events
        for tables in kept[1:]:
            result.conversations.update(tables.conversations)
            result.events.update(tables.events)
        return result


def merge_parts(parts: Sequence[CaptureTables]) -> CaptureTables:
    """Join task results given in task order (file, then part) into one set of tables.

    A file any of whose parts could not be read counts as unreadable as a whole, as in a
    sequential read. The parts are the merge's own: their tables are merged into, not copied.
    """
    merge = _Merge()
    for pos, part in enumerate(parts):
        merge.account(pos, part.files[0])
        merge.add(part, part.files[0].index)
    return merge.result()


# --- running ------------------------------------------------------------------------------

Outcome = tuple[int, CaptureTables | None, BaseException | None]
#: How the results of started reading are waited for and merged (given the progress callback).
Gather = Callable[[Progress | None], CaptureTables]


class PendingTables:
    """Reading that has started (or, in-process, will run on :meth:`result`).

    Use as a context manager, or call :meth:`close`: worker processes still reading are stopped
    (a caller that fails before asking for the result does not wait for them).
    """

    def __init__(
        self,
        tasks: list[Task],
        gather: Gather,
        close: Callable[[], None] = lambda: None,
    ) -> None:
        self.tasks = tasks
        self._gather = gather
        self._close = close
        self._result: CaptureTables | None = None

    def result(self, progress: Progress | None = None) -> CaptureTables:
        """The merged tables (waits for the workers). ``progress`` gets frame counts as parts
        finish (in-process: as chunks are read)."""
        if self._result is not None:
            return self._result
        try:
            self._result = self._gather(progress)
        finally:
            self.close()
        return self._result

    def close(self) -> None:
        close, self._close = self._close, lambda: None
        close()

    def __enter__(self) -> PendingTables:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _gather_outcomes(tasks: Sequence[Task], collect: Callable[[], Iterator[Outcome]]) -> Gather:
    """Wait for every task's tables (``collect`` yields them as they finish, by position in
    ``tasks``) and merge them in task order."""

    def gather(progress: Progress | None) -> CaptureTables:
        got: dict[int, CaptureTables] = {}
        for pos, part, error in collect():
            if error is not None:
                raise error
            assert part is not None
            got[pos] = part
            if progress is not None:
                progress(sum(f.frames for f in part.files))
        return merge_parts([got[i] for i in range(len(tasks))])

    return gather


def start_tabulation(
    paths: Iterable[str | os.PathLike[str]],
    workers: int = 1,
    *,
    scheduler: str | None = None,
    chunk_bytes: int | None = None,
) -> PendingTables:
    """Start reading ``paths``: on a Dask ``scheduler``, on ``workers`` local processes (>= 2),
    or in-process when the result is asked for. Raises SchedulerError when the scheduler cannot
    be used."""
    if scheduler is not None:
        return _start_dask(paths, scheduler, chunk_bytes)
    if workers <= 1:
        tasks = plan(paths, 1, chunk_bytes=chunk_bytes)
        return PendingTables(
            tasks, lambda progress: merge_parts([run_task(t, progress) for t in tasks])
        )
    return _start_pool(paths, workers, chunk_bytes)


def tabulate(
    paths: Iterable[str | os.PathLike[str]],
    workers: int = 1,
    progress: Progress | None = None,
    *,
    scheduler: str | None = None,
    chunk_bytes: int | None = None,
) -> CaptureTables:
    """Read every capture into merged tables; the same result whatever the split or executor."""
    with start_tabulation(paths, workers, scheduler=scheduler, chunk_bytes=chunk_bytes) as p:
        return p.result(progress)


class _Worker:
    """In a worker process: the tables of every task it has read, merged as they come (one
    set for whole files, one per split file), until :func:`_flush` sends them."""

    def __init__(self, barrier: Any) -> None:
        self.barrier = barrier
        self.tables: dict[int | None, CaptureTables] = {}
        self.read: list[int] = []


_WORKER: _Worker | None = None


def _start_worker(barrier: Any) -> None:
    global _WORKER
    _WORKER = _Worker(barrier)


def _read_and_keep(task: Task, pos: int) -> list[FileAccount]:
    """Read one task in a worker and merge its tables into the worker's; only the file's
    account goes back now."""
    assert _WORKER is not None
    part = run_task(task)
    bucket = task.index if task.span is not None else None
    kept = _WORKER.tables.get(bucket)
    if kept is None:
        _WORKER.tables[bucket] = CaptureTables([], part.conversations, part.events)
    else:
        kept.conversations.update(part.conversations)
        kept.events.update(part.events)
    _WORKER.read.append(pos)
    return part.files


def _flush() -> tuple[list[int], dict[int | None, CaptureTables]]:
    """A worker's merged tables, and which task positions they hold. Every worker runs one:
    each waits at the barrier until all have started theirs (and so finished reading)."""
    assert _WORKER is not None
    _WORKER.barrier.wait()
    read, tables = _WORKER.read, _WORKER.tables
    _WORKER.read, _WORKER.tables = [], {}
    return read, tables


def _start_pool(
    paths: Iterable[str | os.PathLike[str]], workers: int, chunk_bytes: int | None
) -> PendingTables:
    """Read on ``workers`` local processes. Tasks are handed out as workers free up (largest
    first); each worker merges what it reads into its own tables, and sends them once, at the
    end, so that the main process merges one set per worker instead of one per task (a file
    split into parts holds the same conversations in every part)."""
    methods = multiprocessing.get_all_start_methods()
    # fork: the workers start at once with the modules already imported.
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    barrier = ctx.Barrier(workers)
    pool = ctx.Pool(workers, initializer=_start_worker, initargs=(barrier,))
    outcomes: queue.SimpleQueue[tuple[int, Any, BaseException | None]] = queue.SimpleQueue()
    tasks: list[Task] = []

    def submit(batch: list[Task]) -> None:
        for task in sorted(batch, key=lambda t: -t.size):  # largest first
            pos = len(tasks)
            tasks.append(task)
            pool.apply_async(
                _read_and_keep,
                (task, pos),
                callback=_put(outcomes, pos, True),
                error_callback=_put(outcomes, pos, False),
            )

    try:
        # Whole files start before the big ones are walked for their split points.
        whole, split = _plan_whole(paths, workers, chunk_bytes, absolute=False)
        submit(whole)
        submit(_plan_split(split))
        for k in range(workers):
            pool.apply_async(
                _flush,
                callback=_put(outcomes, -1 - k, True),
                error_callback=_put(outcomes, -1 - k, False),
            )
    except BaseException:
        pool.terminate()
        raise
    ordered = _order(tasks)
    rank = {id(t): i for i, t in enumerate(ordered)}

    def gather(progress: Progress | None) -> CaptureTables:
        merge = _Merge()
        held: set[int] = set()
        for _ in range(len(tasks) + workers):
            pos, value, error = outcomes.get()
            if error is not None:
                raise error
            if pos >= 0:
                (account,) = value
                merge.account(rank[id(tasks[pos])], account)
                if progress is not None:
                    progress(account.frames)
                continue
            read, tables = value
            held.update(read)
            for bucket, part in tables.items():
                merge.add(part, bucket)
        if held != set(range(len(tasks))):
            raise RuntimeError("a worker process was lost before it handed back what it read")
        return merge.result()

    def close() -> None:
        pool.terminate()
        pool.join()

    return PendingTables(ordered, gather, close)


def _put(
    outcomes: queue.SimpleQueue[tuple[int, Any, BaseException | None]], pos: int, ok: bool
) -> Callable[[Any], None]:
    def put(value: Any) -> None:
        outcomes.put((pos, value, None) if ok else (pos, None, value))

    return put


def _probe(address: str) -> None:
    """Fail fast, and cleanly, when nothing listens at a TCP scheduler address (a Client that
    cannot connect takes its whole timeout, then more to close)."""
    rest = address.removeprefix("tcp://")
    if "://" in rest:
        return  # tls://, inproc://, ...: left to Dask
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise SchedulerError(
            f"cannot reach the Dask scheduler at {address}: expected tcp://HOST:PORT"
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), CONNECT_TIMEOUT).close()
    except OSError as e:
        raise SchedulerError(
            f"cannot reach the Dask scheduler at {address}: {e.strerror or e}"
        ) from None


def _start_dask(
    paths: Iterable[str | os.PathLike[str]], address: str, chunk_bytes: int | None
) -> PendingTables:
    try:
        distributed: Any = importlib.import_module("distributed")
    except ImportError:
        raise SchedulerError(
            "--scheduler needs Dask's distributed scheduler, which is not installed: "
            "pip install 'dask[distributed]' (netseg's cluster extra)"
        ) from None
    _probe(address)
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as e:
        raise SchedulerError(f"cannot reach the Dask scheduler at {address}: {e}") from None
    try:
        threads = sum(client.nthreads().values()) or 1
        tasks = plan(paths, threads, chunk_bytes=chunk_bytes, absolute=True)
        largest_first = sorted(range(len(tasks)), key=lambda i: -tasks[i].size)
        futures = [client.submit(run_task, tasks[i], pure=False) for i in largest_first]
    except BaseException:
        client.close()
        raise
    by_key = {f.key: i for f, i in zip(futures, largest_first, strict=True)}

    def collect() -> Iterator[Outcome]:
        for future in distributed.as_completed(futures, loop=client.loop):
            try:
                yield by_key[future.key], future.result(), None
            except ImportError as e:
                error = SchedulerError(
                    f"a Dask worker cannot run netseg ({e}): install netseg there"
                )
                yield by_key[future.key], None, error
            except Exception as e:
                yield by_key[future.key], None, e

    def close() -> None:
        for future in futures:
            future.cancel()
        client.close()

    return PendingTables(tasks, _gather_outcomes(tasks, collect), close)
