"""Conditional vectors for the tabular GAN: training-by-sampling, and conditions at sample time.

CTGAN (Xu et al., 2019) conditions its generator on one category of one discrete column at a
time, given as a *conditional vector*: the one-hot blocks of all discrete columns side by side,
with a single 1. In training it draws the column uniformly, then the category with probability
proportional to the log of its frequency (so that rare categories are seen often enough to be
learned), and shows the critic real rows that have that category. When sampling without
conditions, the category is drawn with its real frequency instead, so that the generated rows
follow the real distribution.

:class:`ConditionSampler` does both from the encoded discrete codes, with every draw taken from
a ``torch.Generator`` so that training and sampling can be seeded without touching the global
random state.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["ConditionSampler"]


class ConditionSampler:
    """Draw conditional vectors, and real rows that match them.

    Parameters
    ----------
    codes : ndarray of shape (n_rows, n_discrete), dtype int
        Codes of the discrete columns of the training rows, in ``0 .. cardinalities[j] - 1``.
    cardinalities : list of int
        Number of codes of each discrete column (codes never seen get probability 0).

    Attributes
    ----------
    cond_dim : int
        Width of a conditional vector, ``sum(cardinalities)``.
    offsets : list of int
        Where each discrete column's block starts in the conditional vector.
    counts : list of list of int
        Number of rows with each code of each discrete column.
    frequencies : list of ndarray
        Real frequency of each code of each discrete column.
    """

    def __init__(self, codes, cardinalities):
        codes = np.asarray(codes, dtype=np.int64)
        n_rows, n_discrete = codes.shape
        if len(cardinalities) != n_discrete:
            raise ValueError(
                f"codes has {n_discrete} columns but {len(cardinalities)} cardinalities "
                "were given."
            )
        counts = [np.bincount(codes[:, j], minlength=c) for j, c in enumerate(cardinalities)]
        self._set_counts(counts, n_rows)
        # Rows sorted by code, column by column: the rows with code k of column j are
        # _order[j, _starts[j, k] : _starts[j, k] + _counts[j, k]].
        self._order = torch.from_numpy(np.argsort(codes, axis=0, kind="stable").T.copy())
        starts = np.zeros_like(self._counts.numpy())
        starts[:, 1:] = np.cumsum(self._counts.numpy(), axis=1)[:, :-1]
        self._starts = torch.from_numpy(starts)

    @classmethod
    def from_counts(cls, counts):
        """A sampler for sampling time only (no real rows): from each code's row count.

        Parameters
        ----------
        counts : list of list of int
            ``counts[j][k]``: training rows with code ``k`` in discrete column ``j`` (as
            :attr:`counts` gives them).
        """
        sampler = cls.__new__(cls)
        n_rows = int(sum(counts[0])) if counts else 0
        sampler._set_counts([np.asarray(c, dtype=np.int64) for c in counts], n_rows)
        sampler._order = None
        return sampler

    def _set_counts(self, counts, n_rows):
        self.n_rows = n_rows
        self.cardinalities = [len(c) for c in counts]
        self.counts = [c.tolist() for c in counts]
        self.cond_dim = sum(self.cardinalities)
        self.offsets = [int(v) for v in np.cumsum([0, *self.cardinalities])[:-1]]
        width = max(self.cardinalities, default=0)
        padded = np.zeros((len(counts), width), dtype=np.int64)
        for j, c in enumerate(counts):
            padded[j, : len(c)] = c
        self.frequencies = [np.asarray(c) / max(n_rows, 1) for c in counts]
        # log(count + 1) is 0 for an unseen code (e.g. an unused level of a category dtype), so
        # training never asks for a category it has no real row of.
        log_counts = np.log1p(padded)
        self._train_probs = torch.from_numpy(log_counts / log_counts.sum(axis=1, keepdims=True))
        self._real_probs = torch.from_numpy(padded / max(n_rows, 1))
        self._counts = torch.from_numpy(padded)
        self._offsets = torch.tensor(self.offsets, dtype=torch.int64)

    @property
    def n_discrete(self):
        """Number of discrete columns."""
        return len(self.cardinalities)

    def sample_train(self, n, generator=None):
        """Training-by-sampling: conditional vectors, their masks and matching real rows.

        Parameters
        ----------
        n : int
            Number of draws.
        generator : torch.Generator or None
            Source of randomness (a CPU generator).

        Returns
        -------
        cond : Tensor of shape (n, cond_dim), float32
            One 1 per row, at the drawn category of the drawn column.
        mask : Tensor of shape (n, n_discrete), float32
            One 1 per row, at the drawn column.
        rows : Tensor of shape (n,), int64
            Indices of real rows that have the drawn category (uniform among them).
        """
        if self._order is None:
            raise ValueError("This sampler was built from counts; it has no rows to draw.")
        if not self.n_discrete:  # nothing to condition on: any real row
            rows = torch.randint(self.n_rows, (n,), generator=generator)
            return torch.zeros(n, 0), torch.zeros(n, 0), rows
        column = torch.randint(self.n_discrete, (n,), generator=generator)
        code = torch.multinomial(self._train_probs[column], 1, generator=generator)[:, 0]
        pick = torch.rand(n, generator=generator, dtype=torch.float64)
        count = self._counts[column, code]
        # floor(u * count) is uniform over 0 .. count - 1 (clamped against u rounding to 1).
        within = torch.minimum((pick * count).long(), count - 1)
        rows = self._order[column, self._starts[column, code] + within]
        return self._one_hot(column, code), self._mask(column), rows

    def sample_original(self, n, generator=None):
        """Conditional vectors for unconditional sampling: a column drawn uniformly, and its
        category drawn with its real frequency.

        Parameters
        ----------
        n : int
        generator : torch.Generator or None

        Returns
        -------
        cond : Tensor of shape (n, cond_dim), float32
        """
        if not self.n_discrete:
            return torch.zeros(n, 0)
        column = torch.randint(self.n_discrete, (n,), generator=generator)
        code = torch.multinomial(self._real_probs[column], 1, generator=generator)[:, 0]
        return self._one_hot(column, code)

    def fixed(self, column, code, n):
        """``n`` copies of the conditional vector of code ``code`` of discrete column ``column``.

        Returns
        -------
        cond : Tensor of shape (n, cond_dim), float32
        """
        column = torch.full((n,), int(column), dtype=torch.int64)
        return self._one_hot(column, torch.full((n,), int(code), dtype=torch.int64))

    def rarest(self, conditions):
        """The ``(column, code)`` pair of ``conditions`` with the lowest real frequency.

        The generator is conditioned on one category at a time; giving it the rarest of several
        wanted ones raises the share of its rows that meet all of them the most.

        Parameters
        ----------
        conditions : dict of int to int
            Discrete column index to wanted code.
        """
        return min(conditions.items(), key=lambda item: self.frequencies[item[0]][item[1]])

    def _one_hot(self, column, code):
        cond = torch.zeros(len(column), self.cond_dim)
        cond[torch.arange(len(column)), self._offsets[column] + code] = 1.0
        return cond

    def _mask(self, column):
        mask = torch.zeros(len(column), self.n_discrete)
        mask[torch.arange(len(column)), column] = 1.0
        return mask
