"""Users, their roles and password hashes: the users file shared by the CLI and the dashboard.

Roles, from least to most: ``viewer`` (reads every page), ``pmo`` and ``finance`` (their own
actions), ``admin`` (every role). The users file (``users.yaml`` in the configuration folder, written
by ``benefits users add``) lists each user's name, role and salted scrypt password hash (werkzeug's
format); the hash is empty for users a trusted proxy signs in. ``benefits claims approve|reject``
reads the decider's role from it; the dashboard (``benefits.dashboards.auth``) signs users in
against it.

Importing this module is cheap (the CLI's ``--help`` reads ``ROLES`` and ``USERS_FILE``): YAML and
werkzeug are imported by the functions that need them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benefits.errors import ConfigError

ROLES = ("viewer", "pmo", "finance", "admin")
USERS_FILE = "users.yaml"
"""The users file's name in the configuration folder."""
LOCAL_USER = "local"
"""The one user of an open dashboard (loopback only), with role ``admin``."""


@dataclass(frozen=True)
class User:
    """A person using benefits and their one role."""

    name: str
    role: str

    def has_role(self, *roles: str) -> bool:
        """True when the user holds one of ``roles``; ``admin`` holds every role."""
        return self.role == "admin" or self.role in roles


@dataclass(frozen=True)
class UserEntry:
    """One line of the users file: name, role and password hash (empty in trusted-header mode)."""

    name: str
    role: str
    password_hash: str = ""


def acting_user(name: str | None = None) -> str:
    """Who does something from the command line: ``name`` (``--user`` or ``BENEFITS_USER``), else the
    operating system's user, else ``unknown``."""
    if name:
        return name
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (a bare container)
        return "unknown"


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password`` for the users file (werkzeug format)."""
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password, method="scrypt")


def password_matches(entry: UserEntry, password: str) -> bool:
    """True when ``password`` is the one hashed in ``entry`` (False for a user without a password)."""
    from werkzeug.security import check_password_hash

    return bool(entry.password_hash) and check_password_hash(entry.password_hash, password)


def load_users(path: Path) -> dict[str, UserEntry]:
    """The users file at ``path``, by name; a clear error naming the file and the entry otherwise."""
    from benefits.config_yaml import read_yaml

    raw = read_yaml(path, missing="users file not found (create it with `benefits users add NAME --role ROLE`)") or {}
    entries = raw.get("users", []) if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: expected a mapping with a `users` list")
    users: dict[str, UserEntry] = {}
    for number, item in enumerate(entries, start=1):
        entry = _entry(path, number, item)
        if entry.name in users:
            raise ConfigError(f"{path}: user {number} ({entry.name}) is listed twice")
        users[entry.name] = entry
    return users


def save_users(path: Path, users: dict[str, UserEntry]) -> None:
    """Write the users file (names sorted), readable by its owner only, whole or not at all: when it cannot be
    written (a full disk), BenefitsError in one line, and the file is left as it was."""
    import yaml

    from benefits.files import write_text

    items = [
        {"name": u.name, "role": u.role, **({"password": u.password_hash} if u.password_hash else {})}
        for u in sorted(users.values(), key=lambda u: u.name)
    ]
    write_text(path, yaml.safe_dump({"users": items}, sort_keys=False), mode=0o600)


def _entry(path: Path, number: int, item: Any) -> UserEntry:
    if not isinstance(item, dict):
        raise ConfigError(f"{path}: user {number} must be a mapping with name, role and password")
    name, role, password = item.get("name"), item.get("role"), item.get("password", "")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{path}: user {number} has no name")
    if role not in ROLES:
        raise ConfigError(f"{path}: user {name}: role must be one of {', '.join(ROLES)}, not {role!r}")
    if not isinstance(password, str):
        raise ConfigError(f"{path}: user {name}: password must be a hash from `benefits users add`")
    return UserEntry(name=name, role=role, password_hash=password)
