"""The server under benchmark: like `make run`, but on a free port, in a fresh database.

A fresh embedded PostgreSQL + pgvector (tests.servers.EmbeddedPostgres) is migrated and seeded
with the demo data, then gunicorn serves the app with gunicorn.conf.py (gthread), two workers,
no access log. Nothing from the caller's environment leaks in (every setting of env.example is
dropped first), so figures are comparable between machines. Everything stops on exit.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType

from tests.servers import EmbeddedPostgres, free_port

ROOT = Path(__file__).resolve().parent.parent


def documented_settings() -> set[str]:
    text = (ROOT / "env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def clean_environment(database_url: str, instance: Path) -> dict[str, str]:
    """The caller's environment minus every app setting, plus the bench's own."""
    env = {k: v for k, v in os.environ.items() if k not in documented_settings()}
    env.update(
        {
            "NEXUS_ENV": "development",
            "DATABASE_URL": database_url,
            "NEXUS_INSTANCE_PATH": str(instance),
            "SECRET_KEY": "bench-secret-key-not-used-anywhere-else-0123456789",
            "WEB_CONCURRENCY": "2",
            "ACCESS_LOG": "0",
            "FLASK_SKIP_DOTENV": "1",
            "OMP_NUM_THREADS": "1",
        }
    )
    return env


def prepare() -> None:
    """Migrate and seed (run in a child process with the clean environment)."""
    from flask_migrate import upgrade

    from nexus import create_app
    from nexus.seed import seed_demo

    app = create_app()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        seed_demo()


class BenchServer:
    """Context manager: `with BenchServer() as server: server.url`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = Path(tempfile.mkdtemp(prefix="nx-bench-"))
        self.pg = EmbeddedPostgres()
        self.proc: subprocess.Popen[bytes] | None = None
        self.env: dict[str, str] = {}

    def __enter__(self) -> BenchServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        started = time.monotonic()
        self.pg.start()
        database_url = self.pg.database("nexus_bench")
        self.env = clean_environment(database_url, self.tmp / "instance")
        code = "import bench.server as s; s.prepare()"
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"migrating/seeding the bench database failed:\n{done.stderr[-3000:]}")
        self.proc = self._gunicorn()
        self._wait_healthy()
        print(f"[bench] gunicorn on {self.url}, ready in {time.monotonic() - started:.1f} s", flush=True)

    def _gunicorn(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
        # Two departures from gunicorn.conf.py: no worker recycling (max_requests would restart
        # each worker every ~2000 requests, i.e. mid-run, and a worker boots in seconds), and no
        # control socket ($HOME/.gunicorn/gunicorn.ctl is shared with any other gunicorn, e.g. make run).
        command += ["--max-requests", "0", "--no-control-socket"]
        command += ["-b", f"127.0.0.1:{self.port}", "app:app"]
        log = (self.tmp / "gunicorn.log").open("wb")
        return subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def _wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                break
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.url + "/healthz", timeout=5) as resp,  # noqa: S310
            ):
                if resp.status == 200:
                    return
            time.sleep(0.2)
        log = (self.tmp / "gunicorn.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"gunicorn did not become healthy within {timeout:g} s:\n{log}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        with contextlib.suppress(Exception):
            self.pg.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
