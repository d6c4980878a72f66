"""Connection URLs: parse ``DATABASE_URL`` / ``REDIS_URL`` and build redacting URL values.

URLs are SQLAlchemy ``URL`` objects: ``str()``, ``repr()`` and ``format()`` show ``***``
for the password, and ``url.render_as_string(hide_password=False)`` gives the real
connection string with user and password percent-escaped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ai_agent.config.errors import ConfigurationError

__all__ = [
    "SQLITE_URL_FORMS",
    "UrlSettingsSource",
    "parse_postgresql_url",
    "parse_redis_url",
    "shown_url",
    "sqlite_file_path",
    "url_fields",
]

_POSTGRESQL_SCHEMES = ("postgres", "postgresql")
_REDIS_SCHEMES = ("redis", "rediss")
_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _make_url(raw: str, name: str, expected: str) -> URL:
    try:
        return make_url(raw.strip())
    except (ArgumentError, ValueError):
        # The driver's message may quote the URL (and its password); say what we expect.
        raise ValueError(f"{name} is not a valid URL; expected {expected}") from None


SQLITE_URL_FORMS = (
    "sqlite:///relative.db (three slashes: a path relative to the working directory) "
    "or sqlite:////absolute/path.db (four slashes)"
)
# Text that does not parse as a URL may still hold "user:password@": keep a leading
# "scheme:" or "scheme://" and mask everything up to the last "@".
_UNPARSED_USERINFO = re.compile(r"^(?P<scheme>(?:[a-zA-Z][a-zA-Z0-9+.\-]*:(?://)?)?).*@", re.S)


def shown_url(raw: str) -> str:
    """``raw`` as it may be shown: a URL with its password masked; for text that does not
    parse as a URL, everything between its scheme and its last ``@`` masked."""
    text = raw.strip()
    try:
        return make_url(text).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _UNPARSED_USERINFO.sub(r"\g<scheme>***@", text)


def sqlite_file_path(url: str | URL) -> str:
    """The file path a ``sqlite:///`` URL names (``sqlite+aiosqlite:///`` too).

    Raises ``ValueError`` saying what was given, the accepted forms and, when it can tell,
    the URL that was likely meant (``sqlite://agent.db`` -> ``sqlite:///agent.db``).
    """
    given = shown_url(url) if isinstance(url, str) else url.render_as_string()
    try:
        parsed = make_url(url.strip()) if isinstance(url, str) else url
    except (ArgumentError, ValueError):
        # "sqlite:agent.db": the slashes are missing altogether.
        scheme, _, rest = given.partition(":")
        meant = f": did you mean 'sqlite:///{rest}'?" if scheme.lower() == "sqlite" else ""
        raise ValueError(f"{given!r} is not a SQLite URL; use {SQLITE_URL_FORMS}{meant}") from None
    if parsed.get_backend_name().lower() != "sqlite":
        raise ValueError(f"{given!r} is not a SQLite URL; use {SQLITE_URL_FORMS}")
    if parsed.host or parsed.port or parsed.username:
        path = "/".join(part for part in (parsed.host, parsed.database) if part)
        meant = "" if parsed.username else f": did you mean 'sqlite:///{path}'?"
        raise ValueError(
            f"{given!r} puts {parsed.host!r} where a host name goes, and a SQLite URL has "
            f"none; use {SQLITE_URL_FORMS}{meant}"
        )
    if not parsed.database:
        raise ValueError(f"{given!r} names no database file; use {SQLITE_URL_FORMS}")
    return parsed.database


def parse_postgresql_url(raw: str, name: str = "DATABASE_URL") -> dict[str, Any]:
    """Split a PostgreSQL URL into ``DatabaseSettings`` fields (missing parts are ``None``).

    Accepts ``postgres://``, ``postgresql://`` and ``postgresql+<driver>://``; user and
    password are percent-decoded; ``?sslmode=`` becomes ``ssl_mode``.
    """
    expected = "postgresql://user:password@host:5432/name"
    url = _make_url(raw, name, expected)
    if url.drivername.split("+", 1)[0] not in _POSTGRESQL_SCHEMES:
        raise ValueError(f"{name} must use the postgresql:// scheme; expected {expected}")
    ssl_mode = url.query.get("sslmode")
    if isinstance(ssl_mode, tuple):
        ssl_mode = ssl_mode[-1]
    if ssl_mode is not None and ssl_mode not in _SSL_MODES:
        raise ValueError(
            f"{name} has sslmode={ssl_mode!r}; expected one of {', '.join(_SSL_MODES)}"
        )
    return {
        "host": url.host,
        "port": url.port,
        "name": url.database,
        "user": url.username or None,
        "password": url.password,
        "ssl_mode": ssl_mode,
    }


def parse_redis_url(raw: str, name: str = "REDIS_URL") -> dict[str, Any]:
    """Split a Redis URL into ``RedisSettings`` fields (missing parts are ``None``).

    ``redis://[[user]:password@]host[:port][/db]``; ``rediss://`` turns TLS on.
    """
    expected = "redis://[user:password@]host:6379/0 or rediss://..."
    url = _make_url(raw, name, expected)
    if url.drivername not in _REDIS_SCHEMES:
        raise ValueError(f"{name} must use the redis:// or rediss:// scheme; expected {expected}")
    database = (url.database or "").strip("/")
    if database and not database.isdigit():
        raise ValueError(
            f"{name} has a database number that is not an integer; expected {expected}"
        )
    return {
        "host": url.host,
        "port": url.port,
        "db": int(database) if database else None,
        "username": url.username or None,
        "password": url.password,
        "ssl": url.drivername == "rediss",
    }


class UrlSettingsSource(PydanticBaseSettingsSource):
    """Reads one URL variable from another env source and yields every part it replaces.

    A part the URL leaves out takes the field's default (a URL replaces all of its parts;
    ``DB_HOST`` does not fill a gap in ``DATABASE_URL``).
    """

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        env_source: PydanticBaseSettingsSource,
        variable: str,
        parse: Callable[[str, str], dict[str, Any]],
    ) -> None:
        super().__init__(settings_cls)
        self._env_vars: Mapping[str, str | None] = (
            env_source.env_vars if isinstance(env_source, EnvSettingsSource) else {}
        )
        self._variable = variable
        self._parse = parse

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        raw = self._env_vars.get(self._variable.lower())
        if not raw:
            return {}
        try:
            parts = self._parse(raw, self._variable)
        except ValueError as exc:
            raise ConfigurationError([str(exc)]) from None
        return url_fields(self.settings_cls, parts)


def url_fields(settings_cls: type[BaseSettings], parts: Mapping[str, Any]) -> dict[str, Any]:
    """Every part a URL replaces; a part it leaves out takes the field's default."""
    fields = settings_cls.model_fields
    return {
        name: fields[name].get_default(call_default_factory=True) if value is None else value
        for name, value in parts.items()
    }


def build_url(
    drivername: str,
    *,
    host: str,
    port: int,
    database: str,
    username: str | None,
    password: str | None,
    query: Mapping[str, str] | None = None,
) -> URL:
    """A SQLAlchemy URL; a password without a user still renders (``redis://:***@h``)."""
    if password is not None and username is None:
        username = ""
    return URL.create(
        drivername,
        username=username,
        password=password,
        host=host,
        port=port,
        database=database,
        query=dict(query or {}),
    )
