"""``env-templates/``: every template loads; deployed ones fail validation until edited."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ai_agent.config.application import ApplicationSettings
from ai_agent.config.base import env_var_name
from ai_agent.config.settings import ConfigurationValidator, Environment, load_settings

TEMPLATES = Path(__file__).resolve().parents[3] / "env-templates"
ENVIRONMENTS = [environment.value for environment in Environment]


def _template(environment: str) -> Path:
    return TEMPLATES / f".env.{environment}"


def _known_variables() -> set[str]:
    names = {"DATABASE_URL", "REDIS_URL"}
    sections = ApplicationSettings.section_classes()
    names |= {name.upper() for name in ApplicationSettings.model_fields if name not in sections}
    for cls in sections.values():
        for field in cls.model_fields:
            names.update(re.findall(r"[A-Z_]+", env_var_name(cls, field)))
    return names


def test_there_is_one_template_per_environment() -> None:
    assert sorted(path.name for path in TEMPLATES.glob(".env.*")) == sorted(
        f".env.{environment}" for environment in ENVIRONMENTS
    )


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_template_loads_as_dotenv(environment: str, tmp_path: Path) -> None:
    shutil.copy(_template(environment), tmp_path / ".env")
    settings = load_settings()
    assert settings.environment.value == environment


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_template_loads_as_env_file(environment: str) -> None:
    settings = load_settings(environment, env_file=_template(environment))
    assert settings.environment.value == environment


@pytest.mark.parametrize("environment", ["development", "testing"])
def test_local_templates_are_valid(environment: str) -> None:
    settings = load_settings(env_file=_template(environment))
    assert ConfigurationValidator.validate_settings(settings) == []


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_deployed_templates_fail_until_placeholders_are_replaced(environment: str) -> None:
    settings = load_settings(env_file=_template(environment))
    assert settings.security.secret_key is not None
    problems = ConfigurationValidator.validate_settings(settings)
    assert problems == [
        "SECURITY_SECRET_KEY looks like a placeholder; set a random key.",
        "DB_PASSWORD looks like a placeholder; set the real password.",
        "REDIS_PASSWORD looks like a placeholder; set the real password.",
    ]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_templates_only_name_real_variables(environment: str) -> None:
    text = _template(environment).read_text()
    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert named, "template names no variable"
    assert named <= _known_variables(), named - _known_variables()


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_templates_are_commented(environment: str) -> None:
    lines = _template(environment).read_text().splitlines()
    assert lines[0].startswith(f"# ai-agent: {environment} environment")
    assert sum(line.startswith("#") for line in lines) >= 5
