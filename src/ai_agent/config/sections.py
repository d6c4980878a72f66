"""Settings sections without connections: rate limits, security, observability, retention
and feature flags. Each reads its own ``PREFIX_*`` variables.

Retries and circuit breakers live in :mod:`ai_agent.config.resilience` and are re-exported
here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr
from pydantic_settings import NoDecode, SettingsConfigDict

from ai_agent.config.base import (
    SECTION_CONFIG,
    CaseInsensitive,
    JsonList,
    LogFormat,
    LogLevel,
    SectionSettings,
    UpperCase,
)
from ai_agent.config.resilience import (
    SERVICES,
    CircuitBreakerPolicy,
    CircuitBreakerSettings,
    RetryPolicy,
    RetrySettings,
    Service,
)

__all__ = [
    "DEVELOPMENT_SECRET_KEY",
    "SERVICES",
    "CircuitBreakerPolicy",
    "CircuitBreakerSettings",
    "FeatureFlags",
    "ObservabilitySettings",
    "RateLimitSettings",
    "RetentionSettings",
    "RetryPolicy",
    "RetrySettings",
    "SecuritySettings",
    "Service",
]

# The secret key development and testing default to; the validator rejects it elsewhere.
DEVELOPMENT_SECRET_KEY = "ai-agent-development-only-insecure-secret-key"

JwtAlgorithm = Literal[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"
]


class RateLimitSettings(SectionSettings):
    """Rate limits (per minute unless named otherwise), from ``RATE_LIMIT_*``."""

    model_config = SettingsConfigDict(**SECTION_CONFIG, env_prefix="RATE_LIMIT_")

    api_default_limit: int = Field(
        default=100, ge=1, description="API requests per minute for an anonymous client."
    )
    api_authenticated_limit: int = Field(
        default=1000, ge=1, description="API requests per minute for an authenticated client."
    )
    api_premium_limit: int = Field(
        default=5000, ge=1, description="API requests per minute for a premium client."
    )
    llm_requests_per_minute: int = Field(
        default=60, ge=1, description="Requests per minute to LLM providers."
    )
    llm_tokens_per_minute: int = Field(
        default=50_000, ge=1, description="Tokens per minute to LLM providers."
    )
    websocket_connections_per_ip: int = Field(
        default=10, ge=1, description="Open WebSocket connections per client IP."
    )
    websocket_messages_per_minute: int = Field(
        default=1000, ge=1, description="WebSocket messages per minute per connection."
    )


class SecuritySettings(SectionSettings):
    """JWT, API keys and CORS, from ``SECURITY_*``; lists are JSON (``["https://a"]``).

    ``secret_key`` has no default here: production never invents one, and the
    validator reports it missing.
    """

    model_config = SettingsConfigDict(**SECTION_CONFIG, env_prefix="SECURITY_")

    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs tokens; required (>= 32 random characters) in staging "
        "and production.",
    )
    algorithm: Annotated[JwtAlgorithm, UpperCase] = Field(
        default="HS256", description="JWT signing algorithm."
    )
    access_token_expire_minutes: int = Field(
        default=30, ge=1, description="Lifetime of an access token, in minutes."
    )
    refresh_token_expire_days: int = Field(
        default=7, ge=1, description="Lifetime of a refresh token, in days."
    )
    api_key_length: int = Field(default=32, ge=16, description="Characters in a generated API key.")
    api_key_prefix: str = Field(default="sk-", description="Prefix of generated API keys.")
    api_keys: Annotated[list[SecretStr], NoDecode, JsonList] = Field(
        default_factory=list, description="Accepted API keys, a JSON list."
    )
    cors_origins: Annotated[list[str], NoDecode, JsonList] = Field(
        default_factory=lambda: ["http://localhost:3000"],
        description="Origins allowed by CORS, a JSON list; `*` is refused in staging and "
        "production.",
    )
    cors_methods: Annotated[list[str], NoDecode, JsonList] = Field(
        default_factory=lambda: ["GET", "POST", "PUT", "PATCH", "DELETE"],
        description="HTTP methods allowed by CORS, a JSON list.",
    )
    cors_headers: Annotated[list[str], NoDecode, JsonList] = Field(
        default_factory=lambda: ["Authorization", "Content-Type"],
        description="Request headers allowed by CORS, a JSON list.",
    )
    cors_allow_credentials: bool = Field(
        default=True, description="Allow credentials (cookies, Authorization) in CORS requests."
    )


class ObservabilitySettings(SectionSettings):
    """Logging, metrics, tracing and health checks, from ``OBSERVABILITY_*``."""

    model_config = SettingsConfigDict(**SECTION_CONFIG, env_prefix="OBSERVABILITY_")

    log_level: Annotated[LogLevel, UpperCase] = Field(
        default="INFO", description="Lowest level logged."
    )
    log_format: Annotated[LogFormat, CaseInsensitive] = Field(
        default="json", description="`json` (one object per line) or `console` (human-readable)."
    )
    log_file: Path | None = Field(
        default=None, description="Also write logs to this file (its directory must exist)."
    )

    metrics_enabled: bool = Field(
        default=True, description="Record Prometheus metrics of every repository operation."
    )
    metrics_port: int = Field(
        default=9090, ge=1, le=65535, description="Port of the metrics endpoint."
    )
    metrics_path: str = Field(default="/metrics", description="Path of the metrics endpoint.")

    tracing_enabled: bool = Field(
        default=True,
        description="One OpenTelemetry span per repository operation (needs the `otel` extra).",
    )
    tracing_sample_rate: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description=(
            "Fraction of repository operations traced, 0 to 1 (0: none); inside a recording"
            " span of the caller, every operation."
        ),
    )
    tracing_service_name: str = Field(default="ai-agent", description="Service name in traces.")

    health_check_timeout: float = Field(default=5.0, gt=0, description="Seconds per check.")
    health_check_interval: float = Field(
        default=30.0, gt=0, description="Seconds between repository health checks."
    )
    health_check_failure_threshold: int = Field(
        default=3, ge=1, description="Consecutive failed checks before failing over."
    )
    health_check_recovery_threshold: int = Field(
        default=1, ge=1, description="Consecutive good checks before failing back."
    )


class RetentionSettings(SectionSettings):
    """How long conversations are kept, from ``RETENTION_*``; both rules off by default.

    ``ai-agent db prune`` (or ``retention.prune``) applies them when run: nothing is deleted
    in the background.
    """

    model_config = SettingsConfigDict(**SECTION_CONFIG, env_prefix="RETENTION_")

    session_max_age_days: int | None = Field(
        default=None,
        ge=1,
        description="Delete sessions (with their messages) inactive for more than this many "
        "days; unset: keep them.",
    )
    max_messages_per_session: int | None = Field(
        default=None,
        ge=0,
        description="Keep only the newest this many messages of each session; unset: all.",
    )


class FeatureFlags(SectionSettings):
    """Runtime feature toggles, from ``FEATURE_ENABLE_*``.

    Read them through :mod:`ai_agent.config.feature_flags`, which also allows
    process-wide and per-context overrides.
    """

    model_config = SettingsConfigDict(**SECTION_CONFIG, env_prefix="FEATURE_")

    # Resilience
    enable_circuit_breakers: bool = Field(
        default=True,
        description="Circuit breakers decide failover; off: the first failure opens the "
        "breaker and the first good check tries the primary again.",
    )
    enable_retries: bool = Field(
        default=True, description="Retry transient repository errors with backoff (RETRY_*)."
    )
    enable_rate_limiting: bool = Field(default=True, description="Enforce the RATE_LIMIT_* limits.")
    enable_fallbacks: bool = Field(
        default=True, description="Fail over to the fallback repository while the primary is down."
    )
    # API
    enable_websockets: bool = Field(default=True, description="Offer the WebSocket API.")
    enable_streaming: bool = Field(default=True, description="Stream responses.")
    enable_bulk_operations: bool = Field(
        default=True,
        description=(
            "Allow batch writes (`create_messages`); off, they raise OperationDisabledError"
            " and callers write one at a time."
        ),
    )
    # Observability
    enable_detailed_metrics: bool = Field(
        default=False,
        description=(
            "Also record the rows each repository call returned or wrote"
            " (`ai_agent_repository_operation_rows`); latency and errors are always recorded"
            " while metrics are on."
        ),
    )
    enable_request_tracing: bool = Field(default=True, description="Trace each request.")
    enable_debug_endpoints: bool = Field(
        default=False, description="Expose debug endpoints; refused in staging and production."
    )
    # External services
    enable_multiple_llm_providers: bool = Field(
        default=True, description="Allow more than one LLM provider."
    )
    enable_provider_fallback: bool = Field(
        default=True, description="Fall back to another LLM provider when one fails."
    )
    enable_mcp_hot_reload: bool = Field(
        default=False, description="Reload MCP servers when their configuration changes."
    )
