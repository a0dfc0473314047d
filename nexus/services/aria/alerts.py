"""A flagged question: a caring answer instead of the model's, an alert row, and the adults told.

Who is told, by category:

- self-harm, distress, harassment: the staff (bell, e-mail with the question, the alerts page)
  and the parents (bell and e-mail with the category and a caring text, never the question:
  the child's words stay between the child, ARIA and the centre's staff, who call the family);
  when the question names harm at home ("mon père me frappe"), the staff only;
- cheating pressure ("donne-moi les réponses du contrôle"): the staff only, in the bell and on the
  alerts page, without e-mail. A first request during a test is a lesson to learn, not a family
  matter: ARIA refuses kindly and offers to revise the method; the staff see repeated pressure
  on the alerts page and decide whether to speak to the family.

A flagged question does not refresh the Nexus Index (no `progress.events.changed`): a cry for
help is not engagement and must not earn a badge. Everything happens once per question: the
answer is unique per question and the alert per message, and each e-mail has a dedupe key
naming the alert.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import joinedload

from nexus import links
from nexus.extensions import db
from nexus.models.aria import (
    AnswerMode,
    AriaAlert,
    AriaConversation,
    AriaMessage,
    MessageRole,
    SafetyCategory,
)
from nexus.models.family import ParentProfile, Student
from nexus.models.identity import User
from nexus.services import audit, command, notifications, preferences, utcnow
from nexus.services.aria.conversations import answer_to
from nexus.services.aria.safety import Verdict
from nexus.services.paging import Page, paginate

KIND = "ARIA_ALERT"
ADULT = (
    "**Parlez-en aujourd'hui à un adulte de confiance** : un parent, quelqu'un de votre famille, un "
    "professeur, le CPE, l'infirmière ou le conseiller de votre lycée."
)
EMERGENCY = (
    "**En cas de danger immédiat, appelez le SAMU au 190**, la Protection civile au 198 ou la police "
    "au 197, ou allez tout de suite vers l'adulte le plus proche."
)
TOLD = {
    "all": "**L'équipe Nexus Réussite et vos parents sont prévenus** et vont prendre de vos nouvelles.",
    "staff": "**L'équipe Nexus Réussite est prévenue** (pas vos parents) et va prendre de vos nouvelles.",
}
CARE = {
    SafetyCategory.SELF_HARM: (
        "**Merci de m'avoir écrit cela. Ce que vous ressentez compte, et vous n'avez pas à le porter "
        "seul·e.**\n\nJe ne suis qu'un assistant pour les cours : je ne peux pas vous aider comme une "
        "personne le ferait. Des personnes le peuvent, dès maintenant :\n\n- {emergency}\n- {adult}\n"
        "- {told}\n\nVous comptez. Quand vous le voudrez, je serai là pour reprendre les cours avec vous."
    ),
    SafetyCategory.DISTRESS: (
        "**Merci de me le dire. Ce que vous traversez a l'air lourd, et vous n'avez pas à rester seul·e "
        "avec ça.**\n\n- {adult}\n- {emergency}\n- {told}\n\nPrenez soin de vous. Les cours peuvent "
        "attendre ; quand vous le voudrez, je serai là pour les reprendre avec vous."
    ),
    SafetyCategory.HARASSMENT: (
        "**Personne n'a le droit de vous harceler, de vous menacer ou de vous humilier, ni au lycée ni en "
        "ligne. Ce n'est pas de votre faute.**\n\n- {adult}\n- En ligne : gardez des captures d'écran, "
        "puis bloquez et signalez les comptes concernés.\n- Si vous êtes menacé·e ou en danger : la "
        "police au 197, le SAMU au 190.\n- {told}"
    ),
}
HARMING_OTHERS = (
    "**Je ne vous aiderai pas à harceler, humilier ou menacer quelqu'un**, ni à entrer dans son compte : "
    "cela fait beaucoup de mal, et c'est puni par la loi.\n\nSi un conflit vous pèse, {adult_lower}\n\n"
    "L'équipe Nexus Réussite est prévenue de cette conversation."
)
HARMING_RULES = {"harceler quelqu un", "pirater un compte"}
CHEATING = (
    "**Je ne peux pas vous donner les réponses d'une évaluation en cours ou à venir** : la note ne "
    "dirait plus ce que vous savez, et ce serait injuste pour vous comme pour les autres.\n\nEn "
    "revanche, je vous aide volontiers à **revoir la méthode** : dites-moi le chapitre, et nous "
    "nous entraînerons sur des exercices semblables, pas à pas. Bon courage !\n\n*L'équipe "
    "pédagogique de Nexus Réussite voit cette demande.*"
)
PARENT_TEXT = {
    SafetyCategory.SELF_HARM: "Un message de votre enfant à ARIA laisse penser qu'il ou elle pourrait "
    "vouloir se faire du mal.",
    SafetyCategory.DISTRESS: "Un message de votre enfant à ARIA laisse penser qu'il ou elle traverse un "
    "moment difficile.",
    SafetyCategory.HARASSMENT: "Un message de votre enfant à ARIA parle de harcèlement.",
}


def tells_parents(verdict: Verdict) -> bool:
    return verdict.category in PARENT_TEXT and not verdict.spare_parents


def caring_text(verdict: Verdict) -> str:
    """The fixed French answer for a flagged question (Tunisian emergency numbers)."""
    if verdict.category is SafetyCategory.CHEATING:
        return CHEATING
    if verdict.category is SafetyCategory.HARASSMENT and verdict.rule in HARMING_RULES:
        return HARMING_OTHERS.format(adult_lower=ADULT.replace("**Parlez-en", "**parlez-en"))
    told = TOLD["all"] if tells_parents(verdict) else TOLD["staff"]
    return CARE[verdict.category].format(emergency=EMERGENCY, adult=ADULT, told=told)


# -- the answer and the alert ------------------------------------------------------------------------


@command
def answer_with_care(question_id: int, conversation_id: int, verdict: Verdict) -> AriaMessage:
    """Store the caring answer once; the first store raises the alert and tells the adults."""
    stmt = (
        insert(AriaMessage)
        .values(
            conversation_id=conversation_id,
            role=MessageRole.ASSISTANT,
            reply_to_id=question_id,
            content=caring_text(verdict),
            citations=[],
            mode=AnswerMode.SAFETY,
        )
        .on_conflict_do_nothing(index_elements=["reply_to_id"])
        .returning(AriaMessage.id)
    )
    if db.session.execute(stmt).scalar_one_or_none() is not None:
        _raise_alert(question_id, verdict)
    answer = answer_to(question_id)
    assert answer is not None
    return answer


def _raise_alert(question_id: int, verdict: Verdict) -> None:
    question = db.session.get(AriaMessage, question_id)
    assert question is not None
    student = db.session.scalar(
        select(Student)
        .options(
            joinedload(Student.user),
            joinedload(Student.parent).joinedload(ParentProfile.user),
            joinedload(Student.parent).selectinload(ParentProfile.co_parents),
        )
        .where(Student.id == question.conversation.student_id)
    )
    assert student is not None
    stmt = (
        insert(AriaAlert)
        .values(
            message_id=question.id, student_id=student.id, category=verdict.category, source=verdict.source
        )
        .on_conflict_do_nothing(index_elements=["message_id"])
        .returning(AriaAlert.id)
    )
    alert_id = db.session.execute(stmt).scalar_one_or_none()
    # No progress refresh here: a cry for help is not "engagement", and must never earn a badge.
    if alert_id is None:
        return
    _tell_staff(alert_id, student, question, verdict)
    if tells_parents(verdict):
        _tell_parents(alert_id, student, verdict)


def _tell_staff(alert_id: int, student: Student, question: AriaMessage, verdict: Verdict) -> None:
    label = verdict.category.label
    title = f"Alerte ARIA « {label} » : {student.full_name}"
    notifications.notify_staff(KIND, title, question.content[:200], links.internal("aria.alerts"))
    if verdict.category is SafetyCategory.CHEATING:
        return
    notifications.queue_email(
        current_app.config["STAFF_EMAIL"],
        "aria_alert_staff",
        f"Alerte ARIA — {label} — {student.full_name}",
        {
            "alert_id": alert_id,
            "student": student.full_name,
            "grade": student.grade.label,
            "category": label,
            "source": "lexique" if verdict.source == "lexicon" else "modération du modèle",
            "question": question.content,
            "parents_told": tells_parents(verdict),
            "url": links.external("aria.alerts"),
        },
        dedupe_key=f"aria-alert:{alert_id}:staff",
    )


def _tell_parents(alert_id: int, student: Student, verdict: Verdict) -> None:
    text = PARENT_TEXT[verdict.category]
    first_name = student.user.first_name
    for parent in student.parent.guardians:
        notifications.notify(
            parent.id,
            KIND,
            f"{first_name} a peut-être besoin de vous",
            text + " L'équipe Nexus Réussite est prévenue et vous contactera.",
            links.internal("aria.parent_index"),
        )
        notifications.queue_email(
            parent.email,
            "aria_alert_parent",
            f"{first_name} a peut-être besoin de vous",
            {"child": first_name, "category": verdict.category.label, "text": text},
            user_id=parent.id,
            dedupe_key=f"aria-alert:{alert_id}:parent:{parent.id}",
            event=preferences.ALERTS,  # locked: always e-mailed, whatever the preferences
        )


# -- the staff's list ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertRow:
    alert: AriaAlert
    student: Student
    question: AriaMessage
    conversation: AriaConversation
    acknowledged_by: User | None


FILTERS = {"a-traiter": "À prendre en charge", "toutes": "Toutes"}


def _rows_stmt() -> Select[tuple[AriaAlert]]:
    return select(AriaAlert).order_by(
        AriaAlert.acknowledged_at.is_not(None), AriaAlert.created_at.desc(), AriaAlert.id.desc()
    )


def _with_context(alerts: list[AriaAlert]) -> list[AlertRow]:
    if not alerts:
        return []
    questions = {
        m.id: m
        for m in db.session.scalars(
            select(AriaMessage)
            .options(joinedload(AriaMessage.conversation))
            .where(AriaMessage.id.in_([a.message_id for a in alerts]))
        )
    }
    students = {
        s.id: s
        for s in db.session.scalars(
            select(Student)
            .options(joinedload(Student.user))
            .where(Student.id.in_({a.student_id for a in alerts}))
        )
    }
    staff_ids = {a.acknowledged_by_id for a in alerts if a.acknowledged_by_id}
    staff = (
        {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(staff_ids)))} if staff_ids else {}
    )
    return [
        AlertRow(
            a,
            students[a.student_id],
            questions[a.message_id],
            questions[a.message_id].conversation,
            staff.get(a.acknowledged_by_id or 0),
        )
        for a in alerts
        if a.student_id in students and a.message_id in questions
    ]


def list_alerts(filter_key: str, page: int) -> Page[AlertRow]:
    """The alerts, those to take in hand first, newest first."""
    stmt = _rows_stmt()
    if filter_key != "toutes":
        stmt = stmt.where(AriaAlert.acknowledged_at.is_(None))
    found = paginate(stmt, page)
    return Page(_with_context(found.items), found.number, found.per_page, found.total)


def alert_row(alert_id: int) -> AlertRow | None:
    alert = db.session.scalar(_rows_stmt().where(AriaAlert.id == alert_id))
    rows = _with_context([alert]) if alert else []
    return rows[0] if rows else None


def open_count() -> int:
    return db.session.scalar(select(func.count(AriaAlert.id)).where(AriaAlert.acknowledged_at.is_(None))) or 0


@command
def acknowledge(alert_id: int, actor_id: int) -> tuple[AriaAlert, bool] | None:
    """Mark an alert as taken in hand (once: a second click changes nothing); None if unknown."""
    alert = db.session.scalar(select(AriaAlert).where(AriaAlert.id == alert_id).with_for_update())
    if alert is None:
        return None
    if alert.acknowledged_at is not None:
        return alert, False
    alert.acknowledged_at = utcnow()
    alert.acknowledged_by_id = actor_id
    audit.record(
        "aria.alert_acknowledged",
        actor_id,
        alert,
        before={"acknowledged_at": None},
        after={"acknowledged_at": alert.acknowledged_at.isoformat()},
    )
    return alert, True
