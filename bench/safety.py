"""ARIA's safety check: precision and recall per category of the French lexicon (the offline floor)
on the labelled questions (tests/data/safety_questions.tsv, written with the lexicon: in-sample) and
on each held-out set (never used to tune it), then the floor alone against the floor + a moderation
pass, and what the check costs per question.

The moderation pass here is the fake server of the tests, which answers the true label: it proves
the plumbing (api, chat, auto with a 404), not a model's judgement. To measure a real model's chat
classification, point the bench at it (an Ollama or llama.cpp server, say):

    make bench ARGS=safety
    ARIA_BENCH_BASE_URL=http://localhost:11434/v1 ARIA_BENCH_MODEL=llama3.2 make bench ARGS=safety
"""

from __future__ import annotations

import os
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
HELD_OUT_SETS = {
    "held-out 1": (HELD_OUT, "written after the first lexicon by the helper who wrote it"),
    "held-out 2": (
        ROOT / "tests" / "data" / "safety_heldout2.tsv",
        "written before the families (families.py) by the helper who then wrote them: the families "
        "were written with these sentences in mind, so this is close to in-sample",
    ),
    "held-out 3": (
        ROOT / "tests" / "data" / "safety_heldout3.tsv",
        "written after the first round of families and measured once (recall 0.27 at precision 0.75); "
        "its misses were then read for a second round, so it is no longer held out",
    ),
    "held-out 4": (
        ROOT / "tests" / "data" / "safety_heldout4.tsv",
        "written after the second round, measured once: the honest figure for unseen wording",
    ),
}
CATEGORIES = ("SELF_HARM", "DISTRESS", "HARASSMENT", "CHEATING")
DANGER = {"DISTRESS", "SELF_HARM"}

Rows = list[tuple[str, str]]


def labelled(path: Path = DATA) -> Rows:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, question = line.split("\t", 1)
            rows.append((label, question))
    return rows


def _ratio(num: int, den: int) -> str:
    return f"{num / den:.2f}" if den else "—"


def danger_scores(guesses: list[tuple[str, str]]) -> tuple[str, str]:
    """Precision and recall on distress + self-harm together."""
    flagged = sum(1 for _, g in guesses if g in DANGER)
    support = sum(1 for label, _ in guesses if label in DANGER)
    right = sum(1 for label, g in guesses if label in DANGER and g in DANGER)
    return _ratio(right, flagged), _ratio(right, support)


def quality_table(rows: Rows, guess: Callable[[str], str], title: str) -> Table:
    """Per category: support, true and false positives, misses, precision, recall."""
    guesses = [(label, guess(question)) for label, question in rows]
    table = Table(title, ["category", "questions", "flagged", "right", "false alarms", "missed", "precision",
                          "recall"])  # fmt: skip
    groups = [(c, {c}) for c in CATEGORIES] + [("DISTRESS+SELF_HARM", DANGER)]
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


def floor(question: str) -> str:
    from nexus.services.aria import safety

    verdict = safety.lexicon(question)
    return verdict.category.value if verdict else "NONE"


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


def _app():  # type: ignore[no-untyped-def]
    from nexus import create_app

    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "postgresql://unused@localhost/unused"})


def with_moderation(sets: dict[str, Rows]) -> tuple[Table, Table]:
    """The floor alone against the floor + the fake's moderation pass, and the check's cost."""
    from nexus.services import llm
    from nexus.services.aria import safety
    from tests.fakes.llm import FakeLLM

    compare = Table(
        "Distress + self-harm: the floor alone vs the floor + moderation (fake server, chat after a 404)",
        [
            "set",
            "questions",
            "floor precision",
            "floor recall",
            "+ moderation precision",
            "+ moderation recall",
        ],
    )
    cost = Table("ARIA safety check: time per question", ["check", "median", "p99", "questions"])
    questions = [q for rows in sets.values() for _, q in rows]
    lexicon = _per_question(safety.lexicon, questions, 10)
    cost.add("lexicon alone (offline floor)", _us(statistics.median(lexicon)),
             _us(statistics.quantiles(lexicon, n=100)[98]), len(lexicon))  # fmt: skip
    fake = FakeLLM()
    fake.start()
    app = _app()
    try:
        with app.app_context():
            app.config.update(OPENAI_BASE_URL=fake.url, LLM_MODEL="fake-llm", ARIA_MODERATION="auto")
            conf = llm.settings()
            for rows in sets.values():
                fake.classification_flags.update({q: label for label, q in rows if label != "NONE"})

            def category(question: str) -> str:
                verdict = safety.check(question, conf)
                return verdict.category.value if verdict else "NONE"

            fake.moderation = "missing"  # as Ollama: a 404, then the chat classification
            for name, rows in sets.items():
                both = [(label, category(q)) for label, q in rows]
                alone = [(label, floor(q)) for label, q in rows]
                compare.add(name, len(rows), *danger_scores(alone), *danger_scores(both))
            for mode, label in (("ok", "lexicon + moderation endpoint (fake, api)"),
                                ("missing", "lexicon + 404 + chat classification (fake, auto)")):  # fmt: skip
                fake.moderation = mode
                timed = _per_question(category, questions, 2)
                cost.add(label, _us(statistics.median(timed)), _us(statistics.quantiles(timed, n=100)[98]),
                         len(timed))  # fmt: skip
    finally:
        fake.stop()
    compare.notes.append(
        "Plumbing, not a model's judgement: the fake answers each question's true label, so the "
        "'+ moderation' columns only show that every flag reaches the verdict. A real model's figures: "
        "set ARIA_BENCH_BASE_URL (and ARIA_BENCH_MODEL)."
    )
    cost.notes.append("Moderation runs only when the lexicon found nothing; api timeout 2 s, chat 5 s.")
    return compare, cost


def real_model(sets: dict[str, Rows]) -> Table | None:
    """The chat classification of a real model (ARIA_BENCH_BASE_URL), per set, or None."""
    base_url = os.environ.get("ARIA_BENCH_BASE_URL")
    if not base_url:
        return None
    from nexus.services import llm
    from nexus.services.aria import safety

    model = os.environ.get("ARIA_BENCH_MODEL", "llama3.2")
    table = Table(f"Distress + self-harm with a real chat model ({model}, chat classification)",
                  ["set", "questions", "model precision", "model recall", "floor + model precision",
                   "floor + model recall"])  # fmt: skip
    app = _app()
    with app.app_context():
        timeout = float(os.environ.get("ARIA_BENCH_TIMEOUT", "30"))
        app.config.update(OPENAI_BASE_URL=base_url, LLM_MODEL=model, ARIA_MODERATION="chat",
                          ARIA_MODERATION_CHAT_TIMEOUT=timeout)  # fmt: skip
        conf = llm.settings()
        assert conf is not None
        for name, rows in sets.items():
            model_only = [(label, _label(safety.moderate(q, conf))) for label, q in rows]
            floors = [floor(q) for _, q in rows]
            both = [
                (label, f if f != "NONE" else m) for (label, m), f in zip(model_only, floors, strict=True)
            ]
            table.add(name, len(rows), *danger_scores(model_only), *danger_scores(both))
    return table


def _label(verdict: object) -> str:
    category = getattr(verdict, "category", None)
    return category.value if category is not None else "NONE"


def tables() -> list[Table]:
    rows = labelled()
    first = quality_table(rows, floor, "ARIA safety lexicon (offline floor) on the labelled questions")
    first.notes.append("The lexicon was written with this set: these are in-sample figures.")
    result = [first]
    sets = {"labelled": rows}
    for name, (path, how) in HELD_OUT_SETS.items():
        held = labelled(path)
        sets[name] = held
        table = quality_table(held, floor, f"ARIA safety lexicon on {name} ({path.name})")
        table.notes.append(f"Never used to tune the lexicon; {how}.")
        result.append(table)
    result[-1].notes.append(
        "A word list catches explicit wording, not paraphrase: every set rises to ~1.00 once read and "
        "every fresh one sits at 0.09-0.36. With no moderation pass, expect the held-out 4 recall; the "
        "chat classification is what must close the gap."
    )
    compare, cost = with_moderation(sets)
    result += [compare, cost]
    real = real_model(sets)
    if real is not None:
        result.append(real)
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
