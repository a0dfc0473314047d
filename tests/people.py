"""The demo people every test signs in as (nexus/seed.py), their one password, and the htmx
request header. Test modules import these names from here rather than keep their own copies.

Families: PARENT (Nadia) is Yasmine's parent and Adam's (not activated, no e-mail yet); PARENT2
(Hichem) is Sami's. Coaches: HELIOS (also COACH, the usual coach) and ZENON.
"""

from __future__ import annotations

DEMO_PASSWORD = "nexus-demo-2026"  # the published demo password (CONTRACT.md)

ADMIN = "admin@nexus-reussite.tn"
ASSISTANTE = "assistante@nexus-reussite.tn"
HELIOS = "helios@nexus-reussite.tn"
COACH = HELIOS
ZENON = "zenon@nexus-reussite.tn"
PARENT = "parent@nexus-reussite.tn"
PARENT2 = "parent2@nexus-reussite.tn"
YASMINE = "yasmine@nexus-reussite.tn"
SAMI = "sami@nexus-reussite.tn"

# One signed-in demo account per role (its dashboard is /dashboard/<role>).
ROLE_ACCOUNTS = {
    "admin": ADMIN,
    "assistante": ASSISTANTE,
    "coach": COACH,
    "parent": PARENT,
    "eleve": YASMINE,
}

# What an htmx request sends: the views answer it with a fragment instead of a whole page.
HX = {"HX-Request": "true"}

# The address tests give Adam (the demo student with no e-mail and no password yet).
ADAM_EMAIL = "adam.benali@example.tn"
