"""nexus.numbers reads what people type, whatever they type: never an exception, never NaN,
never more decimals or digits than the field allows, never a digit outside ASCII."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from nexus.numbers import exact, parse_count, parse_credits, parse_tnd

# Any text; numbers as Python writes them (exponents, NaN, Infinity); digits of every script.
typed = st.one_of(
    st.text(max_size=60),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(str),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.text(alphabet=st.characters(categories=["Nd", "No"]), max_size=8),
    st.text(alphabet=st.sampled_from("0123456789,. \u00a0\u202fe+-"), max_size=12),
)


@given(typed)
def test_credits_are_exact_and_bounded(raw):
    value = parse_credits(raw)
    if value is not None:
        assert raw.strip().isascii()
        assert exact(value, 2) and Decimal(0) <= value < Decimal(10_000)


@given(typed)
def test_tnd_amounts_are_whole_millimes_and_bounded(raw):
    value = parse_tnd(raw)
    if value is not None:
        assert isinstance(value, int) and 0 <= value < 10_000_000 * 1000
        assert all(c.isascii() or c in "\u00a0\u202f" for c in raw)  # French thousands separators


@given(typed)
def test_counts_stay_within_their_bounds(raw):
    value = parse_count(raw, 1, 730)
    assert value is None or (isinstance(value, int) and 1 <= value <= 730)


@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_exact_accepts_only_finite_hundredths(value):
    if exact(value, 2):
        assert value.is_finite() and value == value.quantize(Decimal("0.01"))
