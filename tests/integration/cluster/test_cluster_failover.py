"""Failures under load: while 50 conversations stream REST messages through nginx, one part of
the cluster breaks (kill -9 of a Rasa server, of an action server, of a web service, whose
ingestion holds events it has not acknowledged yet; a restart of RabbitMQ). The conversations
go on through the rest of the cluster, the broken part comes back, and every message a client
was told was accepted (200) is in its customer's profile exactly once, in order.

Each scenario prints what the customers saw (failed answers, sends again, delay) and how long
the part was away.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.support.cluster import ClusterRun
from tests.support.failover import (
    CONVERSATIONS,
    Seen,
    Stream,
    doubled_or_out_of_order,
    stored_messages,
    stream_during,
    what_clients_saw,
)
from tests.support.rabbitmq_node import RabbitMQNode
from tests.support.supervisor import wait_for

pytestmark = pytest.mark.integration

BROKER = "rabbitmq"
SCENARIOS = {
    "rasa-2": pytest.param("rasa-2"),
    "actions-2": pytest.param("actions-2"),
    "web-2": pytest.param("web-2"),
    BROKER: pytest.param(BROKER),
}
# Each scenario takes 0.5-3 minutes on 2 cores (the stream, the part's restart, ingestion
# catching up): `make test` runs the Rasa server's and the action server's; CLUSTER_FAILOVER=all
# (or a comma-separated list) runs others.
CHOSEN = os.environ.get("CLUSTER_FAILOVER", "rasa-2,actions-2")
# Each conversation's first message after the disruption is answered within this long beyond
# the p95 delay before it (on a machine of 2 busy cores, turns alone take seconds). It may
# wait for the lock its conversation had on a killed Rasa server (TICKET_LOCK_LIFETIME), for a
# send again after a 503 (RETRY_AFTER_SECONDS), or for RabbitMQ's confirmation
# (SETTLE_TIMEOUT), or for a send again after a 503 and that turn.
RESUME_WITHIN = 25.0
BACK_WITHIN = 300.0  # a restarted Rasa server loads its model
BACK_AFTER = re.compile(r"back after (?P<seconds>[\d.]+) s")


@dataclass
class Outcome:
    scenario: str
    stream: Stream
    seen: Seen
    stored: dict[str, list[str]]  # what each customer said, as their profile has it
    missing: str  # the accepted messages not in the profiles, described ("" when none)
    stored_after: float  # seconds from the stream's end until all were stored (inf: never)
    back_after: float | None  # seconds the broken part was away (None: not back)
    supervisor: str  # what the supervisor logged meanwhile


def _ingestion_failures(cluster: ClusterRun) -> int:
    """How often the web services' ingestion rolled a batch back (a deadlock between the two,
    a lost connection) and tried again, so far."""
    logs = cluster.run_dir.glob("web-*.log")
    return sum(log.read_text(errors="replace").count("RabbitMQ ingestion failed") for log in logs)


def _disruption(scenario: str, cluster: ClusterRun, broker: RabbitMQNode) -> Callable[[], object]:
    if scenario == BROKER:
        return broker.restart
    return lambda: cluster.kill(scenario)


def _back_after(scenario: str, cluster: ClusterRun, logged_before: int, stream: Stream) -> float:
    """Seconds the broken part was away: as the supervisor counted them for a replica (from
    its death to its first good readiness probe); the restart's for RabbitMQ."""
    if scenario == BROKER:
        return stream.disrupted_for

    def back() -> re.Match[str] | None:
        for line in cluster.supervisor_log()[logged_before:].splitlines():
            if f"{scenario}: back after" in line:
                return BACK_AFTER.search(line)
        return None

    wait_for(lambda: back() is not None, BACK_WITHIN, 1.0)
    found = back()
    assert found is not None
    return float(found["seconds"])


@pytest.fixture(
    scope="module",
    params=[p for name, p in SCENARIOS.items() if CHOSEN == "all" or name in CHOSEN.split(",")],
)
def outcome(request, cluster: ClusterRun, cluster_broker: RabbitMQNode) -> Outcome:
    """One stream of conversations with the scenario's disruption in its middle; then the
    profiles, once ingestion has stored every accepted message (or after 60 s), and the broken
    part back (the next scenario needs the whole cluster)."""
    scenario = request.param
    started = time.monotonic()
    logged_before = len(cluster.supervisor_log())
    failures_before = _ingestion_failures(cluster)
    stream = asyncio.run(stream_during(cluster, _disruption(scenario, cluster, cluster_broker)))
    seen = what_clients_saw(stream)
    stored, missing, stored_after = asyncio.run(stored_messages(cluster, stream))
    back_after: float | None
    try:
        back_after = _back_after(scenario, cluster, logged_before, stream)
    except AssertionError:
        back_after = None
    supervisor = cluster.supervisor_log()[logged_before:]
    print(
        f"\n[{scenario}] {seen.text}\n[{scenario}] "
        f"{missing or f'every accepted message in its profile {stored_after:.0f} s after the end'}"
        f" (ingestion rolled back and retried "
        f"{_ingestion_failures(cluster) - failures_before} batches)\n[{scenario}] back after "
        f"{back_after if back_after is None else round(back_after, 1)} s; scenario took "
        f"{time.monotonic() - started:.0f} s; the supervisor meanwhile:\n{supervisor.strip()}"
    )
    return Outcome(scenario, stream, seen, stored, missing, stored_after, back_after, supervisor)


def test_conversations_go_on_through_the_rest_of_the_cluster(outcome: Outcome):
    seen = outcome.seen
    assert seen.accepted_before >= CONVERSATIONS, f"too little traffic before: {seen.text}"
    assert seen.conversations_on_after == CONVERSATIONS, seen.text
    assert seen.resumed_within <= RESUME_WITHIN + seen.p95_before, seen.text
    if outcome.scenario != BROKER:
        assert f"{outcome.scenario}: killed by SIGKILL" in outcome.supervisor
    if outcome.scenario == "actions-2":
        # nginx passes what the killed server cannot take to the other one (the connection is
        # refused), and the restarted one opens its port only once it answers: no customer
        # sees a failure (before: 7 turns got 503 and one waited 11.6 s on a quiet machine;
        # on a busy one, turns hung for 60 s).
        assert not seen.failed and not seen.resent, seen.text


def test_the_broken_part_comes_back(outcome: Outcome):
    assert outcome.back_after is not None, outcome.supervisor


def test_no_accepted_message_is_doubled_or_out_of_order(outcome: Outcome):
    problems = doubled_or_out_of_order(outcome.stream, outcome.stored)
    assert not problems, "\n".join(problems)


def test_no_accepted_message_is_lost(outcome: Outcome):
    assert not outcome.missing, outcome.missing
