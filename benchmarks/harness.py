"""Side-by-side timing: one worker process per variant, timed in alternating rounds.

Each variant (PyTorch, Keras eager, tf.function, XLA, SavedModel, TFLite, ...) lives in
its own process so that its peak memory is its own (VmHWM of that process), while
the parent runs the timing rounds in turn (A, B, C, A, B, C, ...) so that a machine
that slows down or speeds up affects every variant alike. Ratios are then taken
against the reference variant round by round.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import statistics
import time
import traceback
from dataclasses import dataclass
from dataclasses import field


@dataclass
class Result:
    name: str
    times: list[float] = field(default_factory=list)
    peak_rss_mib: float | None = None
    load_seconds: float | None = None
    error: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    @property
    def p90(self) -> float:
        if not self.times:
            return float("nan")
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]


def _worker(conn, factory, kwargs, threads):
    # Threads are pinned before any framework initialises.
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        start = time.perf_counter()
        run, info = factory(threads=threads, **kwargs)
        load = time.perf_counter() - start
        conn.send(("ready", load, info))
    except Exception:  # noqa: BLE001  (reported to the parent)
        conn.send(("error", traceback.format_exc()))
        return
    while True:
        command, count = conn.recv()
        if command == "stop":
            # VmHWM (numpy-only module: the worker stays free of other imports)
            from keras_drn.export.latency_worker import peak_rss_mib

            conn.send(("peak", peak_rss_mib()))
            return
        times = []
        try:
            for _ in range(count):
                t0 = time.perf_counter()
                run()
                times.append(time.perf_counter() - t0)
            conn.send(("times", times))
        except Exception:  # noqa: BLE001
            conn.send(("error", traceback.format_exc()))
            return


def run_side_by_side(variants, *, rounds=5, per_round=2, warmup=2, threads=2):
    """`variants`: list of (name, factory, kwargs). A factory is a picklable top-level
    function `factory(threads=..., **kwargs) -> (run: callable, info: dict)` that
    loads the model; `run()` runs one inference (or training step).

    Workers are started one at a time (loading can take a lot of memory), then all stay
    alive for the interleaved rounds. Returns {name: Result}.
    """
    ctx = mp.get_context("spawn")
    results, workers = {}, {}
    for name, factory, kwargs in variants:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(child, factory, kwargs, threads))
        proc.start()
        message = parent.recv()
        result = Result(name)
        results[name] = result
        if message[0] == "error":
            result.error = message[1]
            proc.join()
            print(f"[{name}] failed to load:\n{message[1]}", flush=True)
            continue
        result.load_seconds, result.extra = message[1], message[2]
        workers[name] = (proc, parent)
        print(f"[{name}] loaded in {result.load_seconds:.1f}s", flush=True)
    for name, (_, conn) in workers.items():  # warm-up, not counted
        conn.send(("run", warmup))
        message = conn.recv()
        if message[0] == "error":
            results[name].error = message[1]
    for r in range(rounds):
        for name, (_, conn) in workers.items():
            if results[name].error:
                continue
            conn.send(("run", per_round))
            message = conn.recv()
            if message[0] == "error":
                results[name].error = message[1]
                continue
            results[name].times.extend(message[1])
        print(f"round {r + 1}/{rounds}: " + ", ".join(
            f"{n} {results[n].median * 1000:.0f} ms" for n in workers
            if not results[n].error), flush=True)
    for name, (proc, conn) in workers.items():
        if not results[name].error:
            conn.send(("stop", 0))
            message = conn.recv()
            if message[0] == "peak":
                results[name].peak_rss_mib = message[1]
        proc.join(timeout=60)
    return results


def paired_ratio(reference: Result, other: Result) -> float:
    """Median of reference/other time ratios taken position by position (rounds
    interleave, so pairs ran close in time): > 1 means `other` is faster."""
    pairs = [a / b for a, b in zip(reference.times, other.times) if b > 0]
    return statistics.median(pairs) if pairs else float("nan")
