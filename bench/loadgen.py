"""Load generators: `wrk` when installed, otherwise Python threads on keep-alive connections."""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass
class LoadResult:
    generator: str
    requests: int
    seconds: float
    p50: float  # seconds
    p99: float
    errors: int  # socket errors + responses other than the expected status

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run(url: str, headers: dict[str, str], duration: float, connections: int) -> LoadResult:
    if shutil.which("wrk"):
        return run_wrk(url, headers, duration, connections)
    return run_python(url, headers, duration, connections)


# --- wrk --------------------------------------------------------------------------------------------


def run_wrk(url: str, headers: dict[str, str], duration: float, connections: int) -> LoadResult:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def _duration(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def parse_wrk(out: str) -> LoadResult:
    """Requests, duration, p50/p99 (--latency) and errors from wrk's report."""
    done = re.search(r"(\d+) requests in ([\d.]+\w+),", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, flags=re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, flags=re.MULTILINE)
    if not (done and p50 and p99):
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = sum(map(int, socket.groups())) if socket else 0
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return LoadResult(
        "wrk",
        int(done.group(1)),
        _duration(done.group(2)),
        _duration(p50.group(1)),
        _duration(p99.group(1)),
        errors,
    )


# --- Python fallback --------------------------------------------------------------------------------


@dataclass
class Worker:
    """What one connection measured."""

    latencies: list[float]
    errors: int = 0
    requests: int = 0


def _hammer(url: str, headers: dict[str, str], deadline: float, worker: Worker) -> None:
    """One keep-alive connection sending requests back to back until the deadline."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            worker.errors += 1
            conn.close()
            continue
        worker.latencies.append(time.perf_counter() - started)
        if response.status != 200:
            worker.errors += 1
    conn.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def run_threads(
    loop: Callable[..., None], args: tuple[Any, ...], duration: float, connections: int
) -> tuple[list[Worker], float]:
    """`loop(*args, deadline, worker)` on `connections` threads until the deadline; the workers
    and the seconds it took."""
    workers = [Worker([]) for _ in range(connections)]
    started = time.monotonic()
    deadline = started + duration
    threads = [threading.Thread(target=loop, args=(*args, deadline, w)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return workers, time.monotonic() - started


def result_of(workers: list[Worker], elapsed: float) -> LoadResult:
    latencies = [x for w in workers for x in w.latencies]
    errors = sum(w.errors for w in workers)
    return LoadResult(
        "python", len(latencies), elapsed, percentile(latencies, 0.5), percentile(latencies, 0.99), errors
    )


def run_python(url: str, headers: dict[str, str], duration: float, connections: int) -> LoadResult:
    return result_of(*run_threads(_hammer, (url, headers), duration, connections))
