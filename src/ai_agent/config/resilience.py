"""Retry and circuit-breaker settings: the same fields for every service.

``RETRY_<SERVICE>_*`` and ``CIRCUIT_BREAKER_<SERVICE>_*``, where the service is ``db``,
``redis``, ``llm`` or ``mcp``; ``policy(service)`` gathers one service's fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from ai_agent.config.base import SECTION_CONFIG, SectionSettings

__all__ = [
    "SERVICES",
    "CircuitBreakerPolicy",
    "CircuitBreakerSettings",
    "RetryPolicy",
    "RetrySettings",
    "Service",
]

Service = Literal["db", "redis", "llm", "mcp"]
SERVICES: tuple[Service, ...] = ("db", "redis", "llm", "mcp")


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


# Per policy field: its lower bound (``ge``, ``gt``) and meaning, written once for every service.
_FIELDS: dict[str, tuple[float | None, float | None, str]] = {
    "max_attempts": (1, None, "attempts in all, the first included."),
    "base_delay": (0, None, "base wait before the first retry, in seconds."),
    "max_delay": (0, None, "longest wait between attempts, in seconds."),
    "exponential_base": (1, None, "factor by which the wait grows per retry."),
    "jitter": (None, None, "randomise each wait so that callers spread out."),
    "failure_threshold": (1, None, "consecutive failures that open the breaker."),
    "recovery_timeout": (None, 0, "seconds the breaker stays open before a trial."),
    "half_open_max_calls": (1, None, "good trial calls that close the breaker again."),
}


def _field(name: str, who: str, default: Any) -> Any:
    """The field ``name`` of one service; ``who`` names its calls in the description."""
    ge, gt, meaning = _FIELDS[name]
    return Field(default=default, ge=ge, gt=gt, description=f"{who}: {meaning}")


_DB_CALLS = "PostgreSQL repository calls"
_REDIS_CALLS = "Redis repository calls"
_LLM_CALLS = "LLM provider calls"
_MCP_CALLS = "MCP server calls"


class RetrySettings(SectionSettings):
    """Retries with exponential backoff per service, from ``RETRY_<SERVICE>_*``."""

    model_config = SettingsConfigDict(**SECTION_CONFIG, env_prefix="RETRY_")

    db_max_attempts: int = _field("max_attempts", _DB_CALLS, 5)
    db_base_delay: float = _field("base_delay", _DB_CALLS, 0.5)
    db_max_delay: float = _field("max_delay", _DB_CALLS, 30.0)
    db_exponential_base: float = _field("exponential_base", _DB_CALLS, 1.5)
    db_jitter: bool = _field("jitter", _DB_CALLS, True)

    redis_max_attempts: int = _field("max_attempts", _REDIS_CALLS, 3)
    redis_base_delay: float = _field("base_delay", _REDIS_CALLS, 0.1)
    redis_max_delay: float = _field("max_delay", _REDIS_CALLS, 5.0)
    redis_exponential_base: float = _field("exponential_base", _REDIS_CALLS, 2.0)
    redis_jitter: bool = _field("jitter", _REDIS_CALLS, True)

    llm_max_attempts: int = _field("max_attempts", _LLM_CALLS, 3)
    llm_base_delay: float = _field("base_delay", _LLM_CALLS, 1.0)
    llm_max_delay: float = _field("max_delay", _LLM_CALLS, 60.0)
    llm_exponential_base: float = _field("exponential_base", _LLM_CALLS, 2.0)
    llm_jitter: bool = _field("jitter", _LLM_CALLS, True)

    mcp_max_attempts: int = _field("max_attempts", _MCP_CALLS, 3)
    mcp_base_delay: float = _field("base_delay", _MCP_CALLS, 2.0)
    mcp_max_delay: float = _field("max_delay", _MCP_CALLS, 120.0)
    mcp_exponential_base: float = _field("exponential_base", _MCP_CALLS, 2.0)
    mcp_jitter: bool = _field("jitter", _MCP_CALLS, True)

    def policy(self, service: Service) -> RetryPolicy:
        """The retry parameters of ``service`` (``db``, ``redis``, ``llm`` or ``mcp``)."""
        return RetryPolicy(
            **{name: getattr(self, f"{service}_{name}") for name in RetryPolicy.__slots__}
        )


class CircuitBreakerSettings(SectionSettings):
    """Circuit breakers per service, from ``CIRCUIT_BREAKER_<SERVICE>_*``."""

    model_config = SettingsConfigDict(**SECTION_CONFIG, env_prefix="CIRCUIT_BREAKER_")

    db_failure_threshold: int = _field("failure_threshold", "Repository failover", 3)
    db_recovery_timeout: float = _field("recovery_timeout", "Repository failover", 30.0)
    db_half_open_max_calls: int = _field("half_open_max_calls", "Repository failover", 1)

    redis_failure_threshold: int = _field("failure_threshold", "Redis", 3)
    redis_recovery_timeout: float = _field("recovery_timeout", "Redis", 15.0)
    redis_half_open_max_calls: int = _field("half_open_max_calls", "Redis", 1)

    llm_failure_threshold: int = _field("failure_threshold", "LLM provider", 5)
    llm_recovery_timeout: float = _field("recovery_timeout", "LLM provider", 60.0)
    llm_half_open_max_calls: int = _field("half_open_max_calls", "LLM provider", 1)

    mcp_failure_threshold: int = _field("failure_threshold", "MCP server", 3)
    mcp_recovery_timeout: float = _field("recovery_timeout", "MCP server", 120.0)
    mcp_half_open_max_calls: int = _field("half_open_max_calls", "MCP server", 1)

    def policy(self, service: Service) -> CircuitBreakerPolicy:
        """The circuit-breaker parameters of ``service``."""
        return CircuitBreakerPolicy(
            **{name: getattr(self, f"{service}_{name}") for name in CircuitBreakerPolicy.__slots__}
        )
