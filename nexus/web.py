"""Request hooks, security headers, French error pages and template helpers."""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    has_request_context,
    render_template,
    request,
    send_file,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from nexus import fr, links, navigation, policy
from nexus.extensions import db
from nexus.services import MAX_ID

log = logging.getLogger(__name__)
T = TypeVar("T")

CSP_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
)
CSP = "; ".join([*CSP_DIRECTIVES, "form-action 'self'"])


@cache
def content_security_policy(gateway_url: str) -> str:
    """The CSP, whose form-action also lets the card form's redirect reach the configured gateway
    (Chromium applies form-action to where a submitted form is redirected)."""
    gateway = urlsplit(gateway_url)
    if gateway.scheme in ("https", "http") and gateway.netloc:
        return "; ".join([*CSP_DIRECTIVES, f"form-action 'self' {gateway.scheme}://{gateway.netloc}"])
    return CSP


ERROR_TITLES = {
    400: "Requête invalide",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Action non permise",
    413: "Fichier trop volumineux",
    429: "Trop de tentatives",
    500: "Erreur inattendue",
    503: "Service momentanément indisponible",
}
ERROR_TEXTS = {
    400: "La demande n'a pas pu être traitée. Vérifiez les informations saisies et réessayez.",
    403: "Vous n'avez pas accès à cette page avec votre compte.",
    404: "Cette page n'existe pas ou n'est plus disponible.",
    405: "Cette action n'est pas possible à cette adresse.",
    413: "Le fichier envoyé dépasse la taille autorisée.",
    429: "Vous avez fait trop de tentatives en peu de temps. Patientez quelques minutes puis réessayez.",
    500: "Une erreur est survenue de notre côté. L'incident a été enregistré ; réessayez dans un instant.",
    503: "Le service est momentanément indisponible. Réessayez dans un instant.",
}


class BoundedIntConverter(IntegerConverter):
    """<int:…> that answers 404 (not a database error) for ids beyond bigint.

    ASCII digits only: werkzeug's `\\d+` and int() would read '٣' or '３' as 3.
    """

    regex = r"[0-9]+"

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def or_404(value: T | None) -> T:
    """The row a page is about, or the 404 page when there is none (or it is someone else's)."""
    if value is None:
        abort(404)
    return value


def page_arg() -> int:
    """The ?page= of a list; anything odd is page 1 (int() of a huge digit string is costly)."""
    raw = request.args.get("page", "1")[:5]
    return max(int(raw), 1) if raw.isascii() and raw.isdecimal() else 1


# French formatting for templates, all from nexus.fr (e-mails and the PDF use the same functions).
FILTERS = {
    "tnd": fr.tnd,
    "dt": fr.date_time,
    "d": fr.short_date,
    "credits": fr.number,  # the number alone: "1,5"
    "credit_count": fr.credits,  # with its word: "1,5 crédit", "2 crédits"
    "plural": fr.plural,  # {{ n|plural("virement à valider") }}
    "agree": fr.agree,  # {{ n|agree("virement à valider") }}: the words alone
    "when": fr.when,
    "hm": fr.hm,
    "day": fr.day,
    "duration": fr.duration,
    "percent": fr.percent,
    "score": fr.score,  # an SSN or a UAI: "57,3"
    "time_spent": fr.time_spent,  # from milliseconds: "12 min"  # a mastery or a share: "62 %"
}


def init_app(app: Flask) -> None:
    app.before_request(remember_client_ip)
    app.before_request(reject_nul_characters)
    app.before_request(policy.enforce)
    app.after_request(security_headers)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)
    app.context_processor(template_context)
    for name, formatter in FILTERS.items():
        app.add_template_filter(formatter, name)
    app.add_template_filter(subject_label)
    app.add_template_global(static_url)
    app.add_template_global(links.external, "external_url")  # e-mails, rendered in jobs


def remember_client_ip() -> None:
    g.client_ip = request.remote_addr


def reject_nul_characters() -> None:
    """PostgreSQL cannot store U+0000: refuse such input with a 400 page, not a 500 later."""
    for values in (request.args, request.form):
        if any("\x00" in value for _, value in values.items(multi=True)):
            abort(400)


def pdf_response(data: bytes, filename: str) -> Response:
    """A PDF shown in the browser (a download on phones), never kept by a shared cache."""
    response = send_file(io.BytesIO(data), mimetype="application/pdf", download_name=filename)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def download_response(path: Path, mimetype: str, name: str) -> Response:
    """A stored file (vault document, message attachment) as a download under its original name,
    never kept by a shared cache (nosniff is set on every response)."""
    response = send_file(path, mimetype=mimetype, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def is_fragment_request() -> bool:
    """htmx asked for a fragment (a boosted navigation wants the full page)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy", content_security_policy(current_app.config.get("CLICTOPAY_URL") or "")
    )
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    response.vary.add("HX-Request")
    if request.endpoint == "static":
        if request.args.get("v"):
            headers["Cache-Control"] = "public, max-age=31536000, immutable"
    elif current_user.is_authenticated:
        # Personal data: never cached, not even by the browser's back-forward history.
        headers["Cache-Control"] = "no-store"
    if request.path.startswith(("/dashboard", "/auth", "/compte", "/notifications")):
        headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def render_error(code: int, message: str | None = None, incident: str | None = None) -> Any:
    body = render_template(
        "errors/error.html",
        code=code,
        title=ERROR_TITLES.get(code, "Erreur"),
        message=message or ERROR_TEXTS.get(code, ERROR_TEXTS[500]),
        incident=incident,
    )
    return body, code


def csrf_error(error: CSRFError) -> Any:
    log.info("csrf refused on %s: %s", request.path, error.description)
    return render_error(
        400,
        "Votre formulaire a expiré ou ne provient pas de Nexus Réussite. Rechargez la page puis recommencez.",
    )


def http_error(error: HTTPException) -> Any:
    code = error.code or 500
    if code < 400:
        return error
    response = render_error(code)
    if code == 429:
        retry = getattr(error, "retry_after", None)
        headers = {"Retry-After": str(retry)} if retry else {}
        return (*response, headers)
    return response


def unexpected_error(error: Exception) -> Any:
    incident = uuid.uuid4().hex[:8]
    log.exception("incident %s on %s %s", incident, request.method, request.path)
    # Not a view's rollback: a read that failed outside any command leaves the session unusable,
    # and the error page still reads (the unread count). Commands have rolled back their own.
    db.session.rollback()
    return render_error(500, incident=incident)


def template_context() -> dict[str, Any]:
    context: dict[str, Any] = {"nav": [], "unread_count": 0, "unread_messages": 0}
    if has_request_context() and current_user.is_authenticated:
        from nexus.services import messaging, notifications

        context["nav"] = navigation.items_for(current_user.role)
        if g.get("bare_fragment"):  # a lazy panel shows neither the bell nor the menu: no counts
            return context
        # Both counts of the bell in one round trip: one SELECT of two scalar subqueries.
        counts = db.session.execute(
            select(
                notifications.unread_query(current_user.id).scalar_subquery(),
                messaging.unread_query(current_user).scalar_subquery(),
            )
        ).one()
        context["unread_count"], context["unread_messages"] = counts[0] or 0, counts[1] or 0
    return context


@cache
def _static_version(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def static_url(filename: str) -> str:
    """URL of a static file with a content hash, so it can be cached for a year."""
    from flask import current_app, url_for

    version = _static_version(str(Path(current_app.static_folder or "") / filename))
    return url_for("static", filename=filename, v=version)


def subject_label(value: str) -> str:
    from nexus.models.common import Subject

    try:
        return Subject(value).label
    except ValueError:
        return value
