"""Building blocks shared by every settings section.

Enumerations, case-insensitive field types, the common ``model_config`` and the
settings sources that keep the application-level settings from reading a section
(``database``, ``redis``, ...) out of an environment variable of the same name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BeforeValidator, Field, create_model
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

__all__ = [
    "DEFAULT_ENV_FILE",
    "SECTION_CONFIG",
    "CaseInsensitive",
    "Environment",
    "JsonList",
    "LayeredSettings",
    "LogFormat",
    "LogLevel",
    "SectionSettings",
    "Sources",
    "SslMode",
    "StorageBackend",
    "UpperCase",
    "env_file_of",
    "env_var_name",
    "top_level_sources",
    "with_defaults",
]

DEFAULT_ENV_FILE = ".env"

S = TypeVar("S", bound=BaseSettings)


class _CaseInsensitiveEnum(StrEnum):
    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, str):
            folded = value.strip().lower()
            for member in cls:
                if member.value == folded:
                    return member
        return None


class Environment(_CaseInsensitiveEnum):
    """Deployment environment; ``Environment("Production")`` works too."""

    DEVELOPMENT = "development"
    TESTING = "testing"
    STAGING = "staging"
    PRODUCTION = "production"


class StorageBackend(_CaseInsensitiveEnum):
    """Where the repository keeps its data; ``auto`` follows USE_DATABASE / USE_REDIS."""

    AUTO = "auto"
    MEMORY = "memory"
    SQLITE = "sqlite"
    REDIS = "redis"
    POSTGRESQL = "postgresql"


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LogFormat = Literal["json", "console"]
SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


def _fold(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _json_list(value: object) -> object:
    """Decode a JSON list given as text (environment values are text)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return []
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError:
        decoded = None
    if not isinstance(decoded, list):
        raise ValueError('expected a JSON list of strings, e.g. ["first", "second"]')
    return decoded


CaseInsensitive = BeforeValidator(_fold)
UpperCase = BeforeValidator(_upper)
# NoDecode keeps pydantic-settings from decoding the value itself, so a malformed list
# becomes a validation error on this field instead of an anonymous SettingsError.
JsonList = BeforeValidator(_json_list)

SECTION_CONFIG = SettingsConfigDict(
    env_file=DEFAULT_ENV_FILE,
    env_file_encoding="utf-8",
    case_sensitive=False,
    env_ignore_empty=True,  # VAR= (empty) means unset
    extra="ignore",
    frozen=True,
    hide_input_in_errors=True,
)


@dataclass(frozen=True, slots=True)
class Sources:
    """The sources pydantic-settings hands a settings class, by role."""

    init: PydanticBaseSettingsSource
    env: PydanticBaseSettingsSource
    dotenv: PydanticBaseSettingsSource
    secrets: PydanticBaseSettingsSource


class LayeredSettings(BaseSettings):
    """Base of every settings class: pydantic-settings' source hook, written once.

    A subclass that reads more (or fewer) sources overrides :meth:`layered_sources`.
    """

    model_config = SECTION_CONFIG

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources = Sources(init_settings, env_settings, dotenv_settings, file_secret_settings)
        return cls.layered_sources(settings_cls, sources)

    @classmethod
    def layered_sources(
        cls, settings_cls: type[BaseSettings], sources: Sources
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The sources to read, highest priority first: init > environment > ``.env``."""
        return sources.init, sources.env, sources.dotenv, sources.secrets


class SectionSettings(LayeredSettings):
    """Base of every section: reads the environment and ``.env``; real variables win."""

    # Further prefixes accepted for the same fields, lower priority than ``env_prefix``.
    alternative_env_prefixes: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def env_var(cls, field_name: str) -> str:
        """The environment variable(s) that set ``field_name``, for messages."""
        return env_var_name(cls, field_name)


def env_var_name(
    settings_cls: type[BaseSettings], field_name: str, *, alternatives: bool = True
) -> str:
    """``DB_PORT (or DATABASE_PORT)``: the variable(s) that set a field, for messages."""
    prefix = str(settings_cls.model_config.get("env_prefix") or "")
    others: tuple[str, ...] = getattr(settings_cls, "alternative_env_prefixes", ())
    names = [f"{p}{field_name}".upper() for p in (prefix, *(others if alternatives else ()))]
    if len(names) == 1:
        return names[0]
    return f"{names[0]} (or {', '.join(names[1:])})"


def env_file_of(source: PydanticBaseSettingsSource) -> Any:
    """The env file(s) a dotenv source reads (honours ``_env_file=`` at construction)."""
    return source.env_file if isinstance(source, DotEnvSettingsSource) else None


class _SkipSections:
    """Mixin: ignore fields that hold a whole section; each section reads its own prefix."""

    skipped: frozenset[str] = frozenset()

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if field_name in self.skipped:
            return None, field_name, False
        found: tuple[Any, str, bool] = super().get_field_value(field, field_name)  # type: ignore[misc]
        return found

    def __call__(self) -> dict[str, Any]:
        data: dict[str, Any] = super().__call__()  # type: ignore[misc]
        return {key: value for key, value in data.items() if key not in self.skipped}


class _TopLevelEnv(_SkipSections, EnvSettingsSource):
    pass


class _TopLevelDotEnv(_SkipSections, DotEnvSettingsSource):
    pass


def _section_fields(settings_cls: type[BaseSettings]) -> frozenset[str]:
    return frozenset(
        name
        for name, field in settings_cls.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseSettings)
    )


def top_level_sources(
    settings_cls: type[BaseSettings], sources: Sources
) -> tuple[PydanticBaseSettingsSource, ...]:
    """Sources for the application level: init > environment > ``.env``."""
    skipped = _section_fields(settings_cls)
    env = _TopLevelEnv(settings_cls)
    dotenv = _TopLevelDotEnv(settings_cls, env_file=env_file_of(sources.dotenv))
    env.skipped = dotenv.skipped = skipped
    return sources.init, env, dotenv


def with_defaults(base: type[S], class_name: str, /, **defaults: Any) -> type[S]:
    """A subclass of ``base`` named ``class_name`` that differs only in field defaults.

    Types, constraints and validators are kept, so environment variables are parsed and
    checked exactly as for ``base`` and still win over these defaults.
    """
    fields: dict[str, Any] = {}
    for field_name, default in defaults.items():
        field = base.model_fields[field_name]  # KeyError names a misspelt field
        annotation: Any = field.annotation
        if field.metadata:
            annotation = Annotated[(annotation, *field.metadata)]
        fields[field_name] = (annotation, Field(default=default, description=field.description))
    return create_model(class_name, __base__=base, __module__=base.__module__, **fields)
