"""Application settings from environment variables, with defaults that work on a laptop."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _random_token() -> SecretStr:
    return SecretStr(secrets.token_urlsafe(24))


class Settings(BaseSettings):
    """``Settings()`` reads the environment (and a ``.env`` file if present)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    host: str = Field("127.0.0.1", validation_alias="BOT_HOST")
    rasa_port: int = 5005
    action_port: int = 5055
    # Protects Rasa's HTTP API; a random one is made per run when none is set.
    rasa_api_token: SecretStr = Field(default_factory=lambda: _random_token())
    rasa_model: Path | None = None
    rasa_venv: Path = Path(".venv-rasa")
    # Logs and the endpoints file of the running servers.
    run_dir: Path = Path("var/run")
    credentials_file: Path = Path("credentials.yml")
    endpoints_file: Path = Path("endpoints.yml")
    startup_timeout: float = 300.0

    @field_validator("rasa_api_token", mode="before")
    @classmethod
    def _token_or_random(cls, value: object) -> object:
        return value or _random_token()

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}"
