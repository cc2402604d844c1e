"""Train Rasa 3.6's ResponseSelector on FAQ variants and rank the entries for queries.

Runs in the Rasa environment (``.venv-rasa``, Python 3.10), from the repository's root;
``bench.retrieval`` calls it::

    .venv-rasa/bin/python -m bench.rasa_selector --train train.json --queries queries.json \\
        --out preds.json [--epochs 100] [--seed 13]

``train.json`` is ``{"entries": {"<id>": ["variant", ...]}}``, ``queries.json`` a list of texts.
The output is ``{"train_seconds": s, "predictions": [[id, ...top 10], ...], "latency_ms": [...]}``.

Each entry becomes the retrieval intent ``faq/<id>`` with its variants as examples and the
response ``utter_faq/<id>``. The pipeline is Rasa's usual FAQ setup (whitespace tokens, word and
char_wb 1-4 count vectors, ResponseSelector for ``faq``) without an intent classifier: every
example belongs to the one intent ``faq`` (DIET skips training with a single intent), so only
the ResponseSelector ranks. ``train_seconds`` is the wall time of ``train_nlu`` (Rasa's import
time excluded); ``latency_ms`` is one ``Agent.parse_message`` call per query, after a warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import tempfile
import time
from pathlib import Path

import yaml

# Rasa (and TensorFlow with it) is imported inside the functions below, after these are set.
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TOP_N = 10
WARMUP_QUERIES = 5  # parsed untimed first, like the in-process methods of retrieval.py
RETRIEVAL_INTENT = "faq"


def pipeline_config(epochs: int, seed: int) -> dict:
    """Rasa's FAQ pipeline: bag of words and char n-grams into a ResponseSelector."""
    return {
        "recipe": "default.v1",
        "assistant_id": "faq-bench",
        "language": "en",
        "pipeline": [
            {"name": "WhitespaceTokenizer"},
            {"name": "LexicalSyntacticFeaturizer"},
            {"name": "CountVectorsFeaturizer"},
            {
                "name": "CountVectorsFeaturizer",
                "analyzer": "char_wb",
                "min_ngram": 1,
                "max_ngram": 4,
            },
            {
                "name": "ResponseSelector",
                "retrieval_intent": RETRIEVAL_INTENT,
                "epochs": epochs,
                "constrain_similarities": True,
                "random_seed": seed,
            },
        ],
        "policies": [],
    }


def write_project(entries: dict[str, list[str]], directory: Path, epochs: int, seed: int) -> None:
    """Write config.yml, domain.yml and nlu.yml for ``entries`` into ``directory``."""
    responses = {
        f"utter_{RETRIEVAL_INTENT}/{entry_id}": [{"text": entry_id}] for entry_id in entries
    }
    nlu = [
        {
            "intent": f"{RETRIEVAL_INTENT}/{entry_id}",
            "examples": "".join(f"- {' '.join(text.split())}\n" for text in variants),
        }
        for entry_id, variants in entries.items()
    ]
    files = {
        "config.yml": pipeline_config(epochs, seed),
        "domain.yml": {"version": "3.1", "intents": [RETRIEVAL_INTENT], "responses": responses},
        "nlu.yml": {"version": "3.1", "nlu": nlu},
    }
    for name, content in files.items():
        text = yaml.safe_dump(content, allow_unicode=True, sort_keys=False, width=1_000_000)
        (directory / name).write_text(text, encoding="utf-8")


def quiet_rasa() -> None:
    """Warnings only: by default Rasa logs a debug line for every parsed message."""
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


def train(directory: Path) -> tuple[str, float]:
    """Train the NLU model of the project in ``directory``; the archive path and the seconds."""
    from rasa.model_training import train_nlu

    started = time.perf_counter()
    model = train_nlu(
        config=str(directory / "config.yml"),
        nlu_data=str(directory / "nlu.yml"),
        output=str(directory / "models"),
        domain=str(directory / "domain.yml"),
    )
    seconds = time.perf_counter() - started
    if not model:
        raise RuntimeError("Rasa trained no model (see its output above)")
    return model, seconds


def ranked_ids(parsed: dict) -> list[str]:
    """The entry ids of the ResponseSelector's ranking in a parse result, best first."""
    ranking = parsed["response_selector"][RETRIEVAL_INTENT]["ranking"]
    prefix = f"{RETRIEVAL_INTENT}/"
    return [item["intent_response_key"].removeprefix(prefix) for item in ranking[:TOP_N]]


async def predict(model: str, queries: list[str]) -> tuple[list[list[str]], list[float]]:
    """Rank the entries for each query, one parse at a time; rankings and latencies (ms)."""
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    for query in queries[:WARMUP_QUERIES]:
        await agent.parse_message(query)
    predictions, latencies = [], []
    for query in queries:
        started = time.perf_counter()
        parsed = await agent.parse_message(query)
        latencies.append((time.perf_counter() - started) * 1000)
        predictions.append(ranked_ids(parsed))
    return predictions, latencies


def run(entries: dict[str, list[str]], queries: list[str], epochs: int, seed: int) -> dict:
    """Train on ``entries`` in a temporary project and rank the entries for ``queries``."""
    home = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="rasa-selector-") as tmp:
        directory = Path(tmp)
        # Work inside the temporary project, so that Rasa neither writes its .rasa/ directory
        # nor runs git in the caller's checkout, with a private cache: a cache hit from an
        # earlier run would make training look instant.
        os.chdir(directory)
        os.environ["RASA_CACHE_DIRECTORY"] = str(directory / "cache")
        try:
            quiet_rasa()
            write_project(entries, directory, epochs, seed)
            model, seconds = train(directory)
            predictions, latencies = asyncio.run(predict(model, queries))
        finally:
            os.chdir(home)
    return {"train_seconds": seconds, "predictions": predictions, "latency_ms": latencies}


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.rasa_selector", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--train", type=Path, required=True, help='{"entries": {id: [variants]}}')
    parser.add_argument("--queries", type=Path, required=True, help="JSON list of query texts")
    parser.add_argument("--out", type=Path, required=True, help="where to write the predictions")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    entries = json.loads(args.train.read_text(encoding="utf-8"))["entries"]
    queries = json.loads(args.queries.read_text(encoding="utf-8"))
    output = run(entries, queries, args.epochs, args.seed)
    args.out.write_text(json.dumps(output, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
