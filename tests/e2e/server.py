"""The app served by gunicorn exactly as `make run` does, on a database of its own.

Used by the e2e fixtures (tests/e2e/conftest.py) and by scripts/screenshots.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "e2e-secret-key-long-enough-0123456789abcdef"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def prepare_database(database_url: str, instance: Path) -> None:
    """Migrate and seed the demo data, as `make run` does on an empty database."""
    from flask_migrate import upgrade

    from nexus import create_app
    from nexus.extensions import db
    from nexus.seed import seed_demo

    app = create_app(
        {"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET_KEY}
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        seed_demo()
        db.session.remove()
        db.engine.dispose()


def start_gunicorn(
    database_url: str, instance: Path, port: int, smtp_port: int | None = None
) -> subprocess.Popen[bytes]:
    """gunicorn on 127.0.0.1:port; no REDIS_URL, so jobs run inside it."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL", "SMTP_HOST"}}
    env.update(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET_KEY,
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "NEXUS_INSTANCE_PATH": str(instance),
            "ACCESS_LOG": "0",
            "RATELIMIT_ENABLED": "0",
        }
    )
    if smtp_port is not None:
        env.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port), "SMTP_STARTTLS": "0"})
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "gunicorn.conf.py",
        "-b",
        f"127.0.0.1:{port}",
        # No worker recycling (as the bench): the browser run makes more requests than
        # max_requests, and the only worker restarting mid-journey keeps a click waiting for
        # its boot past the browser's expectations.
        "--max-requests",
        "0",
        "app:app",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
