"""The entry classifier: a softmax regression from a query's embedding to the FAQ entries.

Nearest-neighbour search only looks at single variants; a linear classifier over the frozen
embeddings, trained on all variants of all entries, learns which directions of the embedding
space separate neighbouring entries (the "card arrived" vs "card not arrived" kind), and its
probability is a useful confidence for deciding when to escalate. It is refit at every index
build (full-batch L-BFGS on the variant vectors, part of the build times in bench/RESULTS.md)
and stored in the index version as :data:`FILE_NAME`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# sklearn's C: the inverse strength of the L2 penalty, chosen on banking77 development rows.
DEFAULT_C = 10.0
MAX_ITERATIONS = 100
# The classifier's file in an index version. "head" is the module's former name; the file keeps
# it so that the versions already built on operators' disks load as they are (another name would
# be another index format: store.FORMAT_VERSION).
FILE_NAME = "head.npz"


@dataclass(frozen=True)
class EntryClassifier:
    """One weight column and one bias per entry, in the order of the index's entries."""

    weights: np.ndarray  # (dimension, entries)
    bias: np.ndarray  # (entries,)

    @classmethod
    def train(
        cls, vectors: np.ndarray, labels: np.ndarray, entries: int, c: float = DEFAULT_C
    ) -> EntryClassifier:
        """Fit softmax regression of ``labels`` (entry positions) on unit ``vectors``."""
        import torch

        x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(*fit_softmax(x, np.asarray(labels, dtype=np.int64), entries, c))

    def probabilities(self, query_vector: np.ndarray) -> np.ndarray:
        """Softmax over entries for one (d,) or (1, d) query vector."""
        logits: np.ndarray = (
            np.asarray(query_vector, dtype=np.float32).reshape(-1) @ self.weights + self.bias
        )
        logits -= logits.max()
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum())

    def save(self, directory: Path) -> None:
        """Write the classifier into the index version being built in ``directory``."""
        np.savez(directory / FILE_NAME, weights=self.weights, bias=self.bias)

    @classmethod
    def load(cls, directory: Path) -> EntryClassifier:
        """Read the classifier of the index version in ``directory`` (:meth:`save`)."""
        with np.load(directory / FILE_NAME) as data:
            return cls(data["weights"], data["bias"])


def fit_softmax(
    x: Any,
    labels: np.ndarray,
    entries: int,
    c: float = DEFAULT_C,
    max_iterations: int = MAX_ITERATIONS,
    history: int = 20,
) -> tuple[np.ndarray, np.ndarray]:
    """(weights, bias) of an L2-penalised softmax regression of ``labels`` on the rows of
    ``x`` (a dense or sparse torch tensor), by full-batch L-BFGS."""
    import torch

    y = torch.from_numpy(labels)
    weights = torch.zeros(x.shape[1], entries, requires_grad=True)
    bias = torch.zeros(entries, requires_grad=True)
    penalty = 1.0 / (2.0 * c * x.shape[0])
    multiply = torch.sparse.mm if x.is_sparse else torch.matmul
    optimizer = torch.optim.LBFGS(
        [weights, bias],
        lr=1.0,
        max_iter=max_iterations,
        history_size=history,
        line_search_fn="strong_wolfe",
    )

    def loss() -> torch.Tensor:
        optimizer.zero_grad()
        value: torch.Tensor = torch.nn.functional.cross_entropy(multiply(x, weights) + bias, y)
        value = value + penalty * (weights * weights).sum()
        value.backward()
        return value

    # One thread: the problem is small (variants x features x entries) and L-BFGS makes many
    # tiny steps; two threads on two busy cores spend their time waiting for each other,
    # many times slower than one (bench/RESULTS.md).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        optimizer.step(loss)
    finally:
        torch.set_num_threads(threads)
    return weights.detach().numpy().copy(), bias.detach().numpy().copy()
