"""Staging: production-like (persistent storage, JSON logs, debug off) with more
tracing. No secret is invented: a missing key stays missing for the validator."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from ai_agent.config.application import ApplicationSettings
from ai_agent.config.base import CaseInsensitive, Environment, with_defaults
from ai_agent.config.sections import ObservabilitySettings, SecuritySettings

__all__ = ["StagingSettings"]

StagingSecuritySettings = with_defaults(
    SecuritySettings, "StagingSecuritySettings", cors_origins=[]
)
StagingObservabilitySettings = with_defaults(
    ObservabilitySettings, "StagingObservabilitySettings", tracing_sample_rate=0.1
)


class StagingSettings(ApplicationSettings):
    """Defaults for a staging deployment."""

    pinned_environment: ClassVar[Environment | None] = Environment.STAGING

    environment: Annotated[Environment, CaseInsensitive] = Environment.STAGING
    debug: bool = False
    host: str = "0.0.0.0"  # containers listen on every interface
    workers: int = Field(default=2, ge=1)
    use_database: bool = True
    use_redis: bool = True

    security: SecuritySettings = Field(default_factory=StagingSecuritySettings)
    observability: ObservabilitySettings = Field(default_factory=StagingObservabilitySettings)
