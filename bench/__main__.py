"""python -m bench [NAME …] [--duration S] [--connections N] [--runs N] [--json FILE] [--list]"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

from bench import Benchmark, discover
from bench.context import Context, Options
from bench.report import Table, render


def parse_args(names: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Nexus Réussite benchmarks")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"run only these: {', '.join(names)}")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per throughput run")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    parser.add_argument("--runs", type=int, default=3, help="browser loads per page (median)")
    parser.add_argument("--json", type=Path, help="also write the tables to this JSON file")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return parser.parse_args()


def select(benchmarks: list[Benchmark], names: list[str]) -> list[Benchmark]:
    known = {b.name for b in benchmarks}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return [b for b in benchmarks if not names or b.name in names]


def run_all(chosen: list[Benchmark], ctx: Context) -> tuple[list[Table], list[str]]:
    """Run each benchmark; one failing does not stop the others."""
    tables: list[Table] = []
    failed: list[str] = []
    for bench in chosen:
        started = time.monotonic()
        print(f"[bench] {bench.name}: {bench.help} …", flush=True)
        try:
            results = bench.func(ctx)
        except Exception:
            traceback.print_exc()
            failed.append(bench.name)
            continue
        print(f"[bench] {bench.name} done in {time.monotonic() - started:.1f} s\n", flush=True)
        for table in results:
            print(render(table), flush=True)
        tables.extend(results)
    return tables, failed


def main() -> int:
    benchmarks = discover()
    args = parse_args([b.name for b in benchmarks])
    if args.list:
        for b in benchmarks:
            print(f"{b.name:12} {b.help}")
        return 0
    chosen = select(benchmarks, args.names)
    print(
        f"[bench] {platform.node()} · Python {platform.python_version()} · {os.cpu_count()} CPUs", flush=True
    )
    from bench.server import BenchServer

    options = Options(duration=args.duration, connections=args.connections, runs=args.runs)
    with BenchServer() as server:
        ctx = Context(server.url, options, database_url=server.env["DATABASE_URL"])
        with ctx.cleanup:
            tables, failed = run_all(chosen, ctx)
    if args.json:
        args.json.write_text(json.dumps([t.as_dict() for t in tables], indent=2, ensure_ascii=False))
    if failed:
        print(f"[bench] failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
