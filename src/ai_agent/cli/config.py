"""``ai-agent config show|validate``, and the settings helpers every command shares.

Other command groups reuse :data:`EnvOption`, :data:`EnvFileOption` and
:func:`load_settings_or_exit` so that every command reads settings the same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from ai_agent.config import feature_flags
from ai_agent.config.application import ApplicationSettings
from ai_agent.config.base import DEFAULT_ENV_FILE
from ai_agent.config.errors import ConfigurationError
from ai_agent.config.loader import load_settings
from ai_agent.config.logging import configure_logging
from ai_agent.config.redaction import redact
from ai_agent.config.validation import ConfigurationValidator

__all__ = [
    "CONFIG_ERROR_EXIT_CODE",
    "EnvFileOption",
    "EnvOption",
    "config_app",
    "effective_configuration",
    "load_settings_or_exit",
]

CONFIG_ERROR_EXIT_CODE = 2

EnvOption = Annotated[
    str | None,
    typer.Option(
        "--env",
        "-e",
        help="Environment: development, testing, staging or production "
        "(default: $ENVIRONMENT, else development).",
        show_default=False,
    ),
]
EnvFileOption = Annotated[
    Path,
    typer.Option("--env-file", help="Dotenv file to read; real environment variables win."),
]

config_app = typer.Typer(
    name="config", help="Show and validate the configuration.", no_args_is_help=True
)


def _fail(problems: tuple[str, ...] | list[str]) -> typer.Exit:
    for problem in problems:
        typer.echo(f"Configuration error: {problem}", err=True)
    return typer.Exit(CONFIG_ERROR_EXIT_CODE)


def load_settings_or_exit(
    environment: str | None = None,
    env_file: Path | str | None = DEFAULT_ENV_FILE,
    *,
    apply: bool = False,
) -> ApplicationSettings:
    """Load settings for a command, or print why not (stderr) and exit with status 2.

    With ``apply=True`` also configure logging and load the feature flags from them.
    """
    if env_file is not None and Path(env_file) != Path(DEFAULT_ENV_FILE):
        if not Path(env_file).is_file():
            raise _fail([f"env file {str(env_file)!r} does not exist."])
    try:
        settings = load_settings(environment, env_file=env_file)
    except ConfigurationError as exc:
        raise _fail(exc.problems) from None
    if apply:
        configure_logging(settings.observability)
        feature_flags.load(settings.features)
    return settings


def effective_configuration(settings: ApplicationSettings) -> dict[str, Any]:
    """Every setting (secrets masked, URLs with ``***``), plus the derived values."""
    data: dict[str, Any] = settings.model_dump(mode="json")
    data["selected_backend"] = settings.selected_backend.value
    data["use_memory"] = settings.use_memory
    data["database"]["url"] = settings.database.url.render_as_string(hide_password=True)
    data["redis"]["url"] = settings.redis.url.render_as_string(hide_password=True)
    if settings.fallback_url is not None:
        data["fallback_url"] = _masked_url(settings.fallback_url.get_secret_value())
    return _redact_values(data)


def _masked_url(raw: str) -> str:
    """A URL setting shown with its password masked; all masked when it does not parse."""
    try:
        return make_url(raw).render_as_string(hide_password=True)
    except Exception:  # sqlalchemy's ArgumentError or a bad port: its text may hold secrets
        return "***"


def _redact_values(data: dict[str, Any]) -> dict[str, Any]:
    # Secrets are already masked by the dump; this masks URL passwords in any text.
    return {
        key: _redact_values(value) if isinstance(value, dict) else redact(value)
        for key, value in data.items()
    }


def _prefixes(cls: type[Any]) -> str:
    prefixes = [str(cls.model_config.get("env_prefix") or "")]
    prefixes += list(getattr(cls, "alternative_env_prefixes", ()))
    return " or ".join(f"{prefix}*" for prefix in prefixes if prefix) or "no prefix"


def _shown(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, list | dict | bool):
        return json.dumps(value)
    return str(value)


def _section_table(title: str, cls: type[Any], values: dict[str, Any]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, expand=False)
    table.add_column("setting", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for name, value in values.items():
        derived = "" if name in cls.model_fields else " (derived)"
        table.add_row(name, _shown(value) + derived)
    return table


def _tables(settings: ApplicationSettings, data: dict[str, Any]) -> list[Table]:
    """One table per section, titled with the variables' prefix (DB_HOST -> database.host)."""
    top = {key: value for key, value in data.items() if not isinstance(value, dict)}
    environment = settings.environment.value
    cls = type(settings)
    tables = [_section_table(f"application ({environment}; {_prefixes(cls)})", cls, top)]
    for name, values in data.items():
        if isinstance(values, dict):
            section_cls = type(getattr(settings, name))
            title = f"{name} ({_prefixes(section_cls)})"
            tables.append(_section_table(title, section_cls, values))
    return tables


@config_app.command("show")
def show(
    env: EnvOption = None,
    env_file: EnvFileOption = Path(DEFAULT_ENV_FILE),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print the effective configuration; every secret is redacted."""
    settings = load_settings_or_exit(env, env_file)
    data = effective_configuration(settings)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        console = Console()
        for table in _tables(settings, data):
            console.print(table)


@config_app.command("validate")
def validate(
    env: EnvOption = None,
    env_file: EnvFileOption = Path(DEFAULT_ENV_FILE),
) -> None:
    """Check the configuration; print every problem and exit 1 if there is any."""
    settings = load_settings_or_exit(env, env_file)
    problems = ConfigurationValidator.validate_settings(settings)
    environment = settings.environment.value
    if problems:
        typer.echo(f"Configuration for {environment} has {len(problems)} problem(s):", err=True)
        for problem in problems:
            typer.echo(f"  - {problem}", err=True)
        raise typer.Exit(1)
    typer.echo(f"Configuration for {environment} is valid.")
