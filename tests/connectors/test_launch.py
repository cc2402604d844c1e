"""Rasa's launcher puts the API token into Rasa's arguments from the environment only."""

from __future__ import annotations

import pytest

from connectors.launch import rasa_arguments


def test_the_token_comes_from_the_environment():
    args = rasa_arguments(["run", "--enable-api"], {"RASA_API_TOKEN": "s3cret"})
    assert args == ["rasa", "run", "--enable-api", "--auth-token", "s3cret"]


def test_without_a_token_rasa_gets_none():
    assert rasa_arguments(["run"], {}) == ["rasa", "run"]


@pytest.mark.parametrize("given", [["--auth-token", "x"], ["--auth-token=x"]])
def test_a_token_on_the_command_line_is_refused(given):
    with pytest.raises(SystemExit, match="RASA_API_TOKEN"):
        rasa_arguments(["run", *given], {"RASA_API_TOKEN": "s3cret"})
