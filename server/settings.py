"""Clarify's settings: one object, read once from ``CLARIFY_*`` environment variables.

Every setting has a default and a help line (``clarify serve --help`` lists them). Sandbox
limits nest under ``CLARIFY_SANDBOX__<NAME>``, e.g. ``CLARIFY_SANDBOX__MEMORY_MB=2048``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from sandbox import SandboxConfig
from sandbox.image import DEFAULT_BASE_IMAGE
from server.assistant_config import AssistantSettings
from server.auth.config import OidcSettings


class Settings(BaseSettings):
    """Server settings."""

    model_config = SettingsConfigDict(env_prefix="CLARIFY_", env_nested_delimiter="__", extra="ignore")

    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8000, description="Port to listen on.")
    data_dir: Path = Field(Path(".clarify"), description="Where local state lives (admin token, managed Redis).")
    admin_token: SecretStr | None = Field(None, description="Staff bearer token; generated and stored if unset.")
    redis_url: str | None = Field(None, description="An existing Redis; unset starts a managed redis-server.")
    redis_server: str = Field("redis-server", description="The redis-server binary for the managed Redis.")
    public_url: str | None = Field(None, description="Base URL for links in API replies (default http://host:port).")
    max_frame_bytes: int = Field(1024 * 1024, description="Largest websocket frame; larger closes that socket (1009).")
    send_queue: int = Field(512, description="Messages queued per connection before a slow reader is dropped.")
    events_burst: int = Field(30, description="Events-socket messages a client may send in a burst.")
    events_per_second: float = Field(10.0, description="Sustained events-socket messages per second per client.")
    events_strikes: int = Field(50, description="Rate-limited messages tolerated before the socket is closed.")
    max_queued_runs: int = Field(20, description="Runs a session may have waiting; more are refused (queue_full).")
    max_connections_per_token: int = Field(8, description="Open sockets (both kinds) one session link may hold.")
    max_doc_bytes: int = Field(
        1_000_000, description="Largest shared document, in characters; larger edits close 1009."
    )
    doc_bytes_per_second: int = Field(
        256 * 1024, description="Sustained bytes per second one document socket may send."
    )
    doc_burst_bytes: int = Field(4 * 1024 * 1024, description="Bytes one document socket may send in a burst.")
    doc_messages_per_second: float = Field(200.0, description="Sustained document-socket frames per second.")
    doc_burst_messages: int = Field(2000, description="Document-socket frames a client may send in a burst.")
    hello_runs: int = Field(50, description="Runs (newest) a new connection receives in its greeting.")
    hello_output_bytes: int = Field(
        64 * 1024,
        description="Output bytes per run kept in memory and sent in greetings; the rest is fetched on demand.",
    )
    max_recording_bytes: int = Field(
        256 * 1024 * 1024, description="Recorded bytes per session; beyond, run output is summarised, not stored."
    )
    fatal_after_s: float = Field(
        300.0, description="Exit non-zero when Redis or Docker stays unreachable this long (0 = never)."
    )
    problems_dir: Path | None = Field(
        None, description="Problem packs to serve (default: the packs shipped with Clarify)."
    )
    base_image: str = Field(DEFAULT_BASE_IMAGE, description="Base image the kernel image is built on.")
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig, description="Kernel containment and pool.")
    oidc: OidcSettings = Field(default_factory=OidcSettings, description="Sign-in with the identity provider.")
    candidate_link_grace_minutes: int = Field(
        60, description="After a session ends, its candidate link says 'ended' this long, then 'expired'."
    )
    retention_days: float = Field(
        365, description="Ended sessions older than this are erased by the sweep (0 = keep forever)."
    )
    retention_sweep_minutes: float = Field(60, description="How often the retention sweep runs.")
    webhook_timeout_s: float = Field(10.0, description="Webhook request timeout (connect, read, write).")
    webhook_retry_hours: float = Field(
        24.0, description="A failing webhook delivery is retried this long, then marked failed."
    )
    webhook_backoff_base_s: float = Field(5.0, description="First webhook retry delay; doubles each time.")
    webhook_backoff_max_s: float = Field(7200.0, description="Longest wait between two webhook attempts.")
    webhook_concurrency: int = Field(8, description="Webhook deliveries in flight at once.")
    webhook_keep_days: float = Field(30, description="Finished webhook deliveries are kept this long.")
    undo_window_s: float = Field(
        30.0, description="An interviewer may undo their own answer or mark this long after (a correction)."
    )
    assistant: AssistantSettings = Field(
        default_factory=AssistantSettings, description="The AI assistant in the room (off without a base URL)."
    )

    def sandbox_config(self) -> SandboxConfig:
        """The sandbox settings, resolved: the image tag from the base image, and (when
        ``CLARIFY_SANDBOX__KERNEL_DIR`` / ``CLARIFY_SANDBOX__SERVER_ID`` are unset) the kernel
        directory and this instance's container label derived from the data directory."""
        config = self.sandbox.for_data_dir(self.data_dir)
        if config.image:
            return config
        from sandbox.image import image_tag

        return config.model_copy(update={"image": image_tag(self.base_image)})


def describe_settings() -> str:
    """One line per setting: variable, default, help."""
    lines = []
    for name, field in Settings.model_fields.items():
        if name == "sandbox":
            for sub, sf in SandboxConfig.model_fields.items():
                lines.append(f"  CLARIFY_SANDBOX__{sub.upper():<22} {sf.description} (default: {sf.default!r})")
            continue
        if name == "oidc":
            for sub, sf in OidcSettings.model_fields.items():
                value = sf.get_default(call_default_factory=True)
                default = ",".join(value) or "empty" if isinstance(value, list) else value
                default = "unset" if default is None else default
                lines.append(f"  CLARIFY_OIDC__{sub.upper():<25} {sf.description} (default: {default})")
            continue
        if name == "assistant":
            for sub, sf in AssistantSettings.model_fields.items():
                value = sf.get_default(call_default_factory=True)
                default = (",".join(value) or "empty") if isinstance(value, list) else value
                default = "unset" if default is None else default
                lines.append(f"  CLARIFY_ASSISTANT__{sub.upper():<20} {sf.description} (default: {default})")
            continue
        default = field.default if field.default is not None else "unset"
        lines.append(f"  CLARIFY_{name.upper():<31} {field.description} (default: {default})")
    return "\n".join(lines)
