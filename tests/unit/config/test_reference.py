"""The generated configuration reference: complete, secret-free, and the README's is current.

"Complete" is checked against what the settings actually read, found by experiment: a
variable is read when setting it changes the loaded settings or makes loading fail.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import SecretStr

from ai_agent.config.application import ApplicationSettings
from ai_agent.config.errors import ConfigurationError
from ai_agent.config.loader import ENVIRONMENT_CLASSES, load_settings
from ai_agent.config.sections import DEVELOPMENT_SECRET_KEY

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"
SCRIPT = ROOT / "scripts" / "config_reference.py"
CONFIG_SOURCES = sorted((ROOT / "src" / "ai_agent" / "config").rglob("*.py"))
TEMPLATES = sorted((ROOT / "env-templates").glob(".env.*"))
PROBES = ("probe-value", "2")
FIX = "python scripts/config_reference.py --write README.md"


def _load_script() -> ModuleType:
    """The generator lives in scripts/ (tooling, not library): import it by path."""
    spec = importlib.util.spec_from_file_location("config_reference", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


reference = _load_script()
END_MARKER: str = reference.END_MARKER
START_MARKER: str = reference.START_MARKER
groups = reference.groups
main = reference.main
render = reference.render
replace_section = reference.replace_section
section_of = reference.section_of


def _documented() -> set[str]:
    return {name for group in groups() for variable in group.variables for name in variable.names}


def _snapshot() -> Any:
    """The loaded settings as comparable data, or the error loading them raised."""
    try:
        return load_settings().model_dump()
    except ConfigurationError as exc:
        return ("error", tuple(exc.problems))


def _is_read(monkeypatch: pytest.MonkeyPatch, name: str, baseline: Any) -> bool:
    with monkeypatch.context() as patch:
        for value in PROBES:
            patch.setenv(name, value)
            if _snapshot() != baseline:
                return True
    return False


def _candidates() -> set[str]:
    """Every name the settings might read: field names under every prefix, and every
    upper-case identifier in the configuration package's source."""
    sections = ApplicationSettings.section_classes()
    prefixes = {""}
    fields = set(ApplicationSettings.model_fields) - set(sections)
    for cls in sections.values():
        prefixes.add(str(cls.model_config.get("env_prefix") or ""))
        prefixes.update(getattr(cls, "alternative_env_prefixes", ()))
        fields.update(cls.model_fields)
    names = {f"{prefix}{field}".upper() for prefix in prefixes for field in fields}
    for path in CONFIG_SOURCES:
        names.update(re.findall(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()))
    return names


def test_readme_section_is_generated_from_the_settings() -> None:
    current = section_of(README.read_text(encoding="utf-8"))
    assert current == render(), f"README.md's configuration reference drifted; run `{FIX}`"


def test_every_documented_variable_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    baseline = _snapshot()
    unread = sorted(name for name in _documented() if not _is_read(monkeypatch, name, baseline))
    assert unread == []


def test_every_variable_read_is_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    baseline = _snapshot()
    others = sorted(_candidates() - _documented())
    assert len(others) > 100  # the experiment covers many names
    for name in others:  # all at once first: one load when nothing is missing
        monkeypatch.setenv(name, PROBES[0])
    if _snapshot() == baseline:
        return
    for name in others:
        monkeypatch.delenv(name)
    missing = [name for name in others if _is_read(monkeypatch, name, baseline)]
    assert missing == [], "read by the settings but missing from the reference"


def test_every_variable_has_a_type_a_default_and_a_meaning() -> None:
    for group in groups():
        assert group.variables, group.class_name
        for variable in group.variables:
            assert variable.type and variable.default and variable.meaning, variable


def test_no_secret_is_printed(monkeypatch: pytest.MonkeyPatch, password: str) -> None:
    monkeypatch.setenv("DB_PASSWORD", password)
    monkeypatch.setenv("SECURITY_SECRET_KEY", password * 4)
    text = render()
    secrets = {DEVELOPMENT_SECRET_KEY, password}
    for settings_cls in ENVIRONMENT_CLASSES.values():
        for section in settings_cls.section_classes().values():
            for field in section.model_fields.values():
                value = field.get_default(call_default_factory=True)
                if isinstance(value, SecretStr):
                    secrets.add(value.get_secret_value())
    assert not [secret for secret in secrets if secret in text]
    rows = {v.names[0]: v for group in groups() for v in group.variables}
    assert rows["SECURITY_SECRET_KEY"].default == "unset"
    assert ("development", "(secret)") in rows["SECURITY_SECRET_KEY"].profiles


def test_profiles_name_the_defaults_an_environment_changes() -> None:
    rows = {v.names[0]: v for group in groups() for v in group.variables}
    assert rows["DEBUG"].profiles == (("development", "`true`"),)
    assert rows["DB_NAME"].profiles == (("testing", "`ai_agent_test`"),)
    assert rows["DB_HOST"].names == ("DB_HOST", "DATABASE_HOST")
    assert rows["DATABASE_URL"].default == rows["REDIS_URL"].default == "unset"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_env_templates_name_only_documented_variables(template: Path) -> None:
    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", template.read_text(), flags=re.MULTILINE))
    assert named
    assert named - _documented() == set()


def test_check_write_and_print(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{START_MARKER}\nstale\n{END_MARKER}\n\nAfter.\n")
    assert main(["--check", str(readme)]) == 1
    out, err = capsys.readouterr()
    assert "-stale" in out and "out of date" in err
    assert main(["--write", str(readme)]) == 0
    assert main(["--check", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# Title\n\n") and text.endswith(f"{END_MARKER}\n\nAfter.\n")
    assert replace_section(text, render()) == text
    capsys.readouterr()
    assert main([]) == 0
    assert capsys.readouterr().out == render()


def test_missing_markers_are_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    assert main(["--check", str(readme)]) == 2
    assert START_MARKER in capsys.readouterr().err


def test_runs_as_a_script() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", str(README)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
