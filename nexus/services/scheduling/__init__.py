"""Sessions with coaches: free slots, booking with credits, cancellation, reschedule, reports,
reminders, availability, calendar feeds and video rooms.

Times: availability is stored as local Africa/Tunis wall-clock times, bookings as instants
(timestamptz). Slots are computed by placing the local windows on each date with zoneinfo, so
the server's own time zone never matters.

Where things live: `slots` (the time grid, free slots, French date labels), `availability` (a
coach's weekly grid and exceptions), `parsing` (the booking form), `booking`, `changes` (cancel,
reschedule), `reports` (report, no-show), `reminders`, `queries` (who sees which session, the
lists), `notices` (every notification and e-mail), `calendar` (iCal feeds), `video` (rooms).
This package exports the operations the pages and jobs call; the time grid, availability,
calendar and video are imported from their modules.
"""

from nexus.services.scheduling.booking import SlotTaken, StudentBusy, book, can_use_credits, check_choice
from nexus.services.scheduling.changes import (
    AlreadyClosed,
    Cancelled,
    CancelTerms,
    cancel,
    cancel_terms,
    moved_to,
    reschedule,
)
from nexus.services.scheduling.parsing import (
    SELF_BOOKABLE,
    BookingChoice,
    parse_choice,
    parse_day,
    parse_local_start,
    parse_minutes,
    parse_service,
    parse_subject,
)
from nexus.services.scheduling.queries import (
    CoachAgenda,
    booking_for,
    coach_agenda,
    coach_profile_of,
    coach_student,
    coach_students,
    coaches_for,
    services_of,
    sessions_of_students,
    sessions_with,
    upcoming_all,
    upcoming_stmt,
    visible_to,
)
from nexus.services.scheduling.reminders import deliver_reminder, due_reminders
from nexus.services.scheduling.reports import ReportInput, mark_no_show, mark_read_by_family, write_report

__all__ = [
    "SELF_BOOKABLE",
    "AlreadyClosed",
    "BookingChoice",
    "CancelTerms",
    "Cancelled",
    "CoachAgenda",
    "ReportInput",
    "SlotTaken",
    "StudentBusy",
    "book",
    "booking_for",
    "can_use_credits",
    "cancel",
    "cancel_terms",
    "check_choice",
    "coach_agenda",
    "coach_profile_of",
    "coach_student",
    "coach_students",
    "coaches_for",
    "deliver_reminder",
    "due_reminders",
    "mark_no_show",
    "mark_read_by_family",
    "moved_to",
    "parse_choice",
    "parse_day",
    "parse_local_start",
    "parse_minutes",
    "parse_service",
    "parse_subject",
    "reschedule",
    "services_of",
    "sessions_of_students",
    "sessions_with",
    "upcoming_all",
    "upcoming_stmt",
    "visible_to",
    "write_report",
]
