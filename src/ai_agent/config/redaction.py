"""Hide secrets in anything that is displayed or logged.

``redact(value)`` masks ``SecretStr`` values, the password of every URL (SQLAlchemy
``URL`` objects and ``scheme://user:password@host`` text), and every value stored under
a key named like a secret (``password``, ``secret_key``, ``access_token``,
``authentication``, ``api_key``, ...). It copies; it never mutates its argument.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import SecretBytes, SecretStr
from sqlalchemy.engine import URL

__all__ = ["REDACTED", "is_secret_key", "redact", "redact_text"]

REDACTED = "***"
_MAX_DEPTH = 20

# scheme://user:password@ -> scheme://user:***@ (greedy up to the last @ before a space,
# so an unescaped @ inside the password is covered too).
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)\S*@")
_ANYWHERE = ("password", "passwd", "secret", "credential", "authentication", "authorization")
_LAST_PART = frozenset({"token", "auth", "pwd", "apikey", "cookie", "key"})
_KEY_QUALIFIERS = frozenset({"api", "private", "access", "secret", "signing", "encryption"})


def is_secret_key(key: str) -> bool:
    """Whether a mapping key names a secret (``db_password``, ``apiKey``, ``token``...)."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key)
    normalized = re.sub(r"[^a-z0-9]+", "_", snake.lower()).strip("_")
    if any(word in normalized for word in _ANYWHERE):
        return True
    parts = normalized.split("_")
    last = parts[-1]
    if last == "key":
        return len(parts) > 1 and parts[-2] in _KEY_QUALIFIERS
    return last in _LAST_PART


def redact_text(text: str) -> str:
    """Mask the password of every URL in ``text``."""
    return _URL_PASSWORD.sub(rf"\g<head>{REDACTED}@", text)


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` with every secret masked (see module docstring)."""
    if isinstance(value, SecretStr | SecretBytes):
        return REDACTED
    if isinstance(value, URL):
        return value.render_as_string(hide_password=True)
    if isinstance(value, str):
        return redact_text(value)
    if _depth >= _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if isinstance(key, str) and is_secret_key(key) and item is not None
            else redact(item, _depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = [redact(item, _depth + 1) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return value
