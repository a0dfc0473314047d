"""PERIODIC is what the scheduler runs; JOBS is what `flask jobs run` knows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nexus.jobs.bilans import sweep_bilans
from nexus.jobs.billing import (
    allocate_monthly_credits,
    end_lapsed_subscriptions,
    expire_credit_lots,
    reconcile_card_payments,
    remind_expiring_credits,
    send_subscription_notices,
)
from nexus.jobs.calibration import calibrate
from nexus.jobs.coach_pay import refresh_pay_drafts
from nexus.jobs.figures import refresh_figure_rollups
from nexus.jobs.identity import purge_stale_signups
from nexus.jobs.mail import flush_outbox
from nexus.jobs.messaging import send_message_digests
from nexus.jobs.progress import refresh_all_indexes
from nexus.jobs.scheduling import send_session_reminders
from nexus.jobs.telegram import flush_telegram
from nexus.jobs.vault import sweep_session_reports

# (job, interval in seconds). Each is idempotent, so running one more often costs little.
PERIODIC: list[tuple[Callable[[], Any], int]] = [
    (flush_outbox, 60),
    (flush_telegram, 60),
    (end_lapsed_subscriptions, 600),
    (allocate_monthly_credits, 3600),
    (expire_credit_lots, 600),
    (remind_expiring_credits, 3600),
    (send_session_reminders, 300),
    (purge_stale_signups, 86400),
    (calibrate, 7 * 86400),
    (sweep_bilans, 600),
    (refresh_all_indexes, 86400),
    (send_message_digests, 600),
    (sweep_session_reports, 600),
    (reconcile_card_payments, 300),
    (send_subscription_notices, 3600),
    (refresh_figure_rollups, 3600),
    (refresh_pay_drafts, 6 * 3600),
]

JOBS: dict[str, Callable[[], Any]] = {func.__name__: func for func, _ in PERIODIC}
