"""The question bank for staff: items, their calibration, the answers they rest on."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, render_template, request

from nexus import fr, policy
from nexus.question_bank import LETTERS, render
from nexus.services.assessments import calibration
from nexus.services.assessments import item_bank as items
from nexus.web import is_fragment_request, or_404, page_arg

bp = Blueprint("item_bank", __name__, url_prefix="/dashboard/assistante/banque-questions")


@bp.context_processor
def _nav_current() -> dict[str, str]:
    """An item's page is under the bank's entry of the sidebar."""
    return {"nav_current": "item_bank.index"}


def difficulty(value: float | None) -> str:
    """A difficulty to the hundredth, French style with a true minus sign: -1.25 → '−1,25'."""
    if value is None:
        return "—"
    rounded = round(value, 2) + 0.0  # + 0.0: no "−0"
    return fr.number(Decimal(f"{rounded:.2f}")).replace("-", "\u2212")


@bp.get("")
@policy.access(policy.STAFF)
def index() -> Any:
    page = items.search_items(request.args, page_arg())
    context = {
        "page": page,
        "stats": items.item_stats([i.id for i in page.items]),
        "difficulty": difficulty,
        "bank_label": items.bank_label,
        "domain_label": items.domain_label,
        "min_answers": calibration.MIN_ANSWERS,
    }
    if is_fragment_request():
        return render_template("item_bank/_table.html", **context)
    bank = request.args.get("banque", "")
    bank = bank if bank in items.BANKS else ""
    return render_template(
        "item_bank/index.html",
        **context,
        filters=request.args,
        banks=[("", "Toutes"), *((f, items.bank_label(*key)) for f, key in items.BANKS.items())],
        summaries=items.bank_summaries(),
        bank=bank,
        domains=[("", "Tous"), *items.domain_options(bank or None)],
        states=list(items.STATES.items()),
    )


@bp.get("/<int:item_id>")
@policy.access(policy.STAFF)
def show(item_id: int) -> Any:
    item = or_404(items.get_item(item_id))
    domain, skill = items.labels_of(item)
    return render_template(
        "item_bank/show.html",
        item=item,
        stats=items.item_stats([item.id]).get(item.id, items.ItemStats()),
        domain=domain,
        skill=skill,
        letters=LETTERS,
        render=render,
        difficulty=difficulty,
        bank_label=items.bank_label,
        min_answers=calibration.MIN_ANSWERS,
    )
