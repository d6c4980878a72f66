"""One settings class per deployment environment.

Each subclass of ``ApplicationSettings`` changes defaults only (sections included, via
subclasses made with ``with_defaults``); environment variables always win. The class
fixes ``environment``: ``ProductionSettings().environment`` is always production.
"""

from ai_agent.config.environments.development import DevelopmentSettings
from ai_agent.config.environments.production import ProductionSettings
from ai_agent.config.environments.staging import StagingSettings
from ai_agent.config.environments.testing import TestingSettings

__all__ = ["DevelopmentSettings", "ProductionSettings", "StagingSettings", "TestingSettings"]
