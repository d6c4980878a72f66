"""Connection settings: PostgreSQL (``DB_*`` / ``DATABASE_*``) and Redis (``REDIS_*``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Self

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import URL

from ai_agent.config.base import (
    SECTION_CONFIG,
    CaseInsensitive,
    SectionSettings,
    Sources,
    SslMode,
    env_file_of,
)
from ai_agent.config.urls import (
    UrlSettingsSource,
    build_url,
    parse_postgresql_url,
    parse_redis_url,
    url_fields,
)

__all__ = ["DatabaseSettings", "RedisSettings"]


class _UrlSection(SectionSettings):
    """A section that one URL variable can set as a whole.

    Real environment before ``.env``; within each, the URL > ``PREFIX_*`` > each of
    ``alternative_env_prefixes``.
    """

    url_variable: ClassVar[str]
    parse_url: ClassVar[Callable[[str, str], dict[str, Any]]]

    @classmethod
    def layered_sources(
        cls, settings_cls: type[BaseSettings], sources: Sources
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env_file = env_file_of(sources.dotenv)
        alternatives = cls.alternative_env_prefixes
        return (
            sources.init,
            UrlSettingsSource(settings_cls, sources.env, cls.url_variable, cls.parse_url),
            sources.env,
            *(EnvSettingsSource(settings_cls, env_prefix=prefix) for prefix in alternatives),
            UrlSettingsSource(settings_cls, sources.dotenv, cls.url_variable, cls.parse_url),
            sources.dotenv,
            *(
                DotEnvSettingsSource(settings_cls, env_file=env_file, env_prefix=prefix)
                for prefix in alternatives
            ),
            sources.secrets,
        )

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> Self:
        """Settings from a URL; ``overrides`` win, other fields read the env."""
        return cls(**{**url_fields(cls, cls.parse_url(url, "URL")), **overrides})


class DatabaseSettings(_UrlSection):
    """PostgreSQL connection and pool.

    Read from ``DB_*``; ``DATABASE_*`` is accepted too (``DB_`` wins). A set
    ``DATABASE_URL`` replaces host, port, name, user, password and ssl mode.
    """

    model_config = SettingsConfigDict(**SECTION_CONFIG, env_prefix="DB_")
    alternative_env_prefixes: ClassVar[tuple[str, ...]] = ("DATABASE_",)
    url_variable: ClassVar[str] = "DATABASE_URL"
    parse_url: ClassVar[Callable[[str, str], dict[str, Any]]] = parse_postgresql_url

    host: str = Field(default="localhost", min_length=1, description="PostgreSQL server host.")
    port: int = Field(default=5432, ge=1, le=65535, description="PostgreSQL server port.")
    name: str = Field(default="ai_agent", min_length=1, description="Database name.")
    user: str = Field(default="postgres", min_length=1, description="Database role.")
    password: SecretStr | None = Field(default=None, description="Password of the role.")
    min_pool_size: int = Field(default=5, ge=1, description="Connections the pool keeps open.")
    max_pool_size: int = Field(
        default=20, ge=1, description="Most connections the pool opens (>= DB_MIN_POOL_SIZE)."
    )
    pool_timeout: float = Field(
        default=30.0, gt=0, description="Seconds to wait to acquire a pooled connection."
    )
    command_timeout: float = Field(default=60.0, gt=0, description="Seconds per statement.")
    connect_timeout: float = Field(default=10.0, gt=0, description="Seconds to connect.")
    ssl_mode: Annotated[SslMode, CaseInsensitive] = Field(
        default="prefer", description="TLS to the server, as libpq's sslmode."
    )

    @field_validator("max_pool_size")
    @classmethod
    def _max_not_below_min(cls, value: int, info: ValidationInfo) -> int:
        minimum = info.data.get("min_pool_size")
        if minimum is not None and value < minimum:
            raise ValueError(f"must be greater than or equal to DB_MIN_POOL_SIZE ({minimum})")
        return value

    @property
    def url(self) -> URL:
        """``postgresql://user:***@host:port/name`` (``?sslmode=`` unless ``prefer``)."""
        return build_url(
            "postgresql",
            host=self.host,
            port=self.port,
            database=self.name,
            username=self.user,
            password=self.password.get_secret_value() if self.password else None,
            query={} if self.ssl_mode == "prefer" else {"sslmode": self.ssl_mode},
        )


class RedisSettings(_UrlSection):
    """Redis connection, pool, TTLs and key prefix, from ``REDIS_*``.

    A set ``REDIS_URL`` replaces host, port, db, username, password and ssl
    (``rediss://`` turns TLS on). ``session_ttl`` is how long a session and its messages
    live after their last write, in seconds (0 = never expire).
    """

    model_config = SettingsConfigDict(**SECTION_CONFIG, env_prefix="REDIS_")
    url_variable: ClassVar[str] = "REDIS_URL"
    parse_url: ClassVar[Callable[[str, str], dict[str, Any]]] = parse_redis_url

    host: str = Field(
        default="localhost", min_length=1, description="Redis server (or a cluster node) host."
    )
    port: int = Field(default=6379, ge=1, le=65535, description="Redis server port.")
    db: int = Field(default=0, ge=0, description="Database number (a cluster has only 0).")
    username: str | None = Field(default=None, description="ACL user name.")
    password: SecretStr | None = Field(default=None, description="Password (ACL or requirepass).")
    ssl: bool = Field(default=False, description="Connect with TLS.")
    max_connections: int = Field(default=20, ge=1, description="Connection pool size.")
    socket_timeout: float = Field(default=5.0, gt=0, description="Seconds to wait for a reply.")
    socket_connect_timeout: float = Field(default=5.0, gt=0, description="Seconds to connect.")
    pool_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a caller waits for a free pooled connection."
    )
    retry_on_timeout: bool = Field(
        default=True,
        description=(
            "After a timeout, send a read once more, not only after a broken connection;"
            " writes are never re-sent by the client."
        ),
    )
    health_check_interval: int = Field(
        default=30, ge=0, description="Seconds idle before a pooled connection is pinged again."
    )
    session_ttl: int = Field(
        default=86_400,
        ge=0,
        description="Seconds a session and its messages live after their last write; "
        "0 = never expire.",
    )
    cache_ttl: int = Field(default=300, ge=0, description="Seconds for cached values.")
    key_prefix: str = Field(
        default="ai_agent", min_length=1, description="Prefix of every key this application writes."
    )
    cluster_mode: bool = Field(
        default=False, description="Talk to a Redis Cluster (host and port name one node)."
    )

    @property
    def url(self) -> URL:
        """``redis://[user]:***@host:port/db``, or ``rediss://`` when ``ssl`` is on."""
        return build_url(
            "rediss" if self.ssl else "redis",
            host=self.host,
            port=self.port,
            database=str(self.db),
            username=self.username,
            password=self.password.get_secret_value() if self.password else None,
        )
