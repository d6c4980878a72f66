"""Feature flags: names, defaults, process-wide values, context-scoped overrides."""

from __future__ import annotations

import asyncio

import pytest

from ai_agent.config import feature_flags
from ai_agent.config.feature_flags import UnknownFeatureFlagError
from ai_agent.config.settings import FeatureFlags, get_settings

ORIGIN_FLAGS = {
    "circuit_breakers",
    "retries",
    "rate_limiting",
    "fallbacks",
    "websockets",
    "streaming",
    "bulk_operations",
    "detailed_metrics",
    "request_tracing",
    "debug_endpoints",
    "multiple_llm_providers",
    "provider_fallback",
    "mcp_hot_reload",
}


def test_flag_names_come_from_the_settings_class() -> None:
    assert set(feature_flags.FLAG_NAMES) == ORIGIN_FLAGS
    assert {f"enable_{name}" for name in ORIGIN_FLAGS} == set(FeatureFlags.model_fields)


def test_class_defaults_apply_before_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEATURE_ENABLE_RETRIES", "false")  # library code never reads it
    assert feature_flags.is_enabled("retries") is True
    assert feature_flags.is_enabled("detailed_metrics") is False
    defaults = FeatureFlags.model_construct()
    assert feature_flags.all_flags() == {
        name: getattr(defaults, f"enable_{name}") for name in feature_flags.FLAG_NAMES
    }


@pytest.mark.parametrize(
    "name", ["retries", "enable_retries", "ENABLE_RETRIES", "FEATURE_ENABLE_RETRIES"]
)
def test_every_spelling_names_the_same_flag(name: str) -> None:
    feature_flags.set_flag("retries", False)
    assert feature_flags.is_enabled(name) is False


def test_unknown_flag_lists_valid_names() -> None:
    with pytest.raises(UnknownFeatureFlagError) as caught:
        feature_flags.is_enabled("retry")
    message = str(caught.value)
    assert "unknown feature flag 'retry'" in message
    for name in ORIGIN_FLAGS:
        assert name in message
    assert isinstance(caught.value, ValueError)
    with pytest.raises(UnknownFeatureFlagError):
        feature_flags.set_flag("nope", True)
    with pytest.raises(UnknownFeatureFlagError), feature_flags.override("nope", True):
        pass


def test_load_takes_values_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEATURE_ENABLE_RETRIES", "false")
    monkeypatch.setenv("FEATURE_ENABLE_MCP_HOT_RELOAD", "true")
    feature_flags.load(get_settings().features)
    assert feature_flags.is_enabled("retries") is False
    assert feature_flags.is_enabled("mcp_hot_reload") is True


def test_set_flag_and_reset() -> None:
    feature_flags.set_flag("fallbacks", False)
    feature_flags.set_flag("detailed_metrics", True)
    assert not feature_flags.is_enabled("fallbacks")
    assert feature_flags.is_enabled("detailed_metrics")
    feature_flags.reset()
    assert feature_flags.is_enabled("fallbacks")
    assert not feature_flags.is_enabled("detailed_metrics")


def test_override_applies_to_the_block_only_and_nests() -> None:
    with feature_flags.override("retries", False):
        assert not feature_flags.is_enabled("retries")
        with feature_flags.override("retries", True), feature_flags.override("fallbacks", False):
            assert feature_flags.is_enabled("retries")
            assert not feature_flags.is_enabled("fallbacks")
        assert not feature_flags.is_enabled("retries")
        assert feature_flags.is_enabled("fallbacks")
    assert feature_flags.is_enabled("retries")


def test_override_is_undone_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), feature_flags.override("streaming", False):
        raise RuntimeError
    assert feature_flags.is_enabled("streaming")


def test_override_wins_over_process_wide_values() -> None:
    with feature_flags.override("bulk_operations", True):
        feature_flags.set_flag("bulk_operations", False)
        assert feature_flags.is_enabled("bulk_operations")
    assert not feature_flags.is_enabled("bulk_operations")


def test_reset_drops_overrides_of_the_current_context() -> None:
    with feature_flags.override("retries", False):
        feature_flags.reset()
        assert feature_flags.is_enabled("retries")
    assert feature_flags.is_enabled("retries")


async def test_concurrent_tasks_do_not_see_each_others_overrides() -> None:
    inside = asyncio.Event()
    release = asyncio.Event()

    async def overriding() -> bool:
        with feature_flags.override("circuit_breakers", False):
            inside.set()
            await release.wait()
            return feature_flags.is_enabled("circuit_breakers")

    async def observing() -> bool:
        await inside.wait()
        seen = feature_flags.is_enabled("circuit_breakers")
        release.set()
        return seen

    overridden, observed = await asyncio.gather(overriding(), observing())
    assert overridden is False
    assert observed is True


async def test_tasks_inherit_the_overrides_active_where_they_start() -> None:
    with feature_flags.override("fallbacks", False):
        child = asyncio.create_task(_read("fallbacks"))
    assert await child is False
    assert feature_flags.is_enabled("fallbacks")


async def _read(name: str) -> bool:
    await asyncio.sleep(0)
    return feature_flags.is_enabled(name)
