"""Accounts: passwords (argon2id), signed-in sessions, one-time links, activation, and who may
sign in. Callers use `identity.X`; each concern lives in its own module:

- `passwords`: hashing, what a password may be, sign-in checks, changing and resetting it;
- `sessions`: the server-side record of each signed-in browser;
- `tokens`: one-time links (only their hash is stored);
- `activation`: the link with which an account chooses its first password;
- `access`: deactivating and reactivating accounts, the last active administrator.
"""

from __future__ import annotations

from nexus.services.identity.access import lock_admins, lock_user, other_active_admins, set_active
from nexus.services.identity.activation import (
    ACCOUNT_WELCOME,
    ACTIVATION_TTL,
    LINKS_PER_CHILD,
    LINKS_PER_PARENT,
    LINKS_WINDOW,
    activate,
    activation_addresses,
    invite_coach,
    pending_activation_links,
    resend_activation,
    send_account_activation,
    send_activation,
)
from nexus.services.identity.passwords import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    RESET_TTL,
    authenticate,
    change_password,
    check_password,
    hash_password,
    mail_password_reset,
    normalize_email,
    password_problem,
    request_password_reset,
    reset_password,
    set_password,
)
from nexus.services.identity.sessions import (
    REMEMBERED_TTL,
    SEEN_EVERY,
    SESSION_TTL,
    SignedIn,
    close_session,
    load_session_user,
    open_session,
    sign_in,
)
from nexus.services.identity.tokens import (
    TokenState,
    consume_token,
    hash_token,
    inspect_token,
    issue_token,
    link_state,
    new_token,
    token_digest,
)

__all__ = [
    "ACCOUNT_WELCOME",
    "ACTIVATION_TTL",
    "LINKS_PER_CHILD",
    "LINKS_PER_PARENT",
    "LINKS_WINDOW",
    "PASSWORD_MAX",
    "PASSWORD_MIN",
    "REMEMBERED_TTL",
    "RESET_TTL",
    "SEEN_EVERY",
    "SESSION_TTL",
    "SignedIn",
    "TokenState",
    "activate",
    "activation_addresses",
    "authenticate",
    "change_password",
    "check_password",
    "close_session",
    "consume_token",
    "hash_password",
    "hash_token",
    "inspect_token",
    "invite_coach",
    "issue_token",
    "link_state",
    "load_session_user",
    "lock_admins",
    "lock_user",
    "mail_password_reset",
    "new_token",
    "normalize_email",
    "open_session",
    "other_active_admins",
    "password_problem",
    "pending_activation_links",
    "request_password_reset",
    "resend_activation",
    "reset_password",
    "send_account_activation",
    "send_activation",
    "set_active",
    "set_password",
    "sign_in",
    "token_digest",
]
