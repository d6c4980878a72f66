"""Load settings for an environment, turning every bad value into one readable line.

``load_settings`` builds each section on its own so that all problems are reported
together; each line names the environment variable, says what it accepts and shows
the offending value unless the field holds a secret.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import SecretBytes, SecretStr, ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from ai_agent.config.application import ApplicationSettings
from ai_agent.config.base import (
    DEFAULT_ENV_FILE,
    SECTION_CONFIG,
    CaseInsensitive,
    Environment,
    env_var_name,
)
from ai_agent.config.environments import (
    DevelopmentSettings,
    ProductionSettings,
    StagingSettings,
    TestingSettings,
)
from ai_agent.config.errors import ConfigurationError
from ai_agent.config.redaction import redact_text

__all__ = [
    "ENVIRONMENT_CLASSES",
    "EnvFile",
    "describe_validation_error",
    "is_settings_variable",
    "load_settings",
    "resolve_environment",
]

EnvFile = str | Path | None

ENVIRONMENT_CLASSES: dict[Environment, type[ApplicationSettings]] = {
    Environment.DEVELOPMENT: DevelopmentSettings,
    Environment.TESTING: TestingSettings,
    Environment.STAGING: StagingSettings,
    Environment.PRODUCTION: ProductionSettings,
}
_ALLOWED = ", ".join(env.value for env in Environment)
_MAX_SHOWN = 60


class _EnvironmentSelector(BaseSettings):
    """Reads only ``ENVIRONMENT`` (environment, then ``.env``)."""

    model_config = SettingsConfigDict(**SECTION_CONFIG)

    environment: Annotated[Environment, CaseInsensitive] = Environment.DEVELOPMENT


def is_settings_variable(name: str) -> bool:
    """Whether environment variable ``name`` can change the settings (for test isolation)."""
    upper = name.upper()
    sections = ApplicationSettings.section_classes()
    top_level = {field.upper() for field in ApplicationSettings.model_fields} - {
        section.upper() for section in sections
    }
    prefixes: list[str] = []
    for section_cls in sections.values():
        prefixes.append(str(section_cls.model_config.get("env_prefix") or "").upper())
        prefixes.extend(getattr(section_cls, "alternative_env_prefixes", ()))
    return upper in top_level or upper.startswith(tuple(p for p in prefixes if p))


def resolve_environment(
    environment: str | None = None, *, env_file: EnvFile = DEFAULT_ENV_FILE
) -> Environment:
    """The argument if given, else ``ENVIRONMENT``, else development."""
    if environment is None:
        try:
            return _EnvironmentSelector(_env_file=env_file).environment
        except ValidationError as exc:
            raise ConfigurationError(describe_validation_error(exc, _EnvironmentSelector)) from None
    try:
        return Environment(environment)
    except ValueError:
        raise ConfigurationError(
            [f"unknown environment {environment!r}; expected one of {_ALLOWED}"]
        ) from None


def load_settings(
    environment: str | None = None, *, env_file: EnvFile = DEFAULT_ENV_FILE
) -> ApplicationSettings:
    """Build the settings of ``environment`` (uncached; see ``get_settings``).

    Raises:
        ConfigurationError: with one line per problem, naming each variable.
    """
    settings_cls = ENVIRONMENT_CLASSES[resolve_environment(environment, env_file=env_file)]
    problems: list[str] = []
    sections: dict[str, Any] = {}
    for name, section_cls in settings_cls.section_classes().items():
        try:
            sections[name] = section_cls(_env_file=env_file)
        except (ValidationError, ConfigurationError, SettingsError) as exc:
            problems.extend(_describe(exc, section_cls))
            sections[name] = section_cls.model_construct()
    try:
        settings = settings_cls(_env_file=env_file, **sections)
    except (ValidationError, SettingsError) as exc:
        problems.extend(_describe(exc, settings_cls))
    if problems:
        raise ConfigurationError(problems)
    return settings


def _describe(exc: Exception, settings_cls: type[BaseSettings]) -> list[str]:
    if isinstance(exc, ValidationError):
        return describe_validation_error(exc, settings_cls)
    if isinstance(exc, ConfigurationError):
        return list(exc.problems)
    # SettingsError messages name the field and source, never the value.
    return [f"{settings_cls.__name__}: {exc}"]


def describe_validation_error(exc: ValidationError, settings_cls: type[BaseSettings]) -> list[str]:
    """One line per error: ``VAR: what it accepts (got 'value')``; secrets never shown."""
    return [_describe_error(error, settings_cls) for error in exc.errors(include_url=False)]


def _describe_error(error: ErrorDetails, settings_cls: type[BaseSettings]) -> str:
    message = error["msg"].removeprefix("Value error, ")
    loc = error["loc"]
    if not loc:
        return message
    field_name = str(loc[0])
    variable = env_var_name(settings_cls, field_name)
    if len(loc) > 1:
        variable += "".join(f"[{part}]" for part in loc[1:])
    field = settings_cls.model_fields.get(field_name)
    if field is None or _holds_secret(field.annotation):
        return f"{variable}: {message}"
    return f"{variable}: {message} (got {_shown(error['input'])})"


def _shown(value: object) -> str:
    # A URL given to the wrong variable may hold a password: mask it.
    text = repr(redact_text(value)) if isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_SHOWN else f"{text[: _MAX_SHOWN - 3]}..."


def _holds_secret(annotation: object) -> bool:
    if annotation in (SecretStr, SecretBytes):
        return True
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType, list, tuple, set, frozenset, dict, Annotated):
        return any(_holds_secret(arg) for arg in typing.get_args(annotation))
    return False
