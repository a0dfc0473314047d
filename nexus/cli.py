"""flask seed-demo, flask jobs list|run NAME, flask rag ingest|reindex|corpus-vectors, flask bank …"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from nexus.extensions import db

jobs_cli = AppGroup("jobs", help="Background jobs (run by the scheduler, or by hand here).")
rag_cli = AppGroup("rag", help="ARIA's course material: ingest files, re-index vectors.")
bank_cli = AppGroup("bank", help="The positioning tests' question bank (nexus/question_bank).")


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(rag_cli)
    app.cli.add_command(bank_cli)


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
    """Run one job now, in this process (its run recorded for the operations page)."""
    from nexus.jobs.runs import call
    from nexus.jobs.schedule import JOBS

    if name not in JOBS:
        raise click.BadParameter(f"unknown job; known: {', '.join(sorted(JOBS))}")
    click.echo(f"{name}: {call(name, JOBS[name])}")


@rag_cli.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--subject", required=True, help="MATHEMATIQUES, NSI, … (Markdown front matter wins).")
@click.option("--level", required=True, help="SECONDE, PREMIERE or TERMINALE.")
@click.option("--title", help="Title (default: the front matter's or the file name).")
def rag_ingest(paths: tuple[str, ...], subject: str, level: str, title: str | None) -> None:
    """Index course files now (PDF, Markdown, text); a file already indexed is skipped."""
    from pathlib import Path

    from nexus.models.common import Grade, Subject
    from nexus.services import knowledge

    for raw in paths:
        path = Path(raw)
        data = path.read_bytes()
        meta = knowledge.split_front_matter(knowledge.decode_text(data))[0] if path.suffix != ".pdf" else {}
        try:
            document, created = knowledge.add_document(
                title=title or meta.get("titre") or path.stem,
                subject=Subject(meta.get("matiere", subject).upper()),
                level=Grade(meta.get("niveau", level).upper()),
                filename=path.name,
                data=data,
                uploaded_by_id=None,
            )
        except (ValueError, knowledge.IngestionError) as err:
            raise click.ClickException(f"{path}: {getattr(err, 'message', err)}") from err
        outcome = knowledge.ingest(document.id) if created else "already indexed"
        click.echo(f"{path}: document {document.id} — {outcome}")


@rag_cli.command("reindex")
@click.option("--all", "everything", is_flag=True, help="Recompute every vector, not only the missing ones.")
def rag_reindex(everything: bool) -> None:
    """Vectors for the current embedding model (after a model change, or an outage)."""
    from nexus.services import embeddings, knowledge

    model = embeddings.current().model
    count = knowledge.reindex(everything=everything)
    click.echo(f"{count} chunk(s) embedded with {model}.")
    try:
        copied = knowledge.sync_secondary()
    except Exception as exc:  # Chroma down or not installed: pgvector still has every vector
        click.echo(f"ChromaDB not updated ({type(exc).__name__}): searches use pgvector meanwhile.")
    else:
        if copied:
            click.echo(f"{copied} vector(s) copied to ChromaDB.")


@rag_cli.command("corpus-vectors")
def rag_corpus_vectors() -> None:
    """Recompute nexus/corpus/vectors.npz (the seed corpus's vectors for the local model)."""
    from nexus.services import knowledge

    click.echo(f"{knowledge.write_corpus_vectors()} passages written to {knowledge.VECTORS_FILE}.")


@bank_cli.command("load")
def bank_load() -> None:
    """Load the TOML files into the database (idempotent: new, edited and removed items)."""
    from nexus.question_bank import BankError
    from nexus.services.assessments import bank

    try:
        report = bank.sync_bank()
    except BankError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"{report.added} added, {report.updated} updated, {report.retired} retired, "
        f"{report.unchanged} unchanged."
    )


@bank_cli.command("calibrate")
@click.option(
    "--min-answers", type=click.IntRange(1), default=None, help="Answers before an item is re-estimated."
)
def bank_calibrate(min_answers: int | None) -> None:
    """Re-estimate the items' difficulties from the completed tests (Rasch; idempotent)."""
    from nexus.services.assessments import calibration

    for report in calibration.calibrate_bank(min_answers or calibration.MIN_ANSWERS):
        click.echo(str(report))
