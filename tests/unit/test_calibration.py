"""Rasch calibration on plain arrays: recovery, threshold, "je ne sais pas", anchoring."""

from __future__ import annotations

import numpy
import pytest

from nexus.services.assessments.calibration import LIMIT, MIN_ANSWERS, fit

N_PERSONS, N_ITEMS = 600, 40


def simulate(difficulties: numpy.ndarray, abilities: numpy.ndarray, rng: numpy.random.Generator):
    """Every person answers every item under the Rasch model: (persons, items, correct)."""
    persons = numpy.repeat(numpy.arange(len(abilities)), len(difficulties))
    items = numpy.tile(numpy.arange(len(difficulties)), len(abilities))
    p = 1 / (1 + numpy.exp(-(abilities[persons] - difficulties[items])))
    return persons, items, (rng.random(len(persons)) < p).tolist()


@pytest.fixture(scope="module")
def world():
    rng = numpy.random.default_rng(2030)
    truth = numpy.linspace(-3, 3, N_ITEMS)
    abilities = rng.normal(0, 1.5, N_PERSONS)
    return truth, abilities, simulate(truth, abilities, rng)


@pytest.fixture(scope="module")
def base(world):
    """The fit of the complete matrix with the true difficulties as priors (shared: a fit is ~1 s)."""
    truth, _, (persons, items, correct) = world
    return fit(persons, items, correct, truth)


def test_recovers_known_difficulties(world):
    truth, _, (persons, items, correct) = world
    priors = truth + numpy.random.default_rng(1).normal(0, 0.8, N_ITEMS)  # the authors' guesses
    result = fit(persons, items, correct, priors)
    assert result.converged
    assert result.calibrated.all()
    assert result.answers.tolist() == [N_PERSONS] * N_ITEMS
    # Anchored on the priors' mean: compare on the centred scale.
    centred = result.difficulty - result.difficulty.mean()
    error = centred - (truth - truth.mean())
    assert numpy.sqrt(numpy.mean(error**2)) < 0.15
    assert numpy.abs(error).max() < 0.4
    # No shrinkage: the ability spread is estimated, not fixed at 1.
    assert numpy.polyfit(truth, result.difficulty, 1)[0] == pytest.approx(1.0, abs=0.06)
    assert result.ability_sd == pytest.approx(1.5, abs=0.15)
    # Standard errors of the right size (≈ 1/sqrt(n·p(1-p)) with n = 600): about 0.1.
    assert 0.07 < numpy.nanmean(result.standard_error) < 0.2


def test_unbiased_when_the_test_chooses_the_items(world):
    """A two-stage test (routing block, then an easier or a harder block by the score): hard items
    are answered by strong students only. A fit that ignores this collapses the difficulties."""
    truth, _, (_, _, correct) = world
    answers = numpy.array(correct).reshape(N_PERSONS, N_ITEMS)
    routing = numpy.argsort(numpy.abs(truth))[:10]
    rest = sorted(set(range(N_ITEMS)) - set(routing.tolist()), key=lambda i: truth[i])
    easy, hard = rest[:15], rest[-15:]
    kept_p, kept_i, kept_c = [], [], []
    for person in range(N_PERSONS):
        block = hard if answers[person, routing].sum() >= 5 else easy
        for item in [*routing.tolist(), *block]:
            kept_p.append(person)
            kept_i.append(item)
            kept_c.append(bool(answers[person, item]))
    result = fit(kept_p, kept_i, kept_c, truth)
    fitted = result.calibrated
    assert fitted.sum() >= 35
    assert numpy.polyfit(truth[fitted], result.difficulty[fitted], 1)[0] == pytest.approx(1.0, abs=0.1)
    assert numpy.abs(result.difficulty[fitted] - truth[fitted]).max() < 0.6


def test_items_under_the_threshold_keep_their_prior():
    rng = numpy.random.default_rng(5)
    truth = numpy.linspace(-2, 2, 10)
    abilities = rng.normal(0, 1.2, 300)
    persons, items, correct = simulate(truth, abilities, rng)
    # Item 9 is answered by only MIN_ANSWERS - 1 people, item 8 by exactly MIN_ANSWERS.
    keep = [
        (i != 9 or p < MIN_ANSWERS - 1) and (i != 8 or p < MIN_ANSWERS)
        for p, i in zip(persons, items, strict=True)
    ]
    persons, items = persons[keep], items[keep]
    correct = [c for c, k in zip(correct, keep, strict=True) if k]
    priors = numpy.full(10, 0.7)
    result = fit(persons, items, correct, priors)
    assert result.answers[9] == MIN_ANSWERS - 1 and not result.calibrated[9]
    assert result.difficulty[9] == 0.7 and numpy.isnan(result.standard_error[9])
    assert result.answers[8] == MIN_ANSWERS and result.calibrated[8]
    assert result.calibrated[:9].all()


def test_nothing_to_fit_returns_the_priors():
    result = fit([], [], [], [0.5, -1.0])
    assert result.difficulty.tolist() == [0.5, -1.0]
    assert not result.calibrated.any() and result.answers.tolist() == [0, 0]
    few = fit([1, 2], [0, 0], [True, False], [0.5, -1.0])
    assert few.difficulty.tolist() == [0.5, -1.0] and few.answers.tolist() == [2, 0]


def test_je_ne_sais_pas_is_left_out(world, base):
    truth, _, (persons, items, correct) = world
    # Add 40 "je ne sais pas" per item, from new people and from people already there.
    extra_p = [f"nsp{k}" for k in range(20)] * N_ITEMS + list(range(20)) * N_ITEMS
    extra_i = [i for i in range(N_ITEMS) for _ in range(20)] * 2
    with_nsp = fit(
        [*persons.tolist(), *extra_p],
        [*items.tolist(), *extra_i],
        [*correct, *([None] * len(extra_p))],
        truth,
    )
    assert with_nsp.answers.tolist() == base.answers.tolist()
    numpy.testing.assert_allclose(with_nsp.difficulty, base.difficulty, atol=1e-6)
    # NaN is read as "je ne sais pas" too (arrays coming from pandas or numpy).
    nan = fit([1, 1, 2], [0, 0, 0], [True, float("nan"), False], [0.0], min_answers=2)
    assert nan.answers.tolist() == [2]


def test_anchored_on_the_priors_of_the_calibrated_items(world):
    truth, _, (persons, items, correct) = world
    for offset in (-0.5, 0.4):  # clipping at ±4 aside, the mean is exact
        priors = truth + offset
        result = fit(persons, items, correct, priors)
        assert result.difficulty.mean() == pytest.approx(priors.mean(), abs=1e-9)
    # Only the calibrated items anchor: an uncalibrated item with an extreme prior moves nothing.
    priors = numpy.append(truth, 3.5)
    result = fit(persons, items, correct, priors)
    assert not result.calibrated[-1] and result.difficulty[-1] == 3.5
    assert result.difficulty[:-1].mean() == pytest.approx(truth.mean(), abs=1e-9)


def test_estimates_are_clipped():
    rng = numpy.random.default_rng(9)
    truth = numpy.array([-6.0, -1.0, 0.0, 1.0, 6.0])
    abilities = rng.normal(0, 1.0, 400)
    persons, items, correct = simulate(truth, abilities, rng)
    result = fit(persons, items, correct, truth.clip(-3.5, 3.5))
    assert result.calibrated.all()
    assert result.difficulty.min() == -LIMIT and result.difficulty.max() == LIMIT
    assert numpy.isfinite(result.difficulty).all()


def test_rejects_mismatched_input():
    with pytest.raises(ValueError):
        fit([1, 2], [0], [True], [0.0])
    with pytest.raises(ValueError):
        fit([1], [3], [True], [0.0])


def test_an_item_everyone_got_right_does_not_move_the_others(world, base):
    truth, _, (persons, items, correct) = world
    # A 41st item, answered right by all 600.
    with_easy = fit(
        [*persons.tolist(), *range(N_PERSONS)],
        [*items.tolist(), *([N_ITEMS] * N_PERSONS)],
        [*correct, *([True] * N_PERSONS)],
        numpy.append(truth, -2.0),
    )
    assert with_easy.calibrated[-1] and with_easy.difficulty[-1] == -LIMIT
    numpy.testing.assert_allclose(with_easy.difficulty[:-1], base.difficulty, atol=0.02)
    assert with_easy.difficulty[:-1].mean() == pytest.approx(truth.mean(), abs=1e-9)
