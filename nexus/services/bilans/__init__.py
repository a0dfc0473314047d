"""Bilans for three audiences after a positioning test (the original's "bilan pallier 2").

One concern a module: `questionnaire` (the diagnostic questions, parsed and validated),
`analysis` (the scoring step: priorities, quick wins, risks, plan, offer), `checks` (what a
generated text must satisfy), `templates` (the deterministic bilans), `generation` (the job's
work: steps, the language model), `links` (the signed links, one per audience), `family` (who
took the test, the e-mails with the links) and `requests` (asking, retrying, revoking, listing).
Callers import `nexus.services.bilans`.

A request writes a QUEUED row and enqueues the job after commit, so it returns at once whatever
the language model does; the job commits each step so a page can poll the row.
"""

from nexus.services.bilans.family import first_name, person_name, send_links
from nexus.services.bilans.generation import generate
from nexus.services.bilans.links import EXPIRED, REVOKED, UNKNOWN, LinkRefused, Opened, open_link
from nexus.services.bilans.questionnaire import CONFIDENCE, Chapter, chapters, parse_form
from nexus.services.bilans.requests import (
    FILTERS,
    GENERATE_JOB,
    bilan_of,
    get,
    list_bilans,
    request_bilan,
    retry,
    revoke_links,
    sweep,
)

__all__ = [
    "CONFIDENCE",
    "EXPIRED",
    "FILTERS",
    "GENERATE_JOB",
    "REVOKED",
    "UNKNOWN",
    "Chapter",
    "LinkRefused",
    "Opened",
    "bilan_of",
    "chapters",
    "first_name",
    "generate",
    "get",
    "list_bilans",
    "open_link",
    "parse_form",
    "person_name",
    "request_bilan",
    "retry",
    "revoke_links",
    "send_links",
    "sweep",
]
