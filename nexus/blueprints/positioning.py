"""The positioning tests: taking them, their results (student, parents, coaches, staff).

A test is one question per page, a plain form that works without JavaScript; an answer names
the question it answers, so a resent form or a second tab cannot answer twice. Results are seen
by the student, their parents, their coaches and staff; anyone else gets 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import charts, fr, policy
from nexus.models.assessments import Assessment, TestStatus
from nexus.models.common import Subject
from nexus.question_bank import LETTERS, render
from nexus.services import ServiceError, family, parse_id
from nexus.services.assessments import access, report_pdf, taking
from nexus.services.assessments import staff as staff_tests
from nexus.web import is_fragment_request, or_404, pdf_response

bp = Blueprint("positioning", __name__)

NO_IDEA = "N"


@bp.context_processor
def _nav_current() -> dict[str, str]:
    """The sidebar entry a test's pages belong to, for the one who reads them."""
    if not current_user.is_authenticated:
        return {}
    if current_user.is_student:
        return {"nav_current": "positioning.mine"}
    if current_user.is_parent:
        return {"nav_current": "positioning.parent_index"}
    if current_user.is_coach:
        return {"nav_current": "coach.students"}
    return {"nav_current": "positioning.staff_index"}


def _subject_choices() -> list[tuple[str, str]]:
    return [(s.value, taking.TEST_NAMES[s]) for s in taking.SUBJECTS]


def _subject(raw: str | None) -> Subject | None:
    return next((s for s in taking.SUBJECTS if s.value == raw), None)


# ---- the student ----


@bp.get("/dashboard/eleve/positionnement")
@policy.access(policy.ELEVE)
def mine() -> Any:
    student = or_404(family.student_of(current_user))
    return render_template(
        "positioning/mine.html",
        student=student,
        tests=access.tests_of(student.id),
        subjects=_subject_choices(),
        offered=student.grade in taking.GRADES,
        timelines=_timelines(student.id),
    )


@bp.post("/dashboard/eleve/positionnement/commencer")
@policy.access(policy.ELEVE)
def start() -> Any:
    student = or_404(family.student_of(current_user))
    subject = _subject(request.form.get("subject"))
    if subject is None:
        flash("Choisis les mathématiques ou la NSI.", "error")
        return redirect(url_for("positioning.mine"), code=303)
    try:
        test = taking.start_test(student, subject)
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for("positioning.mine"), code=303)
    return redirect(url_for("positioning.take", test_id=test.id), code=303)


def _own_test(test_id: int) -> Assessment:
    student = or_404(family.student_of(current_user))
    test = or_404(access.visible_test(current_user, test_id))
    if test.student_id != student.id:
        abort(404)
    return test


@bp.route("/dashboard/eleve/positionnement/<int:test_id>", methods=["GET", "POST"])
@policy.access(policy.ELEVE)
def take(test_id: int) -> Any:
    test = _own_test(test_id)
    return _question_page(
        test, url_for("positioning.take", test_id=test.id), url_for("positioning.results", test_id=test.id)
    )


@bp.route("/positionnement/<token>", methods=["GET", "POST"])
@policy.access(policy.PUBLIC)  # the signed link is the key: a stage participant has no account
def participant(token: str) -> Any:
    test = taking.by_token(token)
    if test is None:
        return render_template("positioning/link_invalid.html"), 404
    here = url_for("positioning.participant", token=token)
    if test.is_completed:
        return render_template("positioning/participant_done.html", test=test, **_results_context(test))
    return _question_page(test, here, here)


def _parse_choice(raw: str | None) -> tuple[bool, int | None]:
    """(valid?, choice): a letter A–D, or N for "je ne sais pas"."""
    raw = (raw or "").strip().upper()
    if raw == NO_IDEA:
        return True, None
    if len(raw) == 1 and raw in LETTERS:
        return True, LETTERS.index(raw)
    return False, None


def _question_page(test: Assessment, here: str, done: str) -> Any:
    if test.status is TestStatus.CANCELLED:
        abort(404)
    if test.is_completed:
        return redirect(done, code=303)
    error = None
    if request.method == "POST":
        valid, choice = _parse_choice(request.form.get("choice"))
        item_id = parse_id(request.form.get("item"))
        if not valid:
            error = "Choisis une réponse (A, B, C ou D), ou « Je ne sais pas »."
        else:
            test, recorded = taking.answer(test.id, item_id, choice)
            if test.is_completed:
                return redirect(done, code=303)
            if not recorded:
                flash("Cette réponse avait déjà été enregistrée : voici la question suivante.", "info")
            return redirect(here, code=303)
    else:
        test = taking.begin(test.id)
    item = test.current_item
    if item is None:
        abort(404)
    return render_template(
        "positioning/take.html",
        test=test,
        item=item,
        number=taking.position(test),
        total=len(test.form) if test.form else None,
        max_items=taking.engine.MAX_ITEMS,
        letters=LETTERS,
        render=render,
        action=here,
        error=error,
    ), (422 if error else 200)


# ---- results ----


def _timelines(student_id: int | None) -> dict[str, Any]:
    if student_id is None:
        return {}
    out = {}
    for subject in taking.SUBJECTS:
        points = [(fr.local_today(s.measured_at), s.ssn) for s in access.history(student_id, subject)]
        if points:
            out[subject.label] = charts.timeline(points, f"SSN en {subject.label.lower()} au fil des tests")
    return out


def _results_context(test: Assessment) -> dict[str, Any]:
    subjects = (test.results or {}).get("subjects", [])
    figures = []
    for part in subjects:
        domains = [(d["label"], d["mastery"]) for d in part["domains"]]
        skills = [(d["label"], [(s["label"], s["mastery"]) for s in d["skills"]]) for d in part["domains"]]
        figures.append(
            {
                "part": part,
                "radar": charts.radar(domains, f"Maîtrise par domaine — {part['label']}"),
                "heatmap": charts.heatmap(skills, f"Maîtrise par compétence — {part['label']}"),
            }
        )
    return {
        "figures": figures,
        "results": test.results or {},
        "review": taking.responses(test.id),
        "render": render,
        "letters": LETTERS,
    }


@bp.get("/dashboard/positionnement/<int:test_id>")
@policy.access(policy.SIGNED_IN)
def results(test_id: int) -> Any:
    test = or_404(access.visible_test(current_user, test_id))
    if not test.is_completed:
        if current_user.is_student and test.is_open:
            return redirect(url_for("positioning.take", test_id=test.id), code=303)
        return render_template("positioning/pending.html", test=test)
    return render_template(
        "positioning/results.html",
        test=test,
        timelines=_timelines(test.student_id),
        can_ask_bilan=current_user.is_student or current_user.is_parent,
        **_results_context(test),
    )


@bp.get("/dashboard/positionnement/<int:test_id>/resultats.pdf")
@policy.access(policy.SIGNED_IN)
def results_pdf(test_id: int) -> Response:
    test = or_404(access.visible_test(current_user, test_id))
    if not test.is_completed:
        abort(404)
    person = test.student.user.full_name if test.student else (test.participant_name or "")
    data = report_pdf.results_pdf(test.title, person, test.completed_at, test.results or {})  # type: ignore[arg-type]
    return pdf_response(data, f"positionnement-{test.id}.pdf")


# ---- parents, coaches, staff ----


@bp.get("/dashboard/parent/positionnement")
@policy.access(policy.PARENT)
def parent_index() -> Any:
    children = [(child, access.tests_of(child.id)) for child in family.children(current_user)]
    return render_template("positioning/parent.html", children=children)


@bp.get("/dashboard/eleves/<int:student_id>/positionnement")
@policy.access(policy.STUDENT_FOLLOWERS)
def student_tests(student_id: int) -> Any:
    student = or_404(access.visible_student(current_user, student_id))
    return render_template(
        "positioning/student_tests.html",
        student=student,
        tests=access.tests_of(student.id),
        timelines=_timelines(student.id),
    )


@bp.get("/dashboard/assistante/positionnement")
@policy.access(policy.STAFF)
def staff_index() -> Any:
    page = staff_tests.search(request.args)
    if is_fragment_request():
        return render_template("positioning/_staff_table.html", page=page)
    return render_template(
        "positioning/staff.html",
        page=page,
        filters=request.args,
        states=staff_tests.STATUS_FILTERS,
        subjects=_subject_choices(),
        students=staff_tests.students_for_assignment(),
    )


@bp.post("/dashboard/assistante/positionnement/attribuer")
@policy.access(policy.STAFF)
def assign() -> Any:
    try:
        test = staff_tests.assign(
            current_user, parse_id(request.form.get("student")), _subject(request.form.get("subject"))
        )
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(f"Test attribué à {test.student.user.full_name} ({test.title}).", "success")
    return redirect(url_for("positioning.staff_index"), code=303)
