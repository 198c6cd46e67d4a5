"""The permissions doorward seeds, by name: ``Permission.WRITE_USERS``.

A permission is ``resource:action``; ``admin:*`` and ``*`` grant by wildcard.
Members are ``str``, so they go wherever a permission string does.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Permission"]


class Permission(str, Enum):
    """The seeded roles' permissions (``user``, ``moderator``, ``admin``)."""

    READ_USERS = "users:read"
    WRITE_USERS = "users:write"
    ADMIN = "admin:*"
    ALL = "*"

    def __str__(self) -> str:
        return self.value
