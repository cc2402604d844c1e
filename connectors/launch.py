"""``python -m connectors.launch run ...``: Rasa's command line, with the HTTP API's token taken
from the environment.

``rasa run --auth-token TOKEN`` puts the token in the process's argv, which every user of the
machine can read (``ps``, ``/proc/<pid>/cmdline``). This launcher, run with Rasa's venv python,
reads ``RASA_API_TOKEN`` from its environment (readable by the owner only), adds it to the
arguments inside the process and calls Rasa's own entry point, as the ``rasa`` script does.
The process's argv stays without it. Imports only the standard library and Rasa.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

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


def main() -> None:
    sys.argv = rasa_arguments(sys.argv[1:], os.environ)
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
