"""Run the suite and turn "no tests collected" (exit 5) into a failure, so CI never passes empty.

Without arguments (`make test`): the unit and integration tests first, on two pytest-xdist
workers (each starts its own PostgreSQL, Redis and SMTP sink, so they share nothing), then the
browser tests in one process, whose journeys keep their timing on a two-core machine. Each run
prints its own summary line; any failure fails the whole.
"""

from __future__ import annotations

import os
import subprocess
import sys

NO_TESTS = 5
WORKERS = os.environ.get("TEST_WORKERS", "2")


def pytest(*args: str) -> int:
    code = subprocess.call([sys.executable, "-m", "pytest", *args])
    if code == NO_TESTS:
        print(f"pytest collected no tests in {' '.join(args)}: treated as a failure.", file=sys.stderr)
        return 1
    return code


def main() -> int:
    if sys.argv[1:]:
        return pytest(*sys.argv[1:])
    first = pytest("tests", "--ignore=tests/e2e", "-n", WORKERS, "--dist", "worksteal")
    second = pytest("tests/e2e")
    return first or second


if __name__ == "__main__":
    sys.exit(main())
