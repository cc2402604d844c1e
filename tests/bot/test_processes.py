"""What the supervisor hands Rasa: its credentials file and environment."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.processes import WECHAT_CHANNEL, credentials_for, rasa_server
from bot.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def settings(tmp_path: Path, **values) -> Settings:
    return Settings(credentials_file=REPO / "credentials.yml", run_dir=tmp_path, **values)


def test_the_wechat_channel_is_left_out_without_a_token(tmp_path):
    written = yaml.safe_load(credentials_for(settings(tmp_path), tmp_path / "c.yml").read_text())
    assert WECHAT_CHANNEL not in written
    assert "connectors.socketio.AgentAwareSocketIOInput" in written and "rest" in written


def test_with_a_token_the_channel_is_on_and_its_secrets_stay_in_the_environment(tmp_path):
    chosen = settings(
        tmp_path,
        wechat_token="tok-123",
        wechat_app_id="wx1",
        wechat_app_secret="app-secret-456",
        wechat_encoding_aes_key="k" * 43,
    )
    path = credentials_for(chosen, tmp_path / "c.yml")
    text = path.read_text()
    assert yaml.safe_load(text)[WECHAT_CHANNEL]["token"] == "${WECHAT_TOKEN}"
    for secret in ("tok-123", "app-secret-456", "k" * 43):
        assert secret not in text
    env = rasa_server(chosen, tmp_path / "model.tar.gz", tmp_path / "e.yml", path).env
    assert env["WECHAT_TOKEN"] == "tok-123" and env["WECHAT_APP_SECRET"] == "app-secret-456"
    # Rasa refuses a file naming an unset variable: every one the section names is set
    names = {v[2:-1] for v in yaml.safe_load(text)[WECHAT_CHANNEL].values()}
    assert names <= set(env)
