"""`make bench`: the home of every benchmark. Scripts that print figures, not timed tests.

A benchmark is a function decorated with `@benchmark(...)` in any module of this package: it
receives the shared `Context` (a running server with the demo data) and returns tables.
Modules are discovered, so a later issue adds `bench/<topic>.py` and nothing else:

    from bench import benchmark
    from bench.context import Context
    from bench.report import Table

    @benchmark("aria-ttft", order=40, help="ARIA time to first token")
    def aria_ttft(ctx: Context) -> list[Table]:
        ...
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.context import Context
    from bench.report import Table

BenchFunc = Callable[["Context"], "list[Table]"]


@dataclass(frozen=True)
class Benchmark:
    name: str
    func: BenchFunc
    order: int
    help: str


REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str, *, order: int = 100, help: str = "") -> Callable[[BenchFunc], BenchFunc]:
    """Register a benchmark under `name`; lower `order` runs first."""

    def register(func: BenchFunc) -> BenchFunc:
        if name in REGISTRY and REGISTRY[name].func is not func:
            raise ValueError(f"two benchmarks are named {name!r}")
        REGISTRY[name] = Benchmark(name, func, order, help or (func.__doc__ or "").strip())
        return func

    return register


def discover() -> list[Benchmark]:
    """Import every module of the package (registering its benchmarks); return them in order."""
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    return sorted(REGISTRY.values(), key=lambda b: (b.order, b.name))
