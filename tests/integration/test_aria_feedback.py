"""👍/👎 with a comment, the staff statistics, and who else may read a conversation."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.aria import AnswerMode, AriaFeedback, AriaMessage
from tests import factories
from tests.helpers import html
from tests.integration.aria_support import entitle_aria, question_and_answer, sami_conversation, student
from tests.people import ADMIN, ASSISTANTE, COACH, HX, PARENT, PARENT2, SAMI, YASMINE, ZENON


@pytest.fixture
def exchange() -> tuple[AriaMessage, AriaMessage]:
    """One question of Sami's and its answer."""
    conversation = sami_conversation("Somme d'une suite")
    question, answer = question_and_answer(
        conversation,
        "Comment sommer une suite ?",
        "Comptez les termes, puis faites la moyenne du premier et du dernier [1].",
        citations=[{"n": 1, "title": "Suites numériques", "section": "Suites arithmétiques", "page": None}],
        mode=AnswerMode.LLM,
    )
    return question, answer


def feedback_rows() -> list[AriaFeedback]:
    return list(db.session.scalars(select(AriaFeedback)))


def test_thumbs_up_then_down_with_a_comment_keeps_one_opinion(client, login, exchange):
    _, answer = exchange
    login(client, SAMI)
    url = f"/dashboard/eleve/aria/messages/{answer.id}/avis"
    response = client.post(url, data={"rating": "1"}, headers=HX)
    assert response.status_code == 200
    assert "Merci pour votre avis" in html(response)
    assert [(f.rating, f.comment) for f in feedback_rows()] == [(1, None)]
    response = client.post(url, data={"rating": "-1", "comment": "  Trop vague  "})
    assert response.status_code == 303
    assert [(f.rating, f.comment) for f in feedback_rows()] == [(-1, "Trop vague")]


def test_feedback_needs_a_rating_and_a_short_comment(client, login, exchange):
    _, answer = exchange
    login(client, SAMI)
    url = f"/dashboard/eleve/aria/messages/{answer.id}/avis"
    response = client.post(url, data={"rating": "5"}, headers=HX)
    assert response.status_code == 422
    assert "Choisissez 👍 ou 👎." in html(response)
    response = client.post(url, data={"rating": "-1", "comment": "x" * 1001}, headers=HX)
    assert response.status_code == 422
    assert "1000 caractères au plus." in html(response)
    assert feedback_rows() == []


def test_feedback_on_someone_elses_answer_or_on_a_question_is_not_found(client, login, exchange):
    question, answer = exchange
    yasmine = student(YASMINE)
    entitle_aria(yasmine.id, "MATHEMATIQUES")
    login(client, YASMINE)
    assert (
        client.post(f"/dashboard/eleve/aria/messages/{answer.id}/avis", data={"rating": "-1"}).status_code
        == 404
    )
    client.post("/auth/signout")
    login(client, SAMI)
    assert (
        client.post(f"/dashboard/eleve/aria/messages/{question.id}/avis", data={"rating": "1"}).status_code
        == 404
    )
    assert client.post("/dashboard/eleve/aria/messages/999999/avis", data={"rating": "1"}).status_code == 404
    assert feedback_rows() == []


def test_admin_sees_statistics_per_subject_and_the_disliked_answers(client, login, exchange):
    _, answer = exchange
    db.session.add(AriaFeedback(message_id=answer.id, rating=-1, comment="Je n'ai pas compris l'exemple"))
    db.session.flush()
    login(client, ADMIN)
    page = html(client.get("/dashboard/admin/aria"))
    assert "Statistiques ARIA" in page
    assert '<td data-label="Matière">Mathématiques</td>' in page
    assert '<td data-label="Satisfaction">0 %</td>' in page
    assert "Je n'ai pas compris l'exemple" in page
    assert "Comment sommer une suite ?" in page
    assert "passages" in page  # the knowledge base coverage


@pytest.mark.parametrize("who", [PARENT, COACH, SAMI, ASSISTANTE])
def test_statistics_are_for_the_admin_only(client, login, who):
    login(client, who)
    assert client.get("/dashboard/admin/aria").status_code == 403


def test_a_parent_reads_their_childs_conversations(client, login, exchange):
    _, answer = exchange
    login(client, PARENT2)
    index = html(client.get("/dashboard/parent/aria"))
    assert "Sami Gharbi" in index and "Somme d'une suite" in index
    # A card per conversation on a phone, each cell labelled (the date was cut off at 360 px).
    assert 'class="table-wrap stack-sm"' in index and 'data-label="Dernier message"' in index
    sami = student()
    page = html(client.get(f"/dashboard/parent/aria/{sami.id}/{answer.conversation_id}"))
    assert "Comment sommer une suite ?" in page
    assert "Comptez les termes" in page
    assert "Lecture seule" in page
    assert "<form" not in page.split('<main id="main"', 1)[1].split("</main>")[0]  # nothing to post


def test_another_family_cannot_read_it(client, login, exchange):
    _, answer = exchange
    sami = student()
    login(client, PARENT)
    assert "Somme d'une suite" not in html(client.get("/dashboard/parent/aria"))
    assert client.get(f"/dashboard/parent/aria/{sami.id}/{answer.conversation_id}").status_code == 404
    yasmine = student(YASMINE)
    # Their own child's id with Sami's conversation: still not found.
    assert client.get(f"/dashboard/parent/aria/{yasmine.id}/{answer.conversation_id}").status_code == 404


def test_a_coach_reads_only_the_conversations_of_their_students(client, login, exchange):
    _, answer = exchange
    sami = student()
    url = f"/dashboard/coach/aria/{sami.id}/{answer.conversation_id}"
    login(client, COACH)
    assert client.get(url).status_code == 404
    assert "Sami Gharbi" not in html(client.get("/dashboard/coach/aria"))
    factories.booking(sami.id, factories.coach("Hélios").id)
    assert "Somme d'une suite" in html(client.get("/dashboard/coach/aria"))
    page = html(client.get(url))
    assert "Comment sommer une suite ?" in page
    client.post("/auth/signout")
    login(client, ZENON)
    assert client.get(url).status_code == 404


def test_the_student_is_told_parents_can_read(client, login):
    login(client, SAMI)
    assert "Vos parents peuvent lire vos conversations avec ARIA" in html(client.get("/dashboard/eleve/aria"))
    assert db.session.scalar(select(func.count(AriaFeedback.id))) == 0


def test_a_long_comment_is_refused_not_cut_and_stays_in_the_box(client, login, exchange):
    _, answer = exchange
    login(client, SAMI)
    page = html(client.get(f"/dashboard/eleve/aria/conversations/{answer.conversation_id}"))
    box = page[page.index(f'<textarea id="comment-{answer.id}"') :].split(">", 1)[0]
    assert "maxlength" not in box  # a pasted comment is never cut silently
    typed = "Je n'ai pas compris pourquoi on divise par deux. " * 30
    url = f"/dashboard/eleve/aria/messages/{answer.id}/avis"
    response = client.post(url, data={"rating": "-1", "comment": typed}, headers=HX)
    assert response.status_code == 422
    body = html(response)
    assert "1000 caractères au plus." in body
    assert typed.strip() in body  # kept, to shorten it
    assert feedback_rows() == []


def test_without_javascript_a_refused_comment_is_kept_next_to_its_message(client, login, exchange):
    _, answer = exchange
    login(client, SAMI)
    typed = "Trop long. " * 120
    response = client.post(
        f"/dashboard/eleve/aria/messages/{answer.id}/avis", data={"rating": "-1", "comment": typed}
    )
    assert response.status_code == 422
    body = html(response)
    box = body[body.index(f'id="feedback-{answer.id}"') :]
    assert "1000 caractères au plus." in box.split("</form>")[0]
    assert typed.strip() in box.split("</textarea>")[0]
    assert feedback_rows() == []
