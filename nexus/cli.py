"""flask seed-demo, flask jobs list|run NAME."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from nexus.extensions import db

jobs_cli = AppGroup("jobs", help="Background jobs (run by the scheduler, or by hand here).")


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(jobs_cli)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only when the database has no user yet.")
def seed_demo_command(if_empty: bool) -> None:
    """Create the demo accounts of CONTRACT.md (idempotent)."""
    from nexus.models.identity import User
    from nexus.seed import seed_demo

    if if_empty and db.session.scalar(select(func.count()).select_from(User)):
        click.echo("Database already has users: demo data left as it is.")
        return
    seed_demo()
    click.echo("Demo data ready (password for every account: nexus-demo-2026).")


@jobs_cli.command("list")
def jobs_list() -> None:
    from nexus.jobs.schedule import JOBS, PERIODIC

    every = {func.__name__: seconds for func, seconds in PERIODIC}
    for name in sorted(JOBS):
        click.echo(f"{name}\tevery {every.get(name, '?')} s")


@jobs_cli.command("run")
@click.argument("name")
def jobs_run(name: str) -> None:
    """Run one job now, in this process."""
    from nexus.jobs.schedule import JOBS

    if name not in JOBS:
        raise click.BadParameter(f"unknown job; known: {', '.join(sorted(JOBS))}")
    click.echo(f"{name}: {JOBS[name]()}")
