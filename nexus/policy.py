"""Who may use which route, declared once (DESIGN.md rule 5).

Every view carries a rule through @access(...). A before_request hook enforces it for every
endpoint; an endpoint without a rule is refused (fail closed) and a test walks app.url_map so
that none ships without one. Objects are scoped by their loaders, which answer 404.

The role sets that views and services ask about inside a page (is this user staff? may they
move a session?) are these same rules, asked with `allows_role`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

from nexus.models.common import Role

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


class Outcome(Enum):
    ALLOW = "allow"
    SIGN_IN = "sign_in"
    FORBID = "forbid"


@dataclass(frozen=True)
class Rule:
    name: str
    roles: frozenset[Role] | None = None  # None: any signed-in user
    public: bool = False

    def check(self, user: Any) -> Outcome:
        if self.public:
            return Outcome.ALLOW
        if not user.is_authenticated:
            return Outcome.SIGN_IN
        if self.roles is None or user.role in self.roles:
            return Outcome.ALLOW
        return Outcome.FORBID

    def allows_role(self, role: Role) -> bool:
        """Whether the rule lets this role in: for a check about a user already known (signed
        in, or found by a service), e.g. staff see every session, a coach may not move one."""
        return self.public or self.roles is None or role in self.roles


def roles(*allowed: Role) -> Rule:
    return Rule("roles:" + ",".join(r.value for r in allowed), frozenset(allowed))


PUBLIC = Rule("public", public=True)
SIGNED_IN = Rule("signed_in")
ADMIN = roles(Role.ADMIN)
STAFF = roles(Role.ADMIN, Role.ASSISTANTE)
COACH = roles(Role.COACH)
PARENT = roles(Role.PARENT)
ELEVE = roles(Role.ELEVE)
FAMILY = roles(Role.PARENT, Role.ELEVE)
# A session's pages: its student, their parents, its coach, and staff (the booking's loader
# answers 404 to anyone else).
SESSION_PARTIES = roles(Role.ELEVE, Role.PARENT, Role.COACH, Role.ADMIN, Role.ASSISTANTE)
# Moving a session to another slot: its family or staff; a coach cancels instead (the session's
# own page then answers 404: the move does not exist for them).
RESCHEDULERS = roles(Role.ELEVE, Role.PARENT, Role.ADMIN, Role.ASSISTANTE)
# A private calendar feed: those who have sessions of their own (staff have the sessions table).
FEED_USERS = roles(Role.COACH, Role.PARENT, Role.ELEVE)
# A student's record (tests, results): their parents, their coaches and staff (the loader answers
# 404 to a parent or coach who is not theirs).
STUDENT_FOLLOWERS = roles(Role.PARENT, Role.COACH, Role.ADMIN, Role.ASSISTANTE)


def is_staff(user: Any) -> bool:
    """An admin or an assistante: sees and manages every family's sessions, gets staff notices."""
    return STAFF.allows_role(user.role)


# Endpoints that are not our view functions.
BUILTIN_RULES: dict[str, Rule] = {"static": PUBLIC}


def access(rule: Rule) -> Callable[[F], F]:
    """Declare who may call a view."""

    def decorate(view: F) -> F:
        view.access_rule = rule  # type: ignore[attr-defined]
        return view

    return decorate


def rule_for(app: Flask, endpoint: str) -> Rule | None:
    if endpoint in BUILTIN_RULES:
        return BUILTIN_RULES[endpoint]
    view = app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


def enforce() -> Any:
    """before_request: apply the declared rule of the matched endpoint."""
    if request.endpoint is None:  # no route matched: Flask answers 404/405 itself
        return None
    rule = rule_for(current_app, request.endpoint)
    if rule is None:
        log.error("route %s has no access rule; refused", request.endpoint)
        abort(403)
    outcome = rule.check(current_user)
    if outcome is Outcome.SIGN_IN:
        target = url_for("auth.signin", next=request.full_path.rstrip("?"))
        if request.headers.get("HX-Request"):
            return "", 204, {"HX-Redirect": target}
        return redirect(target)
    if outcome is Outcome.FORBID:
        log.info("authz_denied user=%s endpoint=%s", current_user.id, request.endpoint)
        abort(403)
    return None
