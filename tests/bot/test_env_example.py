"""`.env.example` is where an operator learns the settings: it must name every one of them."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_every_setting_is_in_env_example():
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))
    assert {Settings.variable(name) for name in Settings.model_fields} - listed == set()


def test_env_example_names_no_setting_that_does_not_exist():
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))
    known = {Settings.variable(name) for name in Settings.model_fields}
    # Read by other parts than the application's settings: the search library, the Makefile.
    others = {name for name in listed if name.startswith("FAQ_") or name.startswith("PYTHON3")}
    assert listed - known - others == set()
