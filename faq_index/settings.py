"""Settings of faq_index, read from ``FAQ_*`` environment variables.

The decision thresholds were chosen on development data (see README, "Choosing thresholds",
and ``bench/tune.py``); the defaults below are that choice for the default English model.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from faq_index.embedding import DEFAULT_MODEL
from faq_index.store import DEFAULT_ANN_THRESHOLD


class SearchSettings(BaseSettings):
    """Every knob of indexing and search. ``SearchSettings()`` reads the environment."""

    model_config = SettingsConfigDict(
        env_prefix="FAQ_", env_file=".env", frozen=True, extra="ignore"
    )

    embedding_model: str = DEFAULT_MODEL
    index_dir: Path = Path("var/faq_index")
    ann_threshold: int = Field(DEFAULT_ANN_THRESHOLD, gt=0)

    # Fused score = w * dense + (1 - w) * lexical, with w chosen by the query's language.
    dense_weight_en: float = Field(0.8, ge=0, le=1)
    dense_weight_zh: float = Field(0.3, ge=0, le=1)

    # answer: top score >= answer_threshold and ahead of the second by clarify_margin;
    # clarify: top score >= clarify_threshold otherwise; escalate: below clarify_threshold.
    answer_threshold: float = Field(0.62, ge=0, le=1)
    clarify_threshold: float = Field(0.42, ge=0, le=1)
    clarify_margin: float = Field(0.04, ge=0, le=1)

    max_query_chars: int = Field(1000, gt=0)
    reload_interval: float = Field(2.0, gt=0)

    def dense_weight(self, language: str) -> float:
        return self.dense_weight_zh if language == "zh" else self.dense_weight_en
