"""Nexus Réussite: the application factory, a readable list of setup steps."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask, session
from werkzeug.middleware.proxy_fix import ProxyFix

from nexus import config as config_module
from nexus.extensions import csrf, db, limiter, login_manager, mail, migrate


def create_app(config: dict[str, Any] | None = None) -> Flask:
    config = dict(config or {})
    instance_path = config.pop("INSTANCE_PATH", None) or os.environ.get("NEXUS_INSTANCE_PATH")
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    from nexus.web import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter
    app.config.from_mapping(config_module.from_environment())
    app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    setup_secret_key(app)
    setup_logging(app)
    setup_database_url(app)
    setup_proxy(app)
    setup_extensions(app)
    setup_auth(app)
    register_blueprints(app)
    from nexus import web

    web.init_app(app)
    from nexus import cli

    cli.init_app(app)
    return app


def setup_secret_key(app: Flask) -> None:
    """Without SECRET_KEY (development), a random key made once under instance/ and kept."""
    if app.config.get("SECRET_KEY"):
        return
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        # Written aside then linked into place: two processes starting at once both end up
        # reading the one key that won, never a half-written file.
        fd, draft = tempfile.mkstemp(dir=app.instance_path, prefix=".secret-")
        with os.fdopen(fd, "w") as handle:  # mkstemp creates it readable by its owner only
            handle.write(secrets.token_urlsafe(48))
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        Path(draft).unlink()
    app.config["SECRET_KEY"] = path.read_text().strip()


def setup_logging(app: Flask) -> None:
    if not app.debug and not app.testing and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def setup_database_url(app: Flask) -> None:
    """Without DATABASE_URL, use the embedded PostgreSQL under instance/ (not in production)."""
    if app.config.get("SQLALCHEMY_DATABASE_URI"):
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        if url.startswith(("postgres://", "postgresql://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        app.config["SQLALCHEMY_DATABASE_URI"] = url
        return
    from nexus import embedded_pg

    pgdata = embedded_pgdata(app)
    embedded_pg.start(pgdata)
    app.config["SQLALCHEMY_DATABASE_URI"] = embedded_pg.create_database(pgdata, "nexus")


def embedded_pgdata(app: Flask) -> Path:
    path = Path(app.instance_path) / "pgdata"
    if len(str(path)) > 80:  # unix socket paths are limited to ~107 bytes
        import hashlib

        digest = hashlib.sha256(str(path).encode()).hexdigest()[:10]
        path = Path(tempfile.gettempdir()) / f"nexus-pg-{digest}"
    return path


def setup_proxy(app: Flask) -> None:
    count = app.config.get("PROXY_COUNT", 0)
    if count:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_prefix=count
        )


def setup_extensions(app: Flask) -> None:
    import nexus.models  # noqa: F401 - every table registered before migrate/db use

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)


def setup_auth(app: Flask) -> None:
    from nexus.services import identity

    login_manager.init_app(app)
    login_manager.login_view = "auth.signin"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(lambda session_id: identity.load_session_user(session_id, session.get("sid")))


def register_blueprints(app: Flask) -> None:
    from nexus.blueprints import (
        admin,
        analytics,
        aria,
        auth,
        bilan,
        bilans,
        coach,
        coach_pay,
        coaches,
        credits,
        dashboard,
        documents,
        enrolment,
        exports,
        health,
        inbox,
        invoice_details,
        invoices,
        item_bank,
        knowledge,
        messages,
        next_steps,
        notifications,
        operations,
        parent,
        payments,
        positioning,
        public,
        sessions,
        settings,
        signup,
        staff,
        stages,
        trajectories,
        workshops,
    )

    for module in (
        public,
        bilan,
        signup,
        auth,
        dashboard,
        parent,
        documents,
        payments,
        credits,
        invoices,
        invoice_details,
        settings,
        sessions,
        coach,
        coaches,
        coach_pay,
        admin,
        analytics,
        staff,
        enrolment,
        aria,
        knowledge,
        positioning,
        bilans,
        stages,
        workshops,
        exports,
        item_bank,
        notifications,
        messages,
        inbox,
        trajectories,
        next_steps,
        operations,
        health,
    ):
        app.register_blueprint(module.bp)
