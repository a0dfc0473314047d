"""ARIA's safety check: precision and recall of the French lexicon on the labelled questions
(tests/data/safety_questions.tsv), per category, and what the check costs per question (the
lexicon alone; with a moderation endpoint, the fake OpenAI-compatible server of the tests; with
an endpoint that has none, as Ollama: a 404, then the lexicon alone).

    make bench ARGS=safety
    .venv/bin/python -m bench.safety
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import benchmark
from bench.report import Table, render

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "safety_questions.tsv"
HELD_OUT = ROOT / "tests" / "data" / "safety_heldout.tsv"
CATEGORIES = ("SELF_HARM", "DISTRESS", "HARASSMENT", "CHEATING")


def labelled(path: Path = DATA) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, question = line.split("\t", 1)
            rows.append((label, question))
    return rows


def _ratio(num: int, den: int) -> str:
    return f"{num / den:.2f}" if den else "—"


def quality_table(rows: list[tuple[str, str]], guess: Callable[[str], str], title: str) -> Table:
    """Per category: support, true and false positives, misses, precision, recall."""
    guesses = [(label, guess(question)) for label, question in rows]
    table = Table(title, ["category", "questions", "flagged", "right", "false alarms", "missed", "precision",
                          "recall"])  # fmt: skip
    groups = [(c, {c}) for c in CATEGORIES] + [("DISTRESS+SELF_HARM", {"DISTRESS", "SELF_HARM"})]
    for name, members in groups:
        support = sum(1 for label, _ in guesses if label in members)
        flagged = sum(1 for _, g in guesses if g in members)
        right = sum(1 for label, g in guesses if label in members and g in members)
        table.add(name, support, flagged, right, flagged - right, support - right, _ratio(right, flagged),
                  _ratio(right, support))  # fmt: skip
    quiet = sum(1 for label, g in guesses if label == "NONE" and g == "NONE")
    negatives = sum(1 for label, _ in guesses if label == "NONE")
    table.notes.append(f"{len(rows)} questions; negatives left quiet: {quiet}/{negatives}.")
    table.notes.append("Target (issue 12): recall ≥ 0.95 on distress + self-harm at precision ≥ 0.8.")
    return table


def _per_question(check: Callable[[str], object], questions: list[str], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        for question in questions:
            started = time.perf_counter()
            check(question)
            times.append(time.perf_counter() - started)
    return times


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.1f} ms"


def cost_table(rows: list[tuple[str, str]]) -> tuple[Table, Table | None]:
    """The check's time per question, and the quality with the fake moderation server."""
    from nexus import create_app
    from nexus.services import llm
    from nexus.services.aria import safety
    from tests.fakes.llm import FakeLLM

    questions = [q for _, q in rows]
    table = Table("ARIA safety check: time per question", ["check", "median", "p99", "questions"])
    lexicon = _per_question(safety.lexicon, questions, 20)
    table.add("lexicon alone (offline floor)", _us(statistics.median(lexicon)),
              _us(statistics.quantiles(lexicon, n=100)[98]), len(lexicon))  # fmt: skip
    fake = FakeLLM()
    fake.start()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "postgresql://unused@localhost/unused"})
    quality = None
    try:
        with app.app_context():
            app.config.update(OPENAI_BASE_URL=fake.url, LLM_MODEL="fake-llm", ARIA_MODERATION=True)
            conf = llm.settings()

            def both(question: str) -> object:
                return safety.check(question, conf)

            for mode, label in (("ok", "lexicon + moderation endpoint (fake server)"),
                                ("missing", "lexicon + endpoint without moderation (404)")):  # fmt: skip
                fake.moderation = mode
                timed = _per_question(both, questions, 3)
                table.add(label, _us(statistics.median(timed)), _us(statistics.quantiles(timed, n=100)[98]),
                          len(timed))  # fmt: skip
            # The fake flags what a real moderation model would: here, the English questions the
            # French lexicon does not read.
            fake.moderation = "ok"
            fake.moderation_flags.update(ENGLISH)
            extra = rows + [(label, text) for text, (label, _) in ENGLISH_ROWS.items()]

            def category(question: str) -> str:
                verdict = safety.check(question, conf)
                return verdict.category.value if verdict else "NONE"

            title = "Lexicon + moderation pass (fake server), with English questions"
            quality = quality_table(extra, category, title)
            quality.notes.append(
                "Plumbing, not a model's quality: the fake flags the English questions as a real "
                "moderation endpoint would; the lexicon does not read English."
            )
    finally:
        fake.stop()
    table.notes.append("Moderation runs only when the lexicon found nothing; its timeout is 2 s.")
    return table, quality


# Questions the lexicon cannot read, and the moderation category a real endpoint would give them.
ENGLISH_ROWS = {
    "I want to hurt myself tonight": ("SELF_HARM", "self-harm/intent"),
    "nobody would miss me if I was gone": ("SELF_HARM", "self-harm"),
    "they keep sending me threats on discord": ("HARASSMENT", "harassment/threatening"),
}
ENGLISH = {text: category for text, (_, category) in ENGLISH_ROWS.items()}


def tables() -> list[Table]:
    from nexus.services.aria import safety

    rows = labelled()

    def guess(question: str) -> str:
        verdict = safety.lexicon(question)
        return verdict.category.value if verdict else "NONE"

    result = [quality_table(rows, guess, "ARIA safety lexicon (offline floor) on the labelled questions")]
    result[0].notes.append("The lexicon was written with this set: these are in-sample figures.")
    held_out = quality_table(labelled(HELD_OUT), guess, "ARIA safety lexicon on held-out questions")
    held_out.notes.append("Written after the lexicon and never used to tune it: wording it has not seen.")
    held_out.notes.append(
        "A word list catches explicit wording, not paraphrase: with no moderation endpoint (Ollama), "
        "expect the held-out recall, not the in-sample one."
    )
    result.append(held_out)
    cost, quality = cost_table(rows)
    result.append(cost)
    if quality is not None:
        result.append(quality)
    return result


@benchmark("safety", order=80, help="ARIA safety check: precision/recall per category, cost per question")
def safety_bench(ctx) -> list[Table]:  # type: ignore[no-untyped-def]
    return tables()


def main() -> int:
    for table in tables():
        print(render(table), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
