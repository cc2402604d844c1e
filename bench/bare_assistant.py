"""The natural baseline for the load benchmark: a bare Rasa assistant with our NLU pipeline and
training data, whose rules only utter a response per intent (no action server, no FAQ search,
no database, Rasa's plain REST channel, trackers in memory).

It is generated from ``config.yml``, ``domain.yml``'s intents and entities and
``data/nlu.yml`` into ``var/bench/bare/`` and trained there once per input (the model's name
is a digest of its inputs, as ``make train`` names ours):

    with bare_assistant(port=18905) as url:
        ...  # POST {url}/webhooks/rest/webhook
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import yaml

from bot.runtime.processes import ManagedProcess, ServiceSpec

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "var" / "bench" / "bare"
RASA = REPO / ".venv-rasa" / "bin" / "rasa"
FALLBACK = "nlu_fallback"


def bare_project() -> tuple[str, str]:
    """The bare assistant's domain and rules (YAML): one response per intent, one rule each."""
    domain = yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))
    intents = [i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]]
    bare_domain = {
        "version": "3.1",
        "intents": intents,
        "entities": domain.get("entities", []),
        "responses": {f"utter_{i}": [{"text": f"ok: {i}"}] for i in [*intents, FALLBACK]},
        "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
    }
    rules = {
        "version": "3.1",
        "rules": [
            {"rule": f"answer {i}", "steps": [{"intent": i}, {"action": f"utter_{i}"}]}
            for i in [*intents, FALLBACK]
        ],
    }
    return yaml.safe_dump(bare_domain, allow_unicode=True), yaml.safe_dump(
        rules, allow_unicode=True
    )


def trained_model() -> Path:
    """The bare model for today's config and NLU data, trained when there is none yet."""
    domain, rules = bare_project()
    config = (REPO / "config.yml").read_bytes()
    nlu = (REPO / "data" / "nlu.yml").read_bytes()
    digest = hashlib.sha256(config + nlu + domain.encode() + rules.encode()).hexdigest()[:16]
    model = WORK / "models" / f"{digest}.tar.gz"
    if model.is_file():
        return model
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "domain.yml").write_text(domain, encoding="utf-8")
    (WORK / "rules.yml").write_text(rules, encoding="utf-8")
    subprocess.run(
        [
            str(RASA),
            "train",
            "--config",
            "config.yml",
            "--domain",
            str(WORK / "domain.yml"),
            "--data",
            "data/nlu.yml",
            str(WORK / "rules.yml"),
            "--out",
            str(WORK / "models"),
            "--fixed-model-name",
            digest,
        ],
        cwd=REPO,
        check=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
    )
    return model


@contextlib.contextmanager
def bare_assistant(port: int, host: str = "127.0.0.1") -> Iterator[str]:
    """Run the bare assistant on ``port``; its URL while the block runs."""
    model = trained_model()
    credentials = WORK / "credentials.yml"
    credentials.write_text("rest: {}\n", encoding="utf-8")
    endpoints = WORK / "endpoints.yml"  # not the project's (an action server, our stores)
    endpoints.write_text("lock_store:\n  type: in_memory\n", encoding="utf-8")
    url = f"http://{host}:{port}"
    spec = ServiceSpec(
        name="bare-rasa",
        command=[
            str(RASA),
            "run",
            "--model",
            str(model),
            "--interface",
            host,
            "--port",
            str(port),
            "--credentials",
            str(credentials),
            "--endpoints",
            str(endpoints),
            "--enable-api",
        ],
        ready_url=f"{url}/status",
        log_path=WORK / "rasa.log",
        env={"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    process = ManagedProcess(spec)
    process.start()
    try:
        process.wait_ready(300)
        yield url
    finally:
        process.stop()
