"""Production: persistent storage, JSON logs, debug off, no CORS origin by default.
No secret is invented: a missing key stays missing and the validator reports it."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from ai_agent.config.application import ApplicationSettings
from ai_agent.config.base import CaseInsensitive, Environment, with_defaults
from ai_agent.config.sections import ObservabilitySettings, SecuritySettings

__all__ = ["ProductionSettings"]

ProductionSecuritySettings = with_defaults(
    SecuritySettings, "ProductionSecuritySettings", cors_origins=[]
)
ProductionObservabilitySettings = with_defaults(
    ObservabilitySettings, "ProductionObservabilitySettings", tracing_sample_rate=0.01
)


class ProductionSettings(ApplicationSettings):
    """Defaults for a production deployment."""

    pinned_environment: ClassVar[Environment | None] = Environment.PRODUCTION

    environment: Annotated[Environment, CaseInsensitive] = Environment.PRODUCTION
    debug: bool = False
    host: str = "0.0.0.0"  # containers listen on every interface
    workers: int = Field(default=4, ge=1)
    use_database: bool = True
    use_redis: bool = True

    security: SecuritySettings = Field(default_factory=ProductionSecuritySettings)
    observability: ObservabilitySettings = Field(default_factory=ProductionObservabilitySettings)
