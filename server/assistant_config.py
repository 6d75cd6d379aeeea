"""The assistant's settings (``CLARIFY_ASSISTANT__<NAME>``). A leaf module.

With no base URL the assistant is off: the panel says so and asking it gives a clear
``assistant.error``. Any OpenAI-compatible chat-completions endpoint works (a hosted API, vLLM,
llama.cpp's server, Ollama, or ``clarify assistant-sim``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import NoDecode

# Read from the environment as plain comma-separated text (not JSON).
Models = Annotated[list[str], NoDecode]


class AssistantSettings(BaseModel):
    """Where the assistant's model is served, which models staff may pick, and the limits."""

    base_url: str | None = Field(
        None, description="OpenAI-compatible API base URL, e.g. https://host/v1; unset turns the assistant off."
    )
    api_key: SecretStr | None = Field(None, description="API key sent to the provider (stays on the server).")
    models: Models = Field(default_factory=list, description="Models staff may choose (comma-separated).")
    default_model: str | None = Field(None, description="Model used when staff do not pick one (default: the first).")
    token_budget: int = Field(20_000, ge=0, description="Tokens (prompt + reply) a session may spend by default.")
    timeout_s: float = Field(30.0, gt=0, description="Provider timeout (connect, and between streamed chunks).")
    max_reply_tokens: int = Field(1024, ge=1, description="Largest reply the provider is asked for.")
    token_param: Literal["max_tokens", "max_completion_tokens"] = Field(
        "max_tokens", description="Request field for the reply limit (newer OpenAI models want max_completion_tokens)."
    )
    max_prompt_chars: int = Field(4000, ge=1, description="Longest question a candidate may ask.")
    max_code_chars: int = Field(20_000, ge=0, description="Editor text sent as context (the rest is cut).")
    history_turns: int = Field(8, ge=0, description="Earlier questions and replies sent as context.")
    price_input_per_mtok: float = Field(0.0, ge=0, description="Cost of a million prompt tokens (0 = unknown).")
    price_output_per_mtok: float = Field(0.0, ge=0, description="Cost of a million reply tokens (0 = unknown).")

    @field_validator("models", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def configured(self) -> bool:
        return bool(self.base_url) and bool(self.model_choices)

    @property
    def model_choices(self) -> list[str]:
        """The models staff may pick: the list, with the default model first if it is not in it."""
        models = list(self.models)
        if self.default_model and self.default_model not in models:
            models.insert(0, self.default_model)
        return models

    @property
    def fallback_model(self) -> str | None:
        return self.default_model or (self.models[0] if self.models else None)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """What a reply cost, when prices are set; None when unknown."""
        if not self.price_input_per_mtok and not self.price_output_per_mtok:
            return None
        return round(
            (prompt_tokens * self.price_input_per_mtok + completion_tokens * self.price_output_per_mtok) / 1e6, 6
        )
