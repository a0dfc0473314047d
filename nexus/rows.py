"""One inline row action for every staff table, and one confirmation that works without JavaScript.

A row action is a small form in a table row (macros/rows.html `row_action`). With htmx it
answers the new `<tr>`, its notice inside; without, a flash message and a 303 back to the list
it came from, filters kept. The status says what happened, the same everywhere:

- 200: done, or already done (a second click is not an error: the row shows the state);
- 422: refused input (the row says why, nothing changed);
- 409: someone else changed it meanwhile (the row shows the new state and says so).

An irreversible action asks first: `hx-confirm` in the browser (which then posts confirm=1), or,
without JavaScript, a confirmation page (`confirm_page`) whose button posts confirm=1.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from nexus.web import is_fragment_request

DONE, REFUSED, CONFLICT = 200, 422, 409
_FLASH = {DONE: "success", REFUSED: "error", CONFLICT: "info"}
ALREADY_DONE = "Déjà traité"


def status_notice(changed: bool, now: Any, target: Any, what: str) -> tuple[str, int]:
    """(notice, status) after a status move: done, already where asked, or moved elsewhere
    meanwhile. `what` names the row: "cette demande", "cette réservation"."""
    if changed:
        return f"Statut changé : {target.label}.", DONE
    return f"{ALREADY_DONE} : {what} est déjà « {now.label} ».", DONE if now is target else CONFLICT


def back_url(endpoint: str, sent: str | None = None, **values: Any) -> str:
    """Where a plain POST returns: the list it came from (same filters), never elsewhere."""
    base = url_for(endpoint, **values)
    target = request.form.get("retour", "") if sent is None else sent
    if target == base or (target.startswith(base + "?") and "\\" not in target and target.isprintable()):
        return target
    return base


def answer(template: str, notice: str, *, back: str, status: int = DONE, **context: Any) -> Any:
    """The new row with its notice for htmx; a flash and a 303 back to the list otherwise."""
    if is_fragment_request():
        row = render_template(template, notice=notice, notice_ok=status == DONE, **context)
        return row, status
    flash(notice, _FLASH.get(status, "info"))
    return redirect(back_url(back), code=303)


def confirmed() -> bool:
    """The person said yes: hx-confirm in the browser, or the confirmation page's button."""
    return request.form.get("confirm") == "1"


def confirm_page(
    title: str, action: str, *, button: str, back: str, facts: dict[str, str] | None = None, **context: Any
) -> str:
    """Without JavaScript, the question hx-confirm would have asked, as a page."""
    return render_template(
        "confirm.html", title=title, action=action, button=button, back=back, facts=facts or {}, **context
    )
