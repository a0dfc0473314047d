"""The centre's pay rules: whether a student's no-show is paid, and the share of a late family
cancellation (CentreSettings row 1, edited by the admin; each statement keeps the values it was
computed with)."""

from __future__ import annotations

from dataclasses import dataclass

from nexus.extensions import db
from nexus.models.common import Role
from nexus.models.identity import User
from nexus.models.operations import CentreSettings
from nexus.services import ServiceError, audit, centre_settings, command, locked

DEFAULT_PAY_NO_SHOW = True
DEFAULT_LATE_CANCEL_SHARE = 50


@dataclass(frozen=True)
class PaySettings:
    pay_no_show: bool = DEFAULT_PAY_NO_SHOW
    late_cancel_share: int = DEFAULT_LATE_CANCEL_SHARE  # percent, 0..100


def pay_settings() -> PaySettings:
    """The rules in force (the defaults while the settings row does not exist)."""
    row = db.session.get(CentreSettings, centre_settings.SETTINGS_ID)
    if row is None:
        return PaySettings()
    share = DEFAULT_LATE_CANCEL_SHARE if row.late_cancel_share is None else row.late_cancel_share
    no_show = DEFAULT_PAY_NO_SHOW if row.pay_no_show is None else bool(row.pay_no_show)
    return PaySettings(no_show, int(share))


@command
def set_pay_settings(actor: User, pay_no_show: bool, late_cancel_share: int) -> PaySettings:
    """Save the pay rules (admin only), audited with the values before and after. Statements
    already validated keep the rules they were computed with; drafts take them at their next
    computation."""
    if actor.role is not Role.ADMIN:
        raise ServiceError("Seul un administrateur modifie les règles de rémunération.")
    if isinstance(late_cancel_share, bool) or not isinstance(late_cancel_share, int):
        raise ServiceError("Une part de 0 à 100 %.", "late_cancel_share")
    if not 0 <= late_cancel_share <= 100:
        raise ServiceError("Une part de 0 à 100 %.", "late_cancel_share")
    centre_settings.ensure_row()
    row = locked(CentreSettings, centre_settings.SETTINGS_ID)
    assert row is not None  # just ensured, and the row is never deleted
    before = {"pay_no_show": bool(row.pay_no_show), "late_cancel_share": int(row.late_cancel_share)}
    after = {"pay_no_show": bool(pay_no_show), "late_cancel_share": late_cancel_share}
    row.pay_no_show = after["pay_no_show"]
    row.late_cancel_share = late_cancel_share
    row.updated_by_id = actor.id
    audit.record_changes("coach_pay.settings_updated", actor.id, row, before, after)
    return PaySettings(after["pay_no_show"], late_cancel_share)
