"""Staging: production's defaults (persistent storage, JSON logs, debug off, no CORS origin)
with fewer workers and more tracing. No secret is invented: a missing key stays missing for
the validator."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from ai_agent.config.base import CaseInsensitive, Environment, with_defaults
from ai_agent.config.environments.production import (
    ProductionObservabilitySettings,
    ProductionSettings,
)
from ai_agent.config.sections import ObservabilitySettings

__all__ = ["StagingSettings"]

StagingObservabilitySettings = with_defaults(
    ProductionObservabilitySettings, "StagingObservabilitySettings", tracing_sample_rate=0.1
)


class StagingSettings(ProductionSettings):
    """Defaults for a staging deployment: production's, but for the lines below."""

    pinned_environment: ClassVar[Environment | None] = Environment.STAGING

    environment: Annotated[Environment, CaseInsensitive] = Environment.STAGING
    workers: int = Field(default=2, ge=1)

    observability: ObservabilitySettings = Field(default_factory=StagingObservabilitySettings)
