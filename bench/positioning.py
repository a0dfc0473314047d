"""The positioning test's precision: the adaptive test against the original's 50-question form.

1,000 simulated examinees of known ability, N(0, 1.5²) (wider than one class), on the real bank
(the TOML files), answering under the Rasch model the product uses (difficulty = the item's
a-priori value, discrimination 1, no guessing, no "je ne sais pas"): figures are those of the
model, not inflated by discriminations the engine does not use. Both tests run the product's
engine (`next_item`, `estimate`, `should_stop`; `fixed_form(pool, 50)` scored by `replay`, i.e.
`estimate` on all 50 from the estimate before the last answer, as scoring.py does)
on the same examinees and the same answers to the same items. Seeded: reproducible.

    make bench ARGS=positioning      # with the others' server (adds the bilan request's latency)
    .venv/bin/python -m bench.positioning [--examinees N] [--banks maths-terminale,…]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import dataclass

import numpy

from bench import benchmark
from bench.report import Table, render

EXAMINEES = 1000
ABILITY_SD = 1.5
FORM_SIZE = 50
TARGET_SE = 0.45
WITHIN = 25  # the target: SE ≤ TARGET_SE in at most WITHIN items for 90 % of examinees
SEED = 20300304
BANKS = {
    "maths-terminale": ("MATHEMATIQUES", "TERMINALE", "Maths Terminale"),
    "maths-premiere": ("MATHEMATIQUES", "PREMIERE", "Maths Première"),
    "nsi-premiere": ("NSI", "PREMIERE", "NSI Première"),
    "nsi-terminale": ("NSI", "TERMINALE", "NSI Terminale"),
}
BANDS = [
    ("θ < -2", -math.inf, -2.0),
    ("-2 ≤ θ < -1", -2.0, -1.0),
    ("-1 ≤ θ ≤ 1", -1.0, 1.0 + 1e-12),
    ("1 < θ ≤ 2", 1.0 + 1e-12, 2.0 + 1e-12),
    ("θ > 2", 2.0 + 1e-12, math.inf),
]


@dataclass
class Run:
    """One examinee's test: its length, final estimate and error, the error after WITHIN items."""

    length: int
    theta: float
    se: float
    se_within: float  # the standard error once WITHIN items were answered (or at the end, if sooner)
    extreme: bool = False  # every answer right, or every answer wrong


def _percentile90(values: list[float]) -> float:
    return float(numpy.percentile(values, 90)) if values else float("nan")


def adaptive(engine, pool, domains, true_theta: float, answer, examinee: int = 0) -> Run:
    """One adaptive test as the product runs it (its randomesque choice seeded per examinee)."""
    answers: list = []
    current = engine.Estimate(engine.START_THETA, math.inf, 0)
    se_within = math.inf
    while not engine.should_stop(answers, current, domains, len(pool) - len(answers)):
        rng = numpy.random.default_rng([SEED, examinee, len(answers)])
        item = engine.next_item(pool, answers, current.theta, rng)
        answers.append(engine.Answer(item, answer(item)))
        current = engine.estimate(answers, current.theta)
        if len(answers) <= WITHIN:
            se_within = current.standard_error
    extreme = len({a.correct for a in answers}) == 1
    return Run(len(answers), current.theta, current.standard_error, se_within, extreme)


def scored(engine, answers):
    """engine.replay(answers), as scoring.py scores a test, in one search instead of one per answer:
    with right and wrong answers the Rasch likelihood has a single maximum, wherever the search
    starts (checked against replay on the first examinees: see CHECKED); all alike, replay's steps."""
    if len({a.correct for a in answers}) == 1:
        return engine.replay(answers)
    return engine.estimate(answers, engine.START_THETA)


CHECKED = 25  # examinees whose fixed-form score is also computed by engine.replay itself


def fixed(engine, form, answer, check: list[float] | None = None) -> Run:
    answers = [engine.Answer(item, answer(item)) for item in form]
    final = scored(engine, answers)
    first = scored(engine, answers[:WITHIN])
    if check is not None:
        check.append(abs(engine.replay(answers).theta - final.theta))
    extreme = len({a.correct for a in answers}) == 1
    return Run(len(answers), final.theta, final.standard_error, first.standard_error, extreme)


def simulate(subject: str, grade: str, examinees: int = EXAMINEES, seed: int = SEED):
    """(abilities, adaptive runs, fixed-form runs, pool size, domains) for one bank."""
    from nexus.question_bank import load_bank
    from nexus.services.assessments import engine

    items = [i for i in load_bank().items if (i.subject, i.grade) == (subject, grade)]
    pool = [engine.Candidate(k, i.difficulty, i.domain) for k, i in enumerate(items)]
    domains = {c.domain for c in pool}
    form = engine.fixed_form(pool, FORM_SIZE)
    rng = numpy.random.default_rng(seed)
    abilities = rng.normal(0.0, ABILITY_SD, examinees)
    # One uniform draw per examinee and item, shared by both tests: the same person gives the
    # same answer to the same question whichever test asks it.
    draws = rng.random((examinees, len(pool)))
    runs_cat, runs_fixed, check = [], [], []
    for n, theta in enumerate(abilities):

        def answer(item, theta=theta, row=draws[n]) -> bool:
            return bool(row[item.id] < 1.0 / (1.0 + math.exp(-(theta - item.difficulty))))

        runs_cat.append(adaptive(engine, pool, domains, float(theta), answer, n))
        runs_fixed.append(fixed(engine, form, answer, check if n < CHECKED else None))
    return abilities, runs_cat, runs_fixed, len(pool), len(domains), max(check, default=0.0)


def _row(name: str, truth: list[float], runs: list[Run]) -> list[str]:
    if not runs:
        return [name, "0", "—", "—", "—", "—", "—", "—", "—", "—"]
    lengths = [r.length for r in runs]
    errors = [r.theta - t for r, t in zip(runs, truth, strict=True)]
    return [
        name,
        str(len(runs)),
        f"{statistics.fmean(lengths):.1f}",
        f"{_percentile90(lengths):.0f}",
        f"{100 * sum(n <= WITHIN for n in lengths) / len(runs):.0f} %",
        f"{statistics.fmean(abs(e) for e in errors):.3f}",
        f"{math.sqrt(statistics.fmean(e * e for e in errors)):.3f}",
        f"{statistics.fmean(r.se for r in runs):.3f}",
        f"{100 * sum(r.se <= TARGET_SE for r in runs) / len(runs):.0f} %",
        f"{100 * sum(r.se_within <= TARGET_SE for r in runs) / len(runs):.0f} %",
    ]


def tables_for(key: str, examinees: int = EXAMINEES) -> list[Table]:
    from nexus.services.assessments import engine

    subject, grade, label = BANKS[key]
    started = time.perf_counter()
    abilities, runs_cat, runs_fixed, size, n_domains, gap = simulate(subject, grade, examinees)
    elapsed = time.perf_counter() - started
    columns = ["test", "θ band", "n", "length", "p90", f"≤ {WITHIN} items", "MAE θ", "RMSE θ", "mean SE"]
    columns += [f"SE ≤ {TARGET_SE} at end", f"SE ≤ {TARGET_SE} in {WITHIN}"]
    table = Table(f"Positioning test, {label}: adaptive vs the 50-item fixed form", columns)
    for test, runs in (("adaptive", runs_cat), ("fixed 50", runs_fixed)):
        for band, low, high in [*BANDS, ("all", -math.inf, math.inf)]:
            chosen = [k for k, t in enumerate(abilities) if low <= t < high]
            row = _row(band, [float(abilities[k]) for k in chosen], [runs[k] for k in chosen])
            table.add(test, *row)
    within = sum(r.se_within <= TARGET_SE for r in runs_cat) / len(runs_cat)
    table.notes += [
        f"{size} items, {n_domains} domains; {examinees} examinees θ ~ N(0, {ABILITY_SD}²), seed {SEED}; "
        f"Rasch (a = 1, b = the a-priori difficulty), no « je ne sais pas »; {elapsed:.1f} s.",
        f"Engine: stop at SE ≤ {engine.TARGET_SE} once every domain is seen, "
        f"at most {engine.MAX_ITEMS} items. "
        f"Fixed form: engine.fixed_form(pool, {FORM_SIZE}), θ as scoring.py scores it "
        f"(engine.replay; largest gap to the shortcut on {CHECKED} examinees: {gap:.1e}).",
        f"Target SE ≤ {TARGET_SE} within {WITHIN} items for 90 % of examinees: "
        f"{100 * within:.0f} % → {'PASS' if within >= 0.9 else 'MISS'} (for the fixed form, its SE after its "
        f"first {WITHIN} items: the easier half, as each domain's items come from easy to hard).",
    ]
    extremes = [(t, r.theta) for t, r in zip(abilities, runs_fixed, strict=True) if r.extreme]
    if extremes:
        shown = ", ".join(f"θ {t:+.2f} → θ̂ {e:+.2f}" for t, e in extremes[:4])
        table.notes.append(
            f"Fixed form: {len(extremes)} examinee(s) answered all {FORM_SIZE} alike (no finite ML; "
            f"the engine's step rule, clipped at ±4): {shown}."
        )
    return [table]


# ---- calibration: the difficulties re-estimated from the adaptive test's own answers ----

CALIBRATION_EXAMINEES = 600
CALIBRATION_SAMPLES = 3
AUTHOR_ERROR = 0.5  # how far the authors' a-priori difficulties are from the truth (SD, logits)


def calibration_tables(key: str = "maths-terminale") -> list[Table]:
    """The true difficulties differ from the authors' (error N(0, 0.5²), centred). Samples of 600
    examinees take the adaptive test run on the priors (as before any calibration), and
    calibration.fit re-estimates the difficulties from their answers; then 1,000 new examinees
    take the test run on the priors, on the first sample's calibration, and on the true values.
    What the weekly calibration buys, on the product's own data design (adaptive: each item is
    answered by the examinees near its difficulty)."""
    from nexus.question_bank import load_bank
    from nexus.services.assessments import calibration, engine

    subject, grade, label = BANKS[key]
    started = time.perf_counter()
    items = [i for i in load_bank().items if (i.subject, i.grade) == (subject, grade)]
    rng = numpy.random.default_rng(SEED + 1)
    priors = numpy.array([i.difficulty for i in items])
    error = rng.normal(0.0, AUTHOR_ERROR, len(items))
    truth = priors + error - error.mean()
    domains = {i.domain for i in items}

    def pool_with(values) -> list:
        return [
            engine.Candidate(k, float(v), i.domain)
            for k, (i, v) in enumerate(zip(items, values, strict=True))
        ]

    def take(pool, abilities, draws=None) -> tuple[list[Run], list[tuple[int, int, bool]]]:
        draws = rng.random((len(abilities), len(pool))) if draws is None else draws
        runs, log = [], []
        for n, theta in enumerate(abilities):

            def answer(item, n=n, theta=float(theta)) -> bool:
                outcome = bool(draws[n][item.id] < 1.0 / (1.0 + math.exp(-(theta - truth[item.id]))))
                log.append((n, item.id, outcome))
                return outcome

            runs.append(adaptive(engine, pool, domains, float(theta), answer, n))
        return runs, log

    def rmse(values, chosen) -> str:
        return f"{math.sqrt(float(numpy.mean((values[chosen] - truth[chosen]) ** 2))):.3f}"

    samples = Table(
        f"Calibration, {label}: difficulties re-estimated from {CALIBRATION_EXAMINEES} adaptive tests",
        [
            "sample",
            "items ≥ 30",
            "answers/item (median)",
            "ability SD",
            "slope vs truth",
            "RMSE priors",
            "RMSE fit",
        ],
    )
    first = None
    for sample in range(1, CALIBRATION_SAMPLES + 1):
        _, log = take(pool_with(priors), rng.normal(0.0, ABILITY_SD, CALIBRATION_EXAMINEES))
        persons, indices, outcomes = zip(*log, strict=True)
        result = calibration.fit(persons, indices, outcomes, priors)
        first = first or result
        fitted = result.calibrated
        samples.add(
            str(sample),
            f"{int(fitted.sum())}/{len(items)}",
            f"{numpy.median(result.answers):.0f}",
            f"{result.ability_sd:.2f}",
            f"{numpy.polyfit(truth[fitted], result.difficulty[fitted], 1)[0]:.2f}",
            rmse(priors, fitted),
            rmse(result.difficulty, fitted),
        )
    samples.notes += [
        f"True difficulties = priors + N(0, {AUTHOR_ERROR}²), centred; examinees θ ~ N(0, {ABILITY_SD}²); "
        "RMSE over the re-estimated items.",
        "The scale (slope) rests on the spread of the items each examinee saw, narrow in an adaptive test: "
        "it varies from sample to sample; the mean is anchored on the priors.",
    ]
    abilities = rng.normal(0.0, ABILITY_SD, EXAMINEES)
    draws = rng.random((EXAMINEES, len(items)))
    effect = Table(
        f"Calibration, {label}: {EXAMINEES} new examinees, the test run on each set of difficulties",
        ["difficulties used", "length", "p90", "MAE θ", "RMSE θ", "mean SE", f"SE ≤ {TARGET_SE} in {WITHIN}"],
    )
    for name, values in (
        ("authors' priors", priors),
        ("calibrated (sample 1)", first.difficulty),
        ("true", truth),
    ):
        runs, _ = take(pool_with(values), abilities, draws)
        lengths = [r.length for r in runs]
        errors = [r.theta - t for r, t in zip(runs, abilities, strict=True)]
        effect.add(
            name,
            f"{statistics.fmean(lengths):.1f}",
            f"{_percentile90(lengths):.0f}",
            f"{statistics.fmean(abs(e) for e in errors):.3f}",
            f"{math.sqrt(statistics.fmean(e * e for e in errors)):.3f}",
            f"{statistics.fmean(r.se for r in runs):.3f}",
            f"{100 * sum(r.se_within <= TARGET_SE for r in runs) / len(runs):.0f} %",
        )
    effect.notes.append(
        f"Same examinees and draws for the three rows; {time.perf_counter() - started:.1f} s for both tables."
    )
    return [samples, effect]


# ---- the request that starts a bilan (needs the bench server: `make bench`) ----

BILAN_REQUESTS = 20
BILAN_BUDGET = 0.300  # seconds


def completed_tests(database_url: str, count: int) -> list[int]:
    """`count` adaptive Maths tests taken to the end by Yasmine (the demo Terminale student),
    through the product's services, answers drawn at random ("je ne sais pas" included)."""
    import random

    from sqlalchemy import select

    from nexus import create_app
    from nexus.extensions import db
    from nexus.models.assessments import Assessment
    from nexus.models.common import Subject
    from nexus.models.family import Student
    from nexus.models.identity import User
    from nexus.services.assessments import taking

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench-" + "x" * 40})
    draw = random.Random(SEED)
    ids = []
    with app.app_context():
        student = db.session.scalar(
            select(Student)
            .join(User, Student.user_id == User.id)
            .where(User.email == "yasmine@nexus-reussite.tn")
        )
        for _ in range(count):
            test = taking.begin(taking.start_test(student, Subject.MATHEMATIQUES).id)
            while test.is_open:
                choice = draw.choice([0, 1, 2, 3, None])
                test, _ = taking.answer(test.id, test.current_item_id, choice)
                test = db.session.get(Assessment, test.id, populate_existing=True)
            ids.append(test.id)
        db.session.remove()
    return ids


def bilan_requests(ctx) -> Table:
    """POST the questionnaire (the request that queues the three bilans) and time its answer:
    first each once the previous bilan is written (the server idle), then back to back (the
    previous generations still running in the server)."""
    import urllib.error
    import urllib.parse
    import urllib.request

    from bench.client import CSRF_INPUT, VALUE

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # the 303 is the answer being timed
            return None

    ids = completed_tests(ctx.database_url, BILAN_REQUESTS)
    session = ctx.signed_in("yasmine")
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(session.jar), NoRedirect)

    def post(test_id: int) -> tuple[float, int]:
        path = f"/dashboard/positionnement/{test_id}/bilan"
        match = CSRF_INPUT.search(session.get(path).text)
        token = VALUE.search(match.group(0)).group(1) if match else ""
        data = urllib.parse.urlencode({"csrf_token": token, "objectives": "Avoir 16 au bac."}).encode()
        request = urllib.request.Request(session.url(path), data=data)  # noqa: S310 - our server
        started = time.perf_counter()
        try:
            with opener.open(request, timeout=30) as resp:
                status = resp.status
        except urllib.error.HTTPError as answer:
            status = answer.code
        return time.perf_counter() - started, status

    def written(test_id: int, timeout: float = 60.0) -> float | None:
        """Seconds until the bilan is no longer being written (ready or failed), None if longer."""
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            fragment = session.get(
                f"/dashboard/positionnement/{test_id}/bilan/etat", headers={"HX-Request": "true"}
            )
            if fragment.status == 200 and 'hx-trigger="every 2s"' not in fragment.text:
                return time.perf_counter() - started
            time.sleep(0.1)
        return None

    table = Table(
        "The request that starts a bilan (questionnaire POST → 303)",
        ["series", "requests", "303", "p50", "p95", "max", "≤ 300 ms"],
    )
    half = len(ids) // 2
    waits: list[float] = []
    series = {"server idle": [], "back to back": []}
    for k, test_id in enumerate(ids):
        name = "server idle" if k < half else "back to back"
        series[name].append(post(test_id))
        if name == "server idle":
            waited = written(test_id)
            if waited is not None:
                waits.append(waited)
    for name, results in series.items():
        timings = [t for t, _ in results]
        ok = sum(code == 303 for _, code in results)
        table.add(
            name,
            len(results),
            ok,
            f"{1000 * statistics.median(timings):.0f} ms",
            f"{1000 * float(numpy.percentile(timings, 95)):.0f} ms",
            f"{1000 * max(timings):.0f} ms",
            "PASS" if max(timings) <= BILAN_BUDGET and ok == len(results) else "OVER",
        )
    table.notes += [
        "Each request writes the Bilan row and queues its job after commit (RQ with Redis; here, without "
        "Redis, a thread of the same gunicorn worker: back to back, the earlier generations share its CPU).",
        f"No LLM configured (offline: template bilans): written in {statistics.median(waits):.1f} s (median) "
        f"after the request, {len(waits)}/{half} within 60 s."
        if waits
        else "No bilan was written within 60 s.",
    ]
    return table


@benchmark("positioning", order=70, help="adaptive test vs 50-item fixed form on simulated examinees")
def positioning(ctx) -> list[Table]:
    tables: list[Table] = []
    for key in BANKS:
        tables.extend(tables_for(key))
    tables.extend(calibration_tables())
    try:
        from nexus.services import bilans  # noqa: F401 - the bilans part is there
    except ImportError:
        tables.append(
            Table("The request that starts a bilan", ["note"], [["skipped: no bilans service yet"]])
        )
    else:
        tables.append(bilan_requests(ctx))
    return tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.positioning", description=__doc__.splitlines()[0])
    parser.add_argument("--examinees", type=int, default=EXAMINEES)
    parser.add_argument("--banks", default=",".join(BANKS), help=f"among {', '.join(BANKS)}")
    parser.add_argument("--no-calibration", dest="calibration", action="store_false", help="skip that table")
    args = parser.parse_args(argv)
    for key in args.banks.split(","):
        for table in tables_for(key.strip(), args.examinees):
            print(render(table), flush=True)
    if args.calibration:
        for table in calibration_tables():
            print(render(table), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
