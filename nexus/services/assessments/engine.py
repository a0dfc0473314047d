"""The adaptive test's psychometrics, with catsim: a Rasch model, the most informative next item
within the least-covered domains, ability by maximum likelihood, and the stopping rule.

Pure functions on plain values (no database), so the product and `make bench` run the same code.
"Je ne sais pas" marks an item as shown but is left out of the likelihood: it never lowers the
estimate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy
from catsim import irt
from catsim.estimation import NumericalSearchEstimator
from catsim.item_bank import ItemBank
from catsim.selection import MaxInfoSelector, RandomesqueSelector

# Stop when the ability is known to ±0.45 (reliability ≈ 0.8), never before every domain has been
# seen, never after MAX_ITEMS questions.
TARGET_SE = 0.45
MAX_ITEMS = 30
# A domain stays eligible while it is at most LEAD questions ahead of the least-covered one (so it
# is never more than LEAD + 1 ahead): enough freedom to pick informative items, not enough to
# leave a domain aside.
LEAD = 2
# While every answer so far is right (or wrong), ML has no finite estimate: move by a fixed step.
# Measured in `make bench`: catsim's Dodd heuristic jumps halfway to the hardest item and spends
# questions off target (p90 27 items against 24 with this step).
STEP = 1.0
START_THETA = 0.0


@dataclass(frozen=True)
class Candidate:
    """An item as the engine sees it."""

    id: int
    difficulty: float
    domain: str


@dataclass(frozen=True)
class Answer:
    item: Candidate
    correct: bool | None  # None: "je ne sais pas"


@dataclass(frozen=True)
class Estimate:
    theta: float
    standard_error: float
    answered: int  # items in the likelihood (not "je ne sais pas")


def _params(difficulties: Sequence[float]) -> numpy.ndarray:
    """Rasch items in catsim's [a, b, c, d] layout: discrimination 1, no guessing."""
    rows = numpy.zeros((len(difficulties), 4))
    rows[:, 0] = 1.0
    rows[:, 1] = difficulties
    rows[:, 3] = 1.0
    return rows


_ESTIMATOR = NumericalSearchEstimator(dodd=False)


def estimate(answers: Sequence[Answer], previous: float) -> Estimate:
    """Ability from the answered items, `previous` being the estimate before the last answer (the
    fixed step starts from it); without any answer, `previous` with an infinite error."""
    answered = [a for a in answers if a.correct is not None]
    if not answered:
        return Estimate(previous, float("inf"), 0)
    params = _params([a.item.difficulty for a in answered])
    responses = [bool(a.correct) for a in answered]
    if len(set(responses)) == 1:
        theta = previous + (STEP if responses[0] else -STEP)
    else:
        theta = _ESTIMATOR.estimate(
            item_bank=ItemBank(params, validate=False),
            administered_items=list(range(len(answered))),
            response_vector=responses,
            est_theta=previous,
        )
    theta = float(numpy.clip(theta, -4.0, 4.0))
    return Estimate(theta, float(irt.see(theta, params)), len(answered))


def should_stop(answers: Sequence[Answer], current: Estimate, domains: set[str], pool_left: int) -> bool:
    if pool_left == 0 or len(answers) >= MAX_ITEMS:
        return True
    covered = {a.item.domain for a in answers}
    return covered >= domains and current.standard_error <= TARGET_SE


# Among the few most informative items, one at random (Kingsbury and Zara's "randomesque"): two
# students, or a retake, do not all get the same questions; measured in `make bench`, it costs
# no precision.
RANDOMESQUE_BIN = 3


def next_item(
    pool: Sequence[Candidate],
    answers: Sequence[Answer],
    theta: float,
    rng: numpy.random.Generator | None = None,
) -> Candidate | None:
    """The most informative item at theta among the least covered domains; with `rng`, one of the
    RANDOMESQUE_BIN most informative."""
    shown = {a.item.id for a in answers}
    left = [c for c in pool if c.id not in shown]
    if not left:
        return None
    counts = Counter(a.item.domain for a in answers)
    floor = min(counts.get(c.domain, 0) for c in left)
    eligible = [c for c in left if counts.get(c.domain, 0) - floor <= LEAD]
    bank = ItemBank(_params([c.difficulty for c in eligible]), validate=False)
    if rng is None:
        index = MaxInfoSelector().select(item_bank=bank, administered_items=[], est_theta=theta)
    else:
        selector = RandomesqueSelector(bin_size=RANDOMESQUE_BIN)
        index = selector.select(item_bank=bank, administered_items=[], est_theta=theta, rng=rng)
    return eligible[int(index)]


def fixed_form(pool: Sequence[Candidate], size: int) -> list[Candidate]:
    """A fixed test of `size` items: domains in turn, difficulties spread from easy to hard."""
    by_domain: dict[str, list[Candidate]] = {}
    for c in sorted(pool, key=lambda c: (c.domain, c.difficulty, c.id)):
        by_domain.setdefault(c.domain, []).append(c)
    quota = {d: size // len(by_domain) for d in by_domain}
    for d in sorted(by_domain)[: size % len(by_domain)]:
        quota[d] += 1
    form: list[Candidate] = []
    for d, items in sorted(by_domain.items()):
        take = min(quota[d], len(items))
        # Evenly spaced ranks in the sorted difficulties: a spread, the same for everyone.
        ranks = numpy.linspace(0, len(items) - 1, take).round().astype(int) if take else []
        form.extend(items[int(r)] for r in ranks)
    # Interleave domains so the test does not come in blocks.
    return _interleave(form)


def _interleave(form: list[Candidate]) -> list[Candidate]:
    queues: dict[str, list[Candidate]] = {}
    for c in form:
        queues.setdefault(c.domain, []).append(c)
    out: list[Candidate] = []
    while any(queues.values()):
        for d in sorted(queues):
            if queues[d]:
                out.append(queues[d].pop(0))
    return out


def replay(answers: Sequence[Answer]) -> Estimate:
    """The estimate after these answers, computed as the test went (the fixed step depends on
    the previous estimate at each answer)."""
    current = Estimate(START_THETA, float("inf"), 0)
    for count in range(1, len(answers) + 1):
        current = estimate(answers[:count], current.theta)
    return current
