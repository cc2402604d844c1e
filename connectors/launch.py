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
same schema, the same errors. With ``SERVING_LOCK`` set, the server serves only while it
holds that lock, and stands by, loaded, until then (:mod:`connectors.standby`). Imports only the
standard library, Rasa and what Rasa uses.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from connectors.standby import LOCK_ENV, WARM_UP_TEXT, wait_to_serve

logger = logging.getLogger(__name__)

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


def serve_only_with_the_lock(lock_path: str) -> None:
    """Make Rasa's server load its model, answer :data:`~connectors.standby.WARM_UP_TEXT`, and
    take the serving lock before it opens its port, waiting for it, loaded, while another
    server holds it (:mod:`connectors.standby`).

    Rasa loads its agent in a ``before_server_start`` listener
    (``rasa.core.run.load_agent_on_start``), which Sanic runs before it binds the port; this
    wraps that listener.
    """
    import rasa.core.run as rasa_run

    load_agent = rasa_run.load_agent_on_start

    async def load_then_wait_for_the_lock(*args: Any) -> Any:
        *_, app, loop = args
        agent = await load_agent(*args)
        await agent.parse_message(WARM_UP_TEXT)
        app.ctx.serving_lock = await loop.run_in_executor(
            None, wait_to_serve, lock_path, "Rasa server", logger
        )
        return agent

    rasa_run.load_agent_on_start = load_then_wait_for_the_lock  # type: ignore[assignment]


def main() -> None:
    sys.argv = rasa_arguments(sys.argv[1:], os.environ)
    validate_action_results_once_compiled()
    lock_path = os.environ.get(LOCK_ENV)
    if lock_path:
        serve_only_with_the_lock(lock_path)
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
