"""The family of a bilan: who took the test, and the e-mails that carry their links."""

from __future__ import annotations

from nexus import fr
from nexus import links as app_links
from nexus.models.diagnostics import Audience, Bilan
from nexus.services import notifications
from nexus.services.bilans import links


def person_name(bilan: Bilan) -> str:
    """Who took the test: the student, or the stage participant."""
    test = bilan.assessment
    if test.student is not None:
        return test.student.user.full_name
    return test.participant_name or test.participant_email or "Participant"


def first_name(bilan: Bilan) -> str:
    test = bilan.assessment
    if test.student is not None:
        return test.student.user.first_name
    return (test.participant_name or "").split(" ")[0] or "toi"


def send_links(bilan: Bilan) -> None:
    """E-mail the family their links (in the caller's transaction): the student's to the student,
    the parents' to each parent; a stage participant gets both in one e-mail."""
    test = bilan.assessment
    first = first_name(bilan)
    version = bilan.link_version
    common = {
        "first_name": first,
        "test_title": test.title,
        "expires": fr.short_date(links.expires_on()),
    }
    key = f"bilans:{bilan.id}:v{version}"
    status_path = app_links.internal("bilans.questionnaire", assessment_id=test.id)
    if test.student is None:
        if test.participant_email:
            notifications.queue_email(
                test.participant_email,
                "bilan_ready_participant",
                "Ton bilan de compétences est prêt",
                {
                    **common,
                    "student_link": links.url(bilan, Audience.STUDENT),
                    "parents_link": links.url(bilan, Audience.PARENTS),
                },
                dedupe_key=f"{key}:participant",
            )
        return
    student_user = test.student.user
    if student_user.email:
        notifications.queue_email(
            student_user.email,
            "bilan_ready_student",
            "Ton bilan est prêt — Nexus Réussite",
            {**common, "link": links.url(bilan, Audience.STUDENT)},
            user_id=student_user.id,
            event="reports",
            dedupe_key=f"{key}:eleve",
        )
    notifications.notify(student_user.id, "BILAN_READY", "Ton bilan est prêt", test.title, status_path)
    for parent in test.student.parent.guardians:
        if not parent.email or not parent.is_active:
            continue
        notifications.queue_email(
            parent.email,
            "bilan_ready_parents",
            f"Le bilan de {first} est prêt — Nexus Réussite",
            {**common, "parent_first_name": parent.first_name, "link": links.url(bilan, Audience.PARENTS)},
            user_id=parent.id,
            event="reports",
            dedupe_key=f"{key}:parents:{parent.id}",
        )
        title = f"Le bilan de {first} est prêt"
        notifications.notify(parent.id, "BILAN_READY", title, test.title, status_path)
