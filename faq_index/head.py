"""A linear classifier over the frozen embeddings: one class per FAQ entry.

Nearest-neighbour search only looks at single variants; a softmax regression trained on all
variants of all entries learns which directions of the embedding space separate neighbouring
entries (the "card arrived" vs "card not arrived" kind), and its probability is a useful
confidence for deciding when to escalate. It is refit at every index build: full-batch L-BFGS
on the variant vectors takes seconds for thousands of variants on two cores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

# sklearn's C: the inverse strength of the L2 penalty, chosen on banking77 development rows.
DEFAULT_C = 10.0
MAX_ITERATIONS = 100


@dataclass(frozen=True)
class EntryClassifier:
    weights: np.ndarray  # (dimension, entries)
    bias: np.ndarray  # (entries,)

    @classmethod
    def train(
        cls, vectors: np.ndarray, labels: np.ndarray, entries: int, c: float = DEFAULT_C
    ) -> EntryClassifier:
        """Fit softmax regression of ``labels`` (entry positions) on unit ``vectors``."""
        import torch

        x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
        weights = torch.zeros(x.shape[1], entries, requires_grad=True)
        bias = torch.zeros(entries, requires_grad=True)
        penalty = 1.0 / (2.0 * c * len(x))
        optimizer = torch.optim.LBFGS(
            [weights, bias],
            lr=1.0,
            max_iter=MAX_ITERATIONS,
            history_size=20,
            line_search_fn="strong_wolfe",
        )

        def loss() -> torch.Tensor:
            optimizer.zero_grad()
            value = torch.nn.functional.cross_entropy(x @ weights + bias, y)
            value = value + penalty * (weights * weights).sum()
            value.backward()
            return value

        # One thread: the problem is small (variants x 384 x entries) and L-BFGS makes many
        # tiny steps; two threads on two busy cores spend their time waiting for each other
        # (measured beside another busy process: 17 s with two threads, 0.2 s with one).
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            optimizer.step(loss)
        finally:
            torch.set_num_threads(threads)
        return cls(weights.detach().numpy().copy(), bias.detach().numpy().copy())

    def probabilities(self, query_vector: np.ndarray) -> np.ndarray:
        """Softmax over entries for one (d,) or (1, d) query vector."""
        logits: np.ndarray = (
            np.asarray(query_vector, dtype=np.float32).reshape(-1) @ self.weights + self.bias
        )
        logits -= logits.max()
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum())

    def save(self, directory: Path) -> None:
        np.savez(directory / "head.npz", weights=self.weights, bias=self.bias)

    @classmethod
    def load(cls, directory: Path) -> EntryClassifier:
        with np.load(directory / "head.npz") as data:
            return cls(data["weights"], data["bias"])
