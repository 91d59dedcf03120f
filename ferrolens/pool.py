"""Forked worker processes that keep state between the tasks they are given.

`check`'s first pass keeps, in the worker that read a file, what a second look at it needs (its tree
and item cache); the second pass is then asked of that worker. A ProcessPoolExecutor cannot send a task
to a given worker, hence this small pool: one pipe per worker, each task to a worker with fewer than
`ahead` tasks in hand (`map_unordered`). The clone report's forked workers are one too.
"""

from __future__ import annotations

import gc
import multiprocessing
import signal
import traceback
from collections import deque
from multiprocessing.connection import Connection, wait
from typing import Callable, Iterable, Iterator

_STOP = None


class WorkerError(RuntimeError):
    """A task raised in a worker (the message holds the worker's traceback), or a worker died."""


class Workers:
    """`jobs` forked processes, each running `handler(task)` for the tasks sent to it, in order."""

    def __init__(self, jobs: int, handler: Callable) -> None:
        ctx = multiprocessing.get_context("fork")
        self._conns: list[Connection] = []
        self._procs = []
        for _ in range(jobs):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(theirs, handler), daemon=True)
            proc.start()
            theirs.close()
            self._conns.append(mine)
            self._procs.append(proc)
        self._queued: dict[Connection, deque[int]] = {conn: deque() for conn in self._conns}  # tasks sent, not answered

    def map_unordered(self, tasks: Iterable, ahead: int = 2) -> Iterator[tuple[int, int, object]]:
        """Each task to a worker with fewer than `ahead` in hand, taken from `tasks` only then; yields
        (task number, worker, result) as they come. With two in hand a worker starts its next task as
        soon as it sends a result, while the parent reads that result and does what it does with it
        (with one, each worker waited for that: 0.2 s of 3.3 s on T3). The tasks must be small (file
        names): a worker's inbound pipe holds its queued ones while it writes a result back."""
        todo = enumerate(tasks)
        queued = self._queued
        for _ in range(ahead):
            for conn in self._conns:
                self._give(conn, todo, queued[conn])
        while True:
            waiting = [conn for conn, q in queued.items() if q]
            if not waiting:
                return
            for conn in wait(waiting):
                k = queued[conn].popleft()
                self._give(conn, todo, queued[conn])
                result = self._receive(conn)
                yield k, self._conns.index(conn), result

    def send(self, worker: int, task) -> None:
        self._conns[worker].send(task)

    def receive(self, worker: int):
        return self._receive(self._conns[worker])

    def close(self) -> None:
        """Stop the workers; at once when tasks they were given are left (an error, Ctrl-C)."""
        abandoned = any(self._queued.values())
        for proc in self._procs if abandoned else ():
            proc.kill()
        for conn in self._conns:
            try:
                conn.send(_STOP)
            except OSError:
                pass  # (it is gone already)
            conn.close()
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @staticmethod
    def _give(conn: Connection, todo, queued: deque[int]) -> None:
        for k, task in todo:
            conn.send(task)
            queued.append(k)
            return

    @staticmethod
    def _receive(conn: Connection):
        try:
            ok, value = conn.recv()
        except (EOFError, OSError) as exc:
            raise WorkerError(f"a worker process died ({exc or 'no answer'})") from None
        if not ok:
            raise WorkerError(f"a task failed in a worker:\n{value}")
        return value


def _serve(conn: Connection, handler: Callable) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # (Ctrl-C is the parent's to handle: it stops the workers)
    # (a parent that only gathers results may have turned the collector off: on again, but not over what
    # the fork brought, which a first collection would walk in full: 100 ms in the clone report's workers)
    gc.freeze()
    gc.enable()
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is _STOP:
            return
        try:
            answer = (True, handler(task))
        except BaseException:
            answer = (False, traceback.format_exc())
        conn.send(answer)
