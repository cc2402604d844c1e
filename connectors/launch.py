"""``python -m connectors.launch run ...``: Rasa's command line, with the HTTP API's token taken
from the environment, and the action server's replies checked against a schema compiled once.

``rasa run --auth-token TOKEN`` puts the token in the process's argv, which every user of the
machine can read (``ps``, ``/proc/<pid>/cmdline``). This launcher, run with Rasa's venv python,
reads ``RASA_API_TOKEN`` from its environment (readable by the owner only), adds it to the
arguments inside the process and calls Rasa's own entry point, as the ``rasa`` script does.
The process's argv stays without it.

Rasa checks every reply of the action server with ``jsonschema.validate``, which first checks
the schema itself against JSON Schema's meta-schema: about 40 ms a call, two calls a turn, a
quarter of the Rasa server's time under load (bench/load.py, profiled with py-spy).
:func:`validate_action_results_once_compiled` checks them against a validator made once: the
same schema, the same errors. Imports only the standard library, Rasa and what Rasa uses.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

TOKEN_ENV = "RASA_API_TOKEN"


def rasa_arguments(given: list[str], environ: Mapping[str, str]) -> list[str]:
    """Rasa's ``sys.argv``: ``given``, plus ``--auth-token`` from ``environ`` when set.

    >>> rasa_arguments(["run", "--enable-api"], {"RASA_API_TOKEN": "t"})
    ['rasa', 'run', '--enable-api', '--auth-token', 't']

    Raises:
        SystemExit: the token was given on the command line, where it must never be.
    """
    if any(arg == "--auth-token" or arg.startswith("--auth-token=") for arg in given):
        raise SystemExit(f"give Rasa's API token in {TOKEN_ENV}, not on the command line")
    token = environ.get(TOKEN_ENV, "")
    return ["rasa", *given, *(["--auth-token", token] if token else [])]


def validate_action_results_once_compiled() -> None:
    """Rasa's check of the action server's replies, with the schema compiled once.

    A valid reply is accepted without Rasa's ``jsonschema.validate``; an invalid one goes to
    Rasa's own check, which raises its error and message.
    """
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    rasa_check = RemoteAction._validate_action_result

    def check(action: RemoteAction, result: dict[str, Any]) -> bool:
        if best_match(validator.iter_errors(result)) is None:
            return True
        return rasa_check(action, result)

    RemoteAction._validate_action_result = check  # type: ignore[assignment]


def main() -> None:
    sys.argv = rasa_arguments(sys.argv[1:], os.environ)
    validate_action_results_once_compiled()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
