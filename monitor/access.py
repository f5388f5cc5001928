"""Who may do what: roles and their permissions, password hashing, and the pseudonym the UI
shows instead of a patient identifier (dash.md §4.3).

Hashing is werkzeug's scrypt (memory-hard; werkzeug ships with Flask). Permissions are named
after what a person does, and every page and callback of the web app maps to one of them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from werkzeug.security import check_password_hash, generate_password_hash

ROLES = ("nurse", "physician", "instructor", "admin")
MIN_PASSWORD = 10
# "any" is any logged-in user (the shell of the app: the router, the header).
PERMISSIONS: dict[str, frozenset[str]] = {
    # nurses read records (addenda, follow-ups, a patient's series); exports stay physicians'
    "nurse": frozenset({"any", "live", "alarm", "session", "review"}),
    "physician": frozenset(
        {"any", "live", "alarm", "session", "review", "export", "limits", "override", "audit"}
    ),
    "instructor": frozenset({"any", "training"}),
    "admin": frozenset({"any", "admin", "audit"}),
}
ALL_PERMISSIONS = frozenset().union(*PERMISSIONS.values())


class AccessError(Exception):
    """A user-management request that cannot be done; one line for the operator."""


def allowed(role: str | None, permission: str) -> bool:
    return role is not None and permission in PERMISSIONS.get(role, frozenset())


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccessError(f"a password needs at least {MIN_PASSWORD} characters")
    return generate_password_hash(password, method="scrypt")


def check_password(stored_hash: str, password: str) -> bool:
    return check_password_hash(stored_hash, password)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccessError(f"role must be one of {', '.join(ROLES)}")
    return role


def check_username(name: str) -> str:
    if not (1 <= len(name) <= 40) or not all(c.isalnum() or c in "._-" for c in name):
        raise AccessError("a user name is 1-40 letters, digits, '.', '_' or '-'")
    return name


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def pseudonym(patient_ref: str, secret: bytes) -> str:
    """A stable pseudonym for a patient reference: what the pages show, never the reference
    itself (keyed, so it cannot be reversed by hashing guesses without the station's key)."""
    if not patient_ref:
        return ""
    digest = hmac.new(secret, patient_ref.encode(), hashlib.sha256).hexdigest()
    return f"P-{digest[:6].upper()}"
