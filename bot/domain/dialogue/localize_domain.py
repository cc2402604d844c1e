"""Traditional Chinese variations of the domain's responses, generated from the Simplified ones.

Every response in ``domain.yml`` has a variation conditioned on ``language: zh`` (Simplified
Chinese) and an English default. Rasa picks a variation whose conditions match the slots, so
customers answered in ``zh-TW`` or ``zh-HK`` need variations of their own: this tool writes
them next to each ``zh`` variation, its text and button titles converted with OpenCC (``s2twp``
for Taiwan, ``s2hk`` for Hong Kong; see :mod:`faq_index.chinese`), everything else (payloads,
other conditions) copied. Variations conditioned on ``zh-TW`` or ``zh-HK`` are generated: they
are replaced at every run, so edit the ``zh`` text and run it again::

    .venv/bin/python -m bot.domain.dialogue.localize_domain           # rewrite domain.yml in place
    .venv/bin/python -m bot.domain.dialogue.localize_domain --check   # exit 1 when it is out of date

Only the ``responses:`` section changes, line by line, so comments and the hand-written
layout elsewhere stay as they are.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import yaml

from faq_index.chinese import to_traditional
from vocabulary import TRADITIONAL_LOCALES, Slot

DOMAIN = Path(__file__).resolve().parents[3] / "domain.yml"
SOURCE_LOCALE = "zh"
CONVERTED_KEYS = ("text",)  # of a variation; and the titles of its buttons and quick replies
BUTTON_KEYS = ("buttons", "quick_replies")
_RESPONSE = re.compile(r"^  (?P<name>[A-Za-z0-9_]+):\s*(#.*)?$")
_VARIATION = "    - "
_PLAIN = re.compile(r"^/?[A-Za-z_][A-Za-z0-9_\-]*$")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


class DomainLayoutError(ValueError):
    """``domain.yml`` is not laid out as the tool expects (it names the line)."""


def _language(variation: dict[str, Any]) -> str | None:
    for condition in variation.get("condition") or []:
        if condition.get("type") == "slot" and condition.get("name") == Slot.LANGUAGE.value:
            return str(condition.get("value"))
    return None


def localized_variation(variation: dict[str, Any], locale: str) -> dict[str, Any]:
    """A copy of the ``zh`` ``variation`` for ``locale``: condition, text and button titles.

    >>> zh = {"condition": [{"type": "slot", "name": "language", "value": "zh"}],
    ...       "text": "请选择：", "buttons": [{"title": "转人工客服", "payload": "/request_human"}]}
    >>> hk = localized_variation(zh, "zh-HK")
    >>> hk["condition"][0]["value"], hk["text"], hk["buttons"]
    ('zh-HK', '請選擇：', [{'title': '轉人工客服', 'payload': '/request_human'}])
    """
    localized = copy.deepcopy(variation)
    for condition in localized["condition"]:
        if condition.get("name") == Slot.LANGUAGE.value:
            condition["value"] = locale
    for key in CONVERTED_KEYS:
        if isinstance(localized.get(key), str):
            localized[key] = to_traditional(localized[key], locale)
    for key in BUTTON_KEYS:
        for button in localized.get(key) or []:
            if isinstance(button.get("title"), str):
                button["title"] = to_traditional(button["title"], locale)
    return localized


def _scalar(value: Any) -> str:
    if isinstance(value, str) and _PLAIN.match(value) and value.lower() not in _YAML_WORDS:
        return value
    return json.dumps(value, ensure_ascii=False)  # a JSON scalar is a YAML scalar


def _mapping_lines(mapping: dict[str, Any], indent: int, first: str | None = None) -> list[str]:
    lines = []
    for position, (key, value) in enumerate(mapping.items()):
        prefix = first if position == 0 and first is not None else " " * indent
        if isinstance(value, dict):
            lines += [f"{prefix}{key}:", *_mapping_lines(value, indent + 2)]
        elif isinstance(value, list):
            lines += [f"{prefix}{key}:", *_list_lines(value, indent + 2)]
        else:
            lines.append(f"{prefix}{key}: {_scalar(value)}")
    return lines


def _list_lines(items: list[Any], indent: int) -> list[str]:
    lines = []
    for item in items:
        if isinstance(item, dict):
            lines += _mapping_lines(item, indent + 2, first=" " * indent + "- ")
        else:
            lines.append(" " * indent + "- " + json.dumps(item, ensure_ascii=False))
    return lines


def render_variation(variation: dict[str, Any]) -> list[str]:
    """``variation`` as lines of the responses section, in the domain's hand-written style."""
    return _mapping_lines(variation, 6, first=_VARIATION)


def _split_variations(lines: list[str]) -> list[tuple[str, list[str]]]:
    """A response's lines as ("variation", lines) and ("other", lines) parts, in order."""
    parts: list[tuple[str, list[str]]] = []
    for line in lines:
        inside = line.startswith("      ") or (not line.strip() and parts)
        if line.startswith(_VARIATION):
            parts.append(("variation", [line]))
        elif inside and parts and parts[-1][0] == "variation":
            parts[-1][1].append(line)
        else:
            parts.append(("other", [line]))
    # Blank lines at the end of a variation separate it from what follows: keep them outside.
    separated: list[tuple[str, list[str]]] = []
    for kind, part in parts:
        blank = 0
        while kind == "variation" and blank < len(part) and not part[-1 - blank].strip():
            blank += 1
        separated.append((kind, part[: len(part) - blank]))
        separated += [("other", [line]) for line in part[len(part) - blank :]]
    return separated


def _localize_response(lines: list[str]) -> list[str]:
    output: list[str] = []
    for kind, part in _split_variations(lines):
        if kind == "other":
            output += part
            continue
        variation = yaml.safe_load(textwrap.dedent("\n".join(part)))[0]
        language = _language(variation)
        if language in TRADITIONAL_LOCALES:
            continue  # generated: made again from the zh variation
        output += part
        if language == SOURCE_LOCALE:
            for locale in TRADITIONAL_LOCALES:
                output += render_variation(localized_variation(variation, locale))
    return output


def localize(domain_text: str) -> str:
    """``domain_text`` with every response's Traditional variations made from its ``zh`` ones.

    Raises:
        DomainLayoutError: there is no top-level ``responses:`` section.
    """
    lines = domain_text.split("\n")
    try:
        start = lines.index("responses:") + 1
    except ValueError:
        raise DomainLayoutError("domain.yml has no top-level 'responses:' line") from None
    end = next(
        (i for i in range(start, len(lines)) if lines[i][:1] not in ("", " ", "#")), len(lines)
    )
    output = lines[:start]
    response: list[str] = []
    for line in lines[start:end]:
        if _RESPONSE.match(line):
            output += _localize_response(response)
            output.append(line)
            response = []
        else:
            response.append(line)
    output += _localize_response(response)
    return "\n".join(output + lines[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.domain.dialogue.localize_domain", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--domain", type=Path, default=DOMAIN, help="default: %(default)s")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    current = args.domain.read_text(encoding="utf-8")
    wanted = localize(current)
    if wanted == current:
        print(f"{args.domain}: the Traditional Chinese responses are up to date", file=sys.stderr)
        return 0
    if args.check:
        print(
            f"{args.domain}: the Traditional Chinese responses are out of date: run "
            "`.venv/bin/python -m bot.domain.dialogue.localize_domain`",
            file=sys.stderr,
        )
        return 1
    args.domain.write_text(wanted, encoding="utf-8")
    print(f"{args.domain}: Traditional Chinese responses written", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
