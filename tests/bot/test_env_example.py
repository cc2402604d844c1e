"""`.env.example` is where an operator learns the settings: it must name every one of them."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_every_setting_is_in_env_example():
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))
    assert set(Settings.variables().values()) - listed == set()


def test_env_example_names_no_setting_that_does_not_exist():
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))
    known = set(Settings.variables().values())
    # Read by other parts than the application's settings: the search library, the Makefile.
    others = {name for name in listed if name.startswith("FAQ_") or name.startswith("PYTHON3")}
    assert listed - known - others == set()


def test_env_example_lists_each_setting_under_its_sections_header():
    where: dict[str, str | None] = {}
    header = None
    for line in ENV_EXAMPLE.read_text().splitlines():
        if found := re.match(r"^# --- (\w+)", line):
            header = found[1]
        elif found := re.match(r"^#?\s*([A-Z][A-Z0-9_]+)=", line):
            where[found[1]] = header
    expected = {
        variable: section
        for section, model in Settings.sections().items()
        for variable in model.variables().values()
    }
    assert {variable: where.get(variable) for variable in expected} == expected


def test_env_example_gives_the_search_settings_their_defaults():
    # Copying .env.example to .env must not undo a retuning of the search (FAQ_*_ZH once kept
    # the values from before the Chinese entry classifier, which turned it off).
    from faq_index import SearchSettings

    listed = dict(re.findall(r"^(FAQ_[A-Z0-9_]+)=(.*)$", ENV_EXAMPLE.read_text(), re.MULTILINE))
    defaults = SearchSettings.model_construct()
    fields = {name for name in SearchSettings.model_fields}
    for variable, value in listed.items():
        name = variable.removeprefix("FAQ_").lower()
        if name not in fields:  # FAQ_SOURCES is the application's (the web service's)
            continue
        default = getattr(defaults, name)
        if isinstance(default, float):
            assert float(value) == default, variable
        elif not isinstance(default, Path):
            assert value == str(default), variable
