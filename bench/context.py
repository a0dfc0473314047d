"""What every benchmark receives: the server, signed-in sessions, options, a place for cleanups."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from bench.client import Session
from nexus.seed import DEMO_PASSWORD

# The demo accounts of CONTRACT.md that have a dashboard, by short name.
DEMO_ACCOUNTS: dict[str, tuple[str, str]] = {
    "admin": ("admin@nexus-reussite.tn", "/dashboard/admin"),
    "assistante": ("assistante@nexus-reussite.tn", "/dashboard/assistante"),
    "helios": ("helios@nexus-reussite.tn", "/dashboard/coach"),
    "parent": ("parent@nexus-reussite.tn", "/dashboard/parent"),
    "yasmine": ("yasmine@nexus-reussite.tn", "/dashboard/eleve"),
    # Sami's family: the demo history (sessions, reports, a test, index, badges, trajectory).
    "hichem": ("parent2@nexus-reussite.tn", "/dashboard/parent"),
    "sami": ("sami@nexus-reussite.tn", "/dashboard/eleve"),
}


@dataclass
class Options:
    duration: float = 10.0
    connections: int = 16
    runs: int = 3


@dataclass
class Context:
    base_url: str
    options: Options = field(default_factory=Options)
    database_url: str = ""  # the server's database, for benchmarks that prepare data directly
    cleanup: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _sessions: dict[str, Session] = field(default_factory=dict)
    _shared: dict[str, Any] = field(default_factory=dict)

    def anonymous(self) -> Session:
        return Session(self.base_url)

    def signed_in(self, account: str) -> Session:
        """A session signed in as a demo account (see DEMO_ACCOUNTS), created once."""
        if account not in self._sessions:
            session = Session(self.base_url)
            session.sign_in(DEMO_ACCOUNTS[account][0], DEMO_PASSWORD)
            self._sessions[account] = session
        return self._sessions[account]

    def gzip_url(self) -> str:
        """The server behind a gzip proxy (level 6, like nginx in production), started once."""
        if "gzip_url" not in self._shared:
            from bench.gzipproxy import GzipProxy

            proxy = self.cleanup.enter_context(GzipProxy(self.base_url))
            self._shared["gzip_url"] = proxy.url
        return str(self._shared["gzip_url"])
