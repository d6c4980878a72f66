"""Settings sections without connections: retries, circuit breakers, rate limits,
security, observability and feature flags. Each reads its own ``PREFIX_*`` variables.
"""

from __future__ import annotations

from dataclasses import dataclass
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

__all__ = [
    "DEVELOPMENT_SECRET_KEY",
    "SERVICES",
    "CircuitBreakerPolicy",
    "CircuitBreakerSettings",
    "FeatureFlags",
    "ObservabilitySettings",
    "RateLimitSettings",
    "RetryPolicy",
    "RetrySettings",
    "SecuritySettings",
    "Service",
]

# The secret key development and testing default to; the validator rejects it elsewhere.
DEVELOPMENT_SECRET_KEY = "ai-agent-development-only-insecure-secret-key"

Service = Literal["db", "redis", "llm", "mcp"]
SERVICES: tuple[Service, ...] = ("db", "redis", "llm", "mcp")

JwtAlgorithm = Literal[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"
]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """One service's retry parameters (delays in seconds)."""

    max_attempts: int
    base_delay: float
    max_delay: float
    exponential_base: float
    jitter: bool


@dataclass(frozen=True, slots=True)
class CircuitBreakerPolicy:
    """One service's circuit-breaker parameters (timeout in seconds)."""

    failure_threshold: int
    recovery_timeout: float
    half_open_max_calls: int


class RetrySettings(SectionSettings):
    """Retries with exponential backoff per service, from ``RETRY_<SERVICE>_*``."""

    model_config = SettingsConfigDict(**SECTION_CONFIG, env_prefix="RETRY_")

    db_max_attempts: int = Field(default=5, ge=1)
    db_base_delay: float = Field(default=0.5, ge=0)
    db_max_delay: float = Field(default=30.0, ge=0)
    db_exponential_base: float = Field(default=1.5, ge=1)
    db_jitter: bool = True

    redis_max_attempts: int = Field(default=3, ge=1)
    redis_base_delay: float = Field(default=0.1, ge=0)
    redis_max_delay: float = Field(default=5.0, ge=0)
    redis_exponential_base: float = Field(default=2.0, ge=1)
    redis_jitter: bool = True

    llm_max_attempts: int = Field(default=3, ge=1)
    llm_base_delay: float = Field(default=1.0, ge=0)
    llm_max_delay: float = Field(default=60.0, ge=0)
    llm_exponential_base: float = Field(default=2.0, ge=1)
    llm_jitter: bool = True

    mcp_max_attempts: int = Field(default=3, ge=1)
    mcp_base_delay: float = Field(default=2.0, ge=0)
    mcp_max_delay: float = Field(default=120.0, ge=0)
    mcp_exponential_base: float = Field(default=2.0, ge=1)
    mcp_jitter: bool = True

    def policy(self, service: Service) -> RetryPolicy:
        """The retry parameters of ``service`` (``db``, ``redis``, ``llm`` or ``mcp``)."""
        return RetryPolicy(
            **{name: getattr(self, f"{service}_{name}") for name in RetryPolicy.__slots__}
        )


class CircuitBreakerSettings(SectionSettings):
    """Circuit breakers per service, from ``CIRCUIT_BREAKER_<SERVICE>_*``."""

    model_config = SettingsConfigDict(**SECTION_CONFIG, env_prefix="CIRCUIT_BREAKER_")

    db_failure_threshold: int = Field(default=3, ge=1)
    db_recovery_timeout: float = Field(default=30.0, gt=0)
    db_half_open_max_calls: int = Field(default=1, ge=1)

    redis_failure_threshold: int = Field(default=3, ge=1)
    redis_recovery_timeout: float = Field(default=15.0, gt=0)
    redis_half_open_max_calls: int = Field(default=1, ge=1)

    llm_failure_threshold: int = Field(default=5, ge=1)
    llm_recovery_timeout: float = Field(default=60.0, gt=0)
    llm_half_open_max_calls: int = Field(default=1, ge=1)

    mcp_failure_threshold: int = Field(default=3, ge=1)
    mcp_recovery_timeout: float = Field(default=120.0, gt=0)
    mcp_half_open_max_calls: int = Field(default=1, ge=1)

    def policy(self, service: Service) -> CircuitBreakerPolicy:
        """The circuit-breaker parameters of ``service``."""
        return CircuitBreakerPolicy(
            **{name: getattr(self, f"{service}_{name}") for name in CircuitBreakerPolicy.__slots__}
        )


class RateLimitSettings(SectionSettings):
    """Rate limits (per minute unless named otherwise), from ``RATE_LIMIT_*``."""

    model_config = SettingsConfigDict(**SECTION_CONFIG, env_prefix="RATE_LIMIT_")

    api_default_limit: int = Field(default=100, ge=1)
    api_authenticated_limit: int = Field(default=1000, ge=1)
    api_premium_limit: int = Field(default=5000, ge=1)
    llm_requests_per_minute: int = Field(default=60, ge=1)
    llm_tokens_per_minute: int = Field(default=50_000, ge=1)
    websocket_connections_per_ip: int = Field(default=10, ge=1)
    websocket_messages_per_minute: int = Field(default=1000, ge=1)


class SecuritySettings(SectionSettings):
    """JWT, API keys and CORS, from ``SECURITY_*``; lists are JSON (``["https://a"]``).

    ``secret_key`` has no default here: production never invents one, and the
    validator reports it missing.
    """

    model_config = SettingsConfigDict(**SECTION_CONFIG, env_prefix="SECURITY_")

    secret_key: SecretStr | None = None
    algorithm: Annotated[JwtAlgorithm, UpperCase] = "HS256"
    access_token_expire_minutes: int = Field(default=30, ge=1)
    refresh_token_expire_days: int = Field(default=7, ge=1)
    api_key_length: int = Field(default=32, ge=16)
    api_key_prefix: str = "sk-"
    api_keys: Annotated[list[SecretStr], NoDecode, JsonList] = Field(default_factory=list)
    cors_origins: Annotated[list[str], NoDecode, JsonList] = Field(
        default_factory=lambda: ["http://localhost:3000"]
    )
    cors_methods: Annotated[list[str], NoDecode, JsonList] = Field(
        default_factory=lambda: ["GET", "POST", "PUT", "PATCH", "DELETE"]
    )
    cors_headers: Annotated[list[str], NoDecode, JsonList] = Field(
        default_factory=lambda: ["Authorization", "Content-Type"]
    )
    cors_allow_credentials: bool = True


class ObservabilitySettings(SectionSettings):
    """Logging, metrics, tracing and health checks, from ``OBSERVABILITY_*``."""

    model_config = SettingsConfigDict(**SECTION_CONFIG, env_prefix="OBSERVABILITY_")

    log_level: Annotated[LogLevel, UpperCase] = "INFO"
    log_format: Annotated[LogFormat, CaseInsensitive] = "json"
    log_file: Path | None = None

    metrics_enabled: bool = True
    metrics_port: int = Field(default=9090, ge=1, le=65535)
    metrics_path: str = "/metrics"

    tracing_enabled: bool = True
    tracing_sample_rate: float = Field(default=0.1, ge=0, le=1)
    tracing_service_name: str = "ai-agent"

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


class FeatureFlags(SectionSettings):
    """Runtime feature toggles, from ``FEATURE_ENABLE_*``.

    Read them through :mod:`ai_agent.config.feature_flags`, which also allows
    process-wide and per-context overrides.
    """

    model_config = SettingsConfigDict(**SECTION_CONFIG, env_prefix="FEATURE_")

    # Resilience
    enable_circuit_breakers: bool = True
    enable_retries: bool = True
    enable_rate_limiting: bool = True
    enable_fallbacks: bool = True
    # API
    enable_websockets: bool = True
    enable_streaming: bool = True
    enable_bulk_operations: bool = True
    # Observability
    enable_detailed_metrics: bool = False
    enable_request_tracing: bool = True
    enable_debug_endpoints: bool = False
    # External services
    enable_multiple_llm_providers: bool = True
    enable_provider_fallback: bool = True
    enable_mcp_hot_reload: bool = False
