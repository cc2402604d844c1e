"""Scenarios run under Rasa's python (``.venv-rasa``, Python 3.10), for tests of code that runs
inside Rasa, which the test venv does not have.

A scenario is a script (often the test module itself, run as ``__main__``) or code for ``-c``.
It prints what it saw as one JSON document on the last line of its standard output, and
:func:`run_under_rasa` hands that document to the test. The scenario runs from the repository's
root with the repository importable (``PYTHONPATH``), as Rasa runs the connectors.

Test modules that are also scenario scripts import this module under Rasa's python, which has no
pytest: only the functions that skip or fail a test import it.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

REPO = Path(__file__).resolve().parents[2]
RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"
NO_RASA_VENV = "no Rasa venv (.venv-rasa): run make setup"
TIMEOUT_SECONDS = 120.0


def skip_without_rasa() -> None:
    """Skip the calling test when Rasa's venv is missing.

    :func:`run_under_rasa` does it too; call this first when the test would otherwise set
    something up (a queue, a server) before it runs the scenario.

    Raises:
        pytest.skip.Exception: ``.venv-rasa`` has no python (``make setup`` builds it).
    """
    import pytest

    if not RASA_PYTHON.exists():
        pytest.skip(NO_RASA_VENV)


def run_under_rasa(
    *argv: str, env: Mapping[str, str] | None = None, timeout: float = TIMEOUT_SECONDS
) -> Any:
    """Run a scenario under Rasa's python and return the JSON of its last line of output.

    Args:
        argv: Rasa's python's arguments: a script's path and its arguments (``__file__, db``),
            or ``"-c"``, the code and its arguments.
        env: variables set for the scenario over the test's environment (``PYTHONPATH`` is the
            repository's root unless given here).
        timeout: seconds the scenario may take (default :data:`TIMEOUT_SECONDS`).

    Returns:
        The document on the last line of the scenario's standard output.

    Raises:
        pytest.skip.Exception: Rasa's venv is missing (see :func:`skip_without_rasa`).
        pytest.fail.Exception: the scenario exited with an error, ran out of time or printed no
            JSON last; the message holds its command and both its outputs.
    """
    skip_without_rasa()
    command = [str(RASA_PYTHON), *argv]
    try:
        done = subprocess.run(
            command,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as expired:
        _fail(command, f"did not finish within {timeout} s", expired.stdout, expired.stderr)
    if done.returncode != 0:
        _fail(command, f"exited with {done.returncode}", done.stdout, done.stderr)
    lines = done.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        _fail(command, "printed no JSON on its last line", done.stdout, done.stderr)


def _fail(
    command: list[str], what: str, stdout: str | bytes | None, stderr: str | bytes | None
) -> NoReturn:
    import pytest

    def text(output: str | bytes | None) -> str:
        return output.decode(errors="replace") if isinstance(output, bytes) else output or ""

    pytest.fail(
        f"the scenario under Rasa's python {what}: {shlex.join(command)}\n"
        f"--- stdout ---\n{text(stdout)}\n--- stderr ---\n{text(stderr)}",
        pytrace=False,
    )
