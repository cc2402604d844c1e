"""The names in vocabulary/__init__.py are the ones the domain and the rules use."""

from __future__ import annotations

from pathlib import Path

import yaml

from vocabulary import EscalationReason, Offer, Slot

REPO = Path(__file__).resolve().parents[1]


def domain() -> dict:
    return yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))


def test_every_slot_is_named_once_in_the_code_and_once_in_the_domain():
    assert {slot.value for slot in Slot} == set(domain()["slots"])


def test_the_offers_are_the_values_of_pending_offer():
    pending = domain()["slots"][Slot.PENDING_OFFER.value]
    assert pending["values"] == [offer.value for offer in Offer]
    assert pending["influence_conversation"] is True  # the rules read it


def test_rules_condition_only_on_known_offers():
    rules = yaml.safe_load((REPO / "data" / "rules.yml").read_text(encoding="utf-8"))["rules"]
    conditions = [
        value
        for rule in rules
        for condition in rule.get("condition", [])
        for slots in condition.get("slot_was_set", [])
        for name, value in slots.items()
        if name == Slot.PENDING_OFFER.value
    ]
    assert set(conditions) == {offer.value for offer in Offer}


def test_escalation_reasons_are_stable_strings():
    # Stored on tickets and shown in the console: renaming one orphans old tickets.
    assert [reason.value for reason in EscalationReason] == [
        "requested",
        "not_found",
        "not_helpful",
        "complaint",
        "clarification_refused",
    ]
