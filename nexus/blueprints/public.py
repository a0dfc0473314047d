"""Public pages in French: home, offers, team, ARIA, contact, legal notice, old addresses."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from nexus import policy
from nexus.extensions import client_ip, db, limiter
from nexus.forms.public import ContactForm
from nexus.models.catalog import OfferKind
from nexus.models.identity import CoachProfile, User
from nexus.services import catalog, contact

bp = Blueprint("public", __name__)


@bp.get("/")
@policy.access(policy.PUBLIC)
def home() -> Any:
    return render_template("public/home.html", plans=catalog.offers_of(OfferKind.PLAN))


@bp.get("/offres")
@policy.access(policy.PUBLIC)
def offers() -> Any:
    return render_template(
        "public/offres.html",
        plans=catalog.offers_of(OfferKind.PLAN),
        addons=catalog.offers_of(OfferKind.ARIA_ADDON),
        packs=catalog.offers_of(OfferKind.PACK),
        credit_packs=catalog.offers_of(OfferKind.CREDIT_PACK),
        costs=catalog.CREDIT_COSTS,
        hourly_individual=catalog.HOURLY_INDIVIDUAL_MILLIMES,
        hourly_group=catalog.HOURLY_GROUP_MILLIMES,
    )


@bp.get("/equipe")
@policy.access(policy.PUBLIC)
def team() -> Any:
    coaches = db.session.scalars(
        select(CoachProfile)
        .join(User, CoachProfile.user_id == User.id)
        .where(User.is_active)
        .order_by(CoachProfile.pseudonym)
    ).all()
    return render_template("public/equipe.html", coaches=coaches)


@bp.get("/plateforme-aria")
@policy.access(policy.PUBLIC)
def aria() -> Any:
    return render_template("public/aria.html", addons=catalog.offers_of(OfferKind.ARIA_ADDON))


@bp.get("/mentions-legales")
@policy.access(policy.PUBLIC)
def legal() -> Any:
    return render_template("public/mentions_legales.html")


@bp.route("/contact", methods=["GET", "POST"])
@policy.access(policy.PUBLIC)
@limiter.limit("5/hour", methods=["POST"], key_func=client_ip)
def contact_page() -> Any:
    form = ContactForm()
    if request.method == "POST":
        if not form.validate():
            return render_template("public/contact.html", form=form), 422
        if not form.website.data:  # a filled honeypot gets the same thanks, and nothing is kept
            contact.submit(
                form.name.data or "",
                form.email.data or "",
                form.phone.data,
                form.topic.data or "autre",
                form.message.data or "",
            )
        flash("Merci ! Votre message a bien été envoyé. Nous vous répondons sous 24 h ouvrées.", "success")
        return redirect(url_for("public.contact_page"), code=303)
    return render_template("public/contact.html", form=form)


@bp.get("/robots.txt")
@policy.access(policy.PUBLIC)
def robots() -> Response:
    body = "User-agent: *\nDisallow: /dashboard\nDisallow: /auth\nDisallow: /notifications\n"
    return Response(body, mimetype="text/plain")


# The original's addresses keep working: old path -> (endpoint, status).
REDIRECTS = {
    "/tarifs": ("public.offers", 301),
    "/questionnaire": ("bilan.request_form", 301),
    "/conditions": ("public.legal", 301),
    "/plateforme": ("public.aria", 301),
    "/education": ("public.offers", 301),
    "/accompagnement-scolaire": ("public.offers", 301),
    "/academies-hiver": ("public.offers", 301),
    "/famille": ("public.offers", 301),
    "/notre-centre": ("public.team", 301),
}


def _redirect_view(endpoint: str, code: int) -> Any:
    @policy.access(policy.PUBLIC)
    def view() -> Any:
        return redirect(url_for(endpoint), code=code)

    return view


for _path, (_target, _code) in REDIRECTS.items():
    bp.add_url_rule(
        _path,
        endpoint="redirect" + _path.replace("/", "_").replace("-", "_"),
        view_func=_redirect_view(_target, _code),
    )
