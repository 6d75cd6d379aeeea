"""The reply limit's field name (``token_param``) against a real `clarify assistant-sim` that,
like newer OpenAI models, refuses ``max_tokens`` for its ``sim-new`` model."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from server.assistant_config import AssistantSettings
from server.assistant_provider import Failure, Provider, Usage
from server.settings import Settings
from tests.assistant.conftest import SimProcess

MESSAGES = [{"role": "user", "content": "How do I sort a list?"}]


async def reply(settings: AssistantSettings, model: str) -> str:
    provider = Provider(settings)
    try:
        return "".join([p async for p in provider.stream(model, MESSAGES, 50) if not isinstance(p, Usage)])
    finally:
        await provider.close()


def settings_for(sim: SimProcess, **values) -> AssistantSettings:
    return AssistantSettings(base_url=f"{sim.base}/v1", models=["sim-1", "sim-new"], timeout_s=5, **values)


async def test_max_tokens_by_default_and_max_completion_tokens_when_set(sim: SimProcess) -> None:
    sim.clear()
    assert "sketch" in await reply(settings_for(sim), "sim-1")
    sent = sim.requests()[-1]
    assert sent["max_tokens"] == 50 and "max_completion_tokens" not in sent

    # A newer model refuses max_tokens: a clear failure, not a crash.
    with pytest.raises(Failure) as refused:
        await reply(settings_for(sim), "sim-new")
    assert refused.value.code == "provider_error" and "400" in refused.value.message

    sim.clear()
    text = await reply(settings_for(sim, token_param="max_completion_tokens"), "sim-new")
    assert "sketch" in text
    sent = sim.requests()[-1]
    assert sent["max_completion_tokens"] == 50 and "max_tokens" not in sent


def test_the_setting_is_read_from_the_environment_and_bad_values_are_refused(monkeypatch) -> None:
    monkeypatch.setenv("CLARIFY_ASSISTANT__TOKEN_PARAM", "max_completion_tokens")
    assert Settings().assistant.token_param == "max_completion_tokens"
    monkeypatch.setenv("CLARIFY_ASSISTANT__TOKEN_PARAM", "max_toks")
    with pytest.raises(ValidationError, match="max_completion_tokens"):
        Settings()
    assert AssistantSettings().token_param == "max_tokens"
