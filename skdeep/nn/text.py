"""A (bi)LSTM text classifier over right-padded batches of token ids.

``TextLSTM`` maps ``ids`` of shape ``(batch, time)`` (right-padded with ``PAD_ID``) and the
true ``lengths`` to class logits::

    [word dropout] -> embedding -> dropout
        -> [LSTM layer (forward, backward) -> dropout] x num_layers
        -> pooling over the valid steps -> linear head

Batches are padded, not packed: on the CPU, ``pack_padded_sequence`` costs several times the
LSTM itself, and length-bucketed batches keep the padding small anyway. Padding must then be
kept out of the result explicitly:

* the forward direction only looks back, so its outputs at the valid steps ``t < length``
  never see the padding after them, and its last state is the output at ``length - 1``;
* the backward direction runs on each sequence reversed *within its own length* (the
  padding stays at the end), so it too reads the real tokens before any padding; its
  outputs are then put back in the original order;
* max and mean pooling only reduce over the valid steps.

Appending more padding to a batch therefore leaves the output unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["POOLINGS", "TextLSTM", "parse_pooling"]

POOLINGS = ("last", "max", "mean")


def parse_pooling(pooling):
    """The pooling methods named in ``pooling``, e.g. ``"last+max"`` -> ``("last", "max")``.

    Raises ``ValueError`` naming the parameter for anything but a ``+``-joined combination
    of distinct ``"last"``, ``"max"`` and ``"mean"``.
    """
    parts = tuple(pooling.split("+")) if isinstance(pooling, str) else ()
    if not parts or any(p not in POOLINGS for p in parts) or len(set(parts)) != len(parts):
        raise ValueError(
            f"pooling={pooling!r} is not supported; expected 'last', 'max', 'mean' or a "
            "'+'-joined combination of them such as 'last+max'."
        )
    return parts


def reverse_within_length(x, lengths):
    """Reverse the first ``lengths[i]`` steps of each row of ``x`` (batch, time, ...).

    Steps at or past a row's length (the padding) stay where they are, so the result is
    still right-padded. Applying it twice gives ``x`` back.
    """
    steps = torch.arange(x.shape[1], device=x.device).unsqueeze(0)
    last = (lengths - 1).unsqueeze(1)
    index = torch.where(steps <= last, last - steps, steps)
    rows = torch.arange(x.shape[0], device=x.device).unsqueeze(1)
    return x[rows, index]


class TextLSTM(nn.Module):
    """Embedding, (bi)LSTM, masked pooling and a linear head.

    Parameters
    ----------
    n_tokens : int
        Size of the vocabulary (the embedding's ``num_embeddings``), reserved ids included.
    n_outputs : int
        Number of logits (classes).
    embedding_dim, hidden_size, num_layers : int
        Embedding width, LSTM state width (per direction) and number of stacked layers.
    bidirectional : bool
        Add a backward LSTM to every layer; its states are concatenated to the forward ones.
    dropout : float
        Dropout on the embeddings, between layers and before the head (training only).
    pooling : str
        ``"last"`` (the final state of each direction: forward at ``length - 1``, backward
        at step 0), ``"max"``, ``"mean"`` (over the valid steps), or a ``+``-joined
        combination whose parts are concatenated, e.g. ``"last+max"``.
    padding_idx : int
        The padding id; its embedding is zero and receives no gradient.
    word_dropout : float
        During training, the probability that a (non-padding) token is replaced by
        ``unknown_idx``: the unknown token's embedding is then learned (otherwise it stays
        at its random initialisation when every training token is in the vocabulary) and
        the model cannot lean on single words.
    unknown_idx : int
        The out-of-vocabulary id that ``word_dropout`` substitutes.
    """

    def __init__(
        self,
        n_tokens,
        n_outputs,
        *,
        embedding_dim=64,
        hidden_size=128,
        num_layers=1,
        bidirectional=True,
        dropout=0.0,
        pooling="max",
        padding_idx=0,
        word_dropout=0.0,
        unknown_idx=1,
    ):
        super().__init__()
        self.padding_idx = padding_idx
        self.word_dropout = word_dropout
        self.unknown_idx = unknown_idx
        self.pooling = parse_pooling(pooling)
        self.bidirectional = bidirectional
        self.embedding = nn.Embedding(n_tokens, embedding_dim, padding_idx=padding_idx)
        self.dropout = nn.Dropout(dropout)
        directions = 2 if bidirectional else 1
        widths = [embedding_dim] + [hidden_size * directions] * (num_layers - 1)
        # One single-layer LSTM per layer and direction: the backward one must run on the
        # length-reversed input, which nn.LSTM(bidirectional=True) cannot be given.
        self.forward_layers = nn.ModuleList(
            nn.LSTM(width, hidden_size, batch_first=True) for width in widths
        )
        self.backward_layers = (
            nn.ModuleList(nn.LSTM(width, hidden_size, batch_first=True) for width in widths)
            if bidirectional
            else None
        )
        self.head = nn.Linear(hidden_size * directions * len(self.pooling), n_outputs)

    def forward(self, ids, lengths):
        """Logits of shape ``(batch, n_outputs)``.

        ``ids``: LongTensor ``(batch, time)`` right-padded; ``lengths``: LongTensor
        ``(batch,)`` with ``1 <= lengths[i] <= time``.
        """
        lengths = lengths.to(ids.device)
        if self.training and self.word_dropout > 0:
            drop = torch.rand(ids.shape, device=ids.device) < self.word_dropout
            ids = ids.masked_fill(drop & (ids != self.padding_idx), self.unknown_idx)
        x = self.dropout(self.embedding(ids))
        for i, forward_lstm in enumerate(self.forward_layers):
            if i:
                x = self.dropout(x)
            out, _ = forward_lstm(x)
            if self.bidirectional:
                backward, _ = self.backward_layers[i](reverse_within_length(x, lengths))
                out = torch.cat([out, reverse_within_length(backward, lengths)], dim=2)
            x = out
        return self.head(self.dropout(self._pool(x, lengths)))

    def _pool(self, x, lengths):
        valid = torch.arange(x.shape[1], device=x.device).unsqueeze(0) < lengths.unsqueeze(1)
        valid = valid.unsqueeze(2)
        pooled = []
        for method in self.pooling:
            if method == "last":
                rows = torch.arange(x.shape[0], device=x.device)
                last = x[rows, lengths - 1]
                if self.bidirectional:
                    # The backward direction ends (has read the whole text) at step 0.
                    half = x.shape[2] // 2
                    last = torch.cat([last[:, :half], x[:, 0, half:]], dim=1)
                pooled.append(last)
            elif method == "max":
                pooled.append(x.masked_fill(~valid, float("-inf")).amax(dim=1))
            else:  # mean
                total = x.masked_fill(~valid, 0.0).sum(dim=1)
                pooled.append(total / lengths.unsqueeze(1).to(x.dtype))
        return pooled[0] if len(pooled) == 1 else torch.cat(pooled, dim=1)
