"""Rasa's launcher puts the API token into Rasa's arguments from the environment only, and
checks the action server's replies as Rasa does, with the schema compiled once."""

from __future__ import annotations

import pytest

from connectors.launch import rasa_arguments
from tests.support.rasa_python import run_under_rasa


def test_the_token_comes_from_the_environment():
    args = rasa_arguments(["run", "--enable-api"], {"RASA_API_TOKEN": "s3cret"})
    assert args == ["rasa", "run", "--enable-api", "--auth-token", "s3cret"]


def test_without_a_token_rasa_gets_none():
    assert rasa_arguments(["run"], {}) == ["rasa", "run"]


@pytest.mark.parametrize("given", [["--auth-token", "x"], ["--auth-token=x"]])
def test_a_token_on_the_command_line_is_refused(given):
    with pytest.raises(SystemExit, match="RASA_API_TOKEN"):
        rasa_arguments(["run", *given], {"RASA_API_TOKEN": "s3cret"})


CHECK_REPLIES = """
import json
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from connectors.launch import validate_action_results_once_compiled

validate_action_results_once_compiled()
action = RemoteAction("action_answer_faq", None)
valid = {"events": [{"event": "slot", "name": "language", "value": "en"}],
         "responses": [{"text": "Hello", "buttons": []}]}
verdicts = [action._validate_action_result(valid)]
for invalid in ({"events": [{"name": "no event type"}]}, {"events": "not a list"}):
    try:
        action._validate_action_result(invalid)
        verdicts.append("accepted")
    except ValidationError as error:
        verdicts.append(error.message)
print(json.dumps(verdicts))
"""


def test_the_action_servers_replies_are_checked_as_rasa_checks_them():
    valid, *invalid = run_under_rasa("-c", CHECK_REPLIES)
    assert valid is True
    assert len(invalid) == 2
    assert all("Failed to validate Action server response" in message for message in invalid)
