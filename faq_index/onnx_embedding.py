"""Sentence embeddings with ONNX Runtime, from an export of the sentence-transformers model.

:class:`OnnxEmbedder` gives the vectors :class:`~faq_index.embedding.Embedder` gives, faster:
for queries (:meth:`OnnxEmbedder.encode_query`: one short text on one thread, where PyTorch's
per-call overhead dominates) and for index builds (:meth:`OnnxEmbedder.encode`: batches on every
core). Both runtimes are measured in one run in bench/RESULTS.md. :func:`load_onnx_embedder`
checks that ONNX Runtime and PyTorch give the same vector before either use; when they do not,
or the model cannot be exported, PyTorch keeps doing the work.

The export (once per model) is written into the ONNX cache directory
(:attr:`SearchSettings.onnx_cache_dir <faq_index.settings.SearchSettings.onnx_cache_dir>`),
keyed by the model and the library versions that shape the graph, so every index version and
process shares it:

>>> onnx = load_onnx_embedder(model, SearchSettings().onnx_cache_dir)  # doctest: +SKIP
>>> onnx.encode_query("where is my parcel?").shape  # doctest: +SKIP
(1, 384)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

if TYPE_CHECKING:
    import torch
    from onnxruntime import InferenceSession
    from sentence_transformers import SentenceTransformer
    from transformers import PreTrainedModel

log = logging.getLogger(__name__)

GRAPH_FILE = "model.onnx"
PROBE = "Where is my parcel? 我的包裹在哪里？"
MIN_PROBE_COSINE = 0.9999
POOLING_MODES = ("mean", "cls")


class UnsupportedModel(Exception):
    """The model's pipeline is not one this module reproduces (it then stays on PyTorch)."""


class OnnxEmbedder:
    """Tokenise with the model's own preprocessing, run the transformer in ONNX Runtime, pool."""

    def __init__(
        self,
        model: SentenceTransformer,
        session: InferenceSession,
        pooling: str,
        normalize: bool,
        path: Path,
    ) -> None:
        self._model = model
        self._session = session
        self._path = path
        self._batch_session: InferenceSession | None = None
        self._inputs = [i.name for i in session.get_inputs()]
        self._pooling = pooling
        self._normalize = normalize
        self._lock = threading.Lock()  # the tokenizer is not safe to call from several threads

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one text (a query) as a (1, d) float32 row, unit length when the model
        normalises; on one thread."""
        return self._run(self._session, [text])

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Embed many texts (an index build) in batches of similar length, on every core."""
        with self._lock:
            if self._batch_session is None:
                self._batch_session = _session(self._path, threads=os.cpu_count() or 1)
        order = np.argsort([len(text) for text in texts], kind="stable")
        batches = [
            self._run(self._batch_session, [texts[i] for i in order[start : start + batch_size]])
            for start in range(0, len(texts), batch_size)
        ]
        vectors = np.concatenate(batches) if batches else np.zeros((0, 0), np.float32)
        vectors[order] = vectors.copy()
        return np.ascontiguousarray(vectors)

    def _run(self, session: InferenceSession, texts: list[str]) -> np.ndarray:
        with self._lock:
            features = self._model.preprocess(texts)
        feed = {name: features[name].numpy().astype(np.int64) for name in self._inputs}
        hidden = session.run(None, feed)[0]
        if self._pooling == "cls":
            vector = hidden[:, 0]
        else:
            mask = feed["attention_mask"][..., None].astype(np.float32)
            vector = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        if self._normalize:
            vector = vector / np.maximum(np.linalg.norm(vector, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(vector, dtype=np.float32)


def load_onnx_embedder(
    model: SentenceTransformer, cache_dir: str | Path, export: bool = True
) -> OnnxEmbedder | None:
    """An ONNX embedder for ``model`` (a SentenceTransformer), exported into ``cache_dir`` if
    needed (with ``export=False``: None unless an export is there already).

    Returns None, after logging why, when the model cannot be exported or its ONNX output differs
    from PyTorch's; the caller then keeps embedding with PyTorch.
    """
    try:
        pooling, normalize = _pipeline(model)
        directory = Path(cache_dir) / _cache_key(model)
        if not (directory / GRAPH_FILE).exists():
            if not export:
                return None
            _export(model, directory)
        graph = directory / GRAPH_FILE
        embedder = OnnxEmbedder(model, _session(graph), pooling, normalize, graph)
        expected = model.encode(
            [PROBE], convert_to_numpy=True, normalize_embeddings=normalize, show_progress_bar=False
        )
        got = embedder.encode_query(PROBE)
        cosine = float(got[0] @ expected[0]) / max(
            float(np.linalg.norm(got[0]) * np.linalg.norm(expected[0])), 1e-12
        )
        if cosine < MIN_PROBE_COSINE:
            raise UnsupportedModel(f"ONNX output differs from PyTorch's (cosine {cosine:.6f})")
        return embedder
    except Exception as exc:  # any failure leaves embedding on the PyTorch path, which always works
        log.warning("queries stay on PyTorch: no ONNX embedder (%s)", exc)
        return None


def _pipeline(model: SentenceTransformer) -> tuple[str, bool]:
    """(pooling mode, normalises) for Transformer -> Pooling [-> Normalize] pipelines."""
    names = [type(module).__name__ for module in model]
    if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise UnsupportedModel(f"pipeline {names} is not Transformer, Pooling[, Normalize]")
    pooling = getattr(model[1], "pooling_mode", None)
    if pooling not in POOLING_MODES:
        raise UnsupportedModel(f"pooling mode {pooling!r} is not one of {POOLING_MODES}")
    return pooling, len(names) == 3


def _cache_key(model: SentenceTransformer) -> str:
    import onnxruntime
    import torch
    import transformers

    transformer = _transformer(model)
    described = {
        "config": transformer.config.to_dict(),
        "weights": _weights_digest(transformer),
        "versions": [torch.__version__, transformers.__version__, onnxruntime.__version__],
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()[
        :16
    ]


def _transformer(model: SentenceTransformer) -> PreTrainedModel:
    """The Hugging Face model inside ``model``'s first module (a Transformer, :func:`_pipeline`)."""
    # torch types a submodule's attributes as ``Tensor | Module``; this one is the model.
    return cast("PreTrainedModel", model[0].auto_model)


def _weights_digest(transformer: torch.nn.Module) -> str:
    # A cheap fingerprint of the weights: shapes and a few values of every tensor.
    digest = hashlib.sha256()
    for name, tensor in transformer.state_dict().items():
        flat = tensor.detach().reshape(-1)
        digest.update(f"{name}{tuple(tensor.shape)}".encode())
        digest.update(flat[:: max(1, flat.numel() // 16)].float().numpy().tobytes())
    return digest.hexdigest()


def _export(model: SentenceTransformer, directory: Path) -> None:
    """Export the transformer into ``directory``, staged in a temporary directory beside it."""
    import torch

    transformer = _transformer(model).eval()
    sample = model.preprocess([PROBE])
    with_token_types = "token_type_ids" in sample

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor | None = None,
        ) -> torch.Tensor:
            output: torch.Tensor = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            return output

    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if with_token_types else [])

    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=directory.parent))
    try:
        batch, length = torch.export.Dim("batch"), torch.export.Dim("length")
        with torch.no_grad(), warnings.catch_warnings():
            # The exporter notes that the inputs share their batch and length axes: they do.
            warnings.filterwarnings("ignore", message=".*axis name.*", category=UserWarning)
            torch.onnx.export(
                LastHiddenState().eval(),
                tuple(sample[n] for n in names),
                str(staging / GRAPH_FILE),
                dynamo=True,
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_shapes={name: {0: batch, 1: length} for name in names},
                verbose=False,
            )
        staging.chmod(0o755)
        try:
            os.rename(staging, directory)
        except OSError:
            if not (directory / GRAPH_FILE).exists():  # not a concurrent export winning the race
                raise
        else:
            log.info("exported the model to ONNX in %s", directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _session(path: Path, threads: int = 1) -> InferenceSession:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # Queries: one at a time on one thread (a second only adds synchronisation on busy shared
    # cores). Builds: every core, with idle threads sleeping rather than spinning.
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if threads > 1:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
