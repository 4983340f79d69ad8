"""A multi-layer perceptron: Linear -> [BatchNorm] -> activation -> [Dropout], repeated."""

from __future__ import annotations

import math

import torch
from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
}


class MLP(nn.Module):
    """Feed-forward network mapping ``(batch, n_inputs)`` to ``(batch, n_outputs)``.

    Parameters
    ----------
    n_inputs, n_outputs : int
        Widths of the input and of the (linear) output layer.
    hidden_layer_sizes : tuple of int
        Width of each hidden layer; ``()`` gives a linear model.
    activation : {"relu", "gelu", "tanh", "silu"}
    dropout : float
        Dropout probability after each hidden activation.
    batch_norm : bool
        Batch normalisation before each hidden activation.
    init : {"glorot", "torch"}
        ``"glorot"``: weights and biases uniform in ``+-sqrt(6 / (fan_in + fan_out))``, as
        scikit-learn's MLP initialises them (Glorot & Bengio, 2010); ``"torch"``: PyTorch's
        default for ``nn.Linear`` (uniform in ``+-1 / sqrt(fan_in)``).
    cardinalities : tuple of int, default=()
        Number of codes of each categorical input. With categories, ``forward`` takes
        ``(X, X_cat)``: ``n_inputs`` numeric columns and integer codes (``-1``: unknown, no
        contribution). The first layer then acts on the one-hot encoding of the codes
        without building it: each category adds its row of an ``nn.Embedding`` as wide as
        the first layer, which is exactly a linear layer's weights for that one-hot column.
    """

    def __init__(
        self,
        n_inputs,
        n_outputs,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        init="torch",
        cardinalities=(),
    ):
        super().__init__()
        layers = []
        width = n_inputs
        first_width = (tuple(hidden_layer_sizes) or (n_outputs,))[0]
        for size in hidden_layer_sizes:
            # The bias is redundant right before batch normalisation.
            layers.append(nn.Linear(width, size, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(size))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, n_outputs))
        self.layers = nn.Sequential(*layers)
        # Row 0 of each table is the unknown code's: zero, and never trained.
        self.categories = nn.ModuleList(
            nn.Embedding(n + 1, first_width, padding_idx=0) for n in cardinalities
        )
        # The fan-in of the first layer is that of the one-hot encoding it stands for.
        one_hot_width = n_inputs + sum(cardinalities)
        if init == "glorot":
            for layer in self.layers:
                if isinstance(layer, nn.Linear):
                    glorot_uniform_(
                        layer, fan_in=one_hot_width if layer is self.layers[0] else None
                    )
            bound = math.sqrt(6.0 / (one_hot_width + first_width))
        elif init == "torch":
            bound = 1.0 / math.sqrt(max(1, one_hot_width))
            if cardinalities:  # nn.Linear's own bound, for the one-hot fan-in
                with torch.no_grad():
                    self.layers[0].weight.uniform_(-bound, bound)
                    if self.layers[0].bias is not None:
                        self.layers[0].bias.uniform_(-bound, bound)
        else:
            raise ValueError(f"init={init!r} is not supported; expected 'glorot' or 'torch'.")
        with torch.no_grad():
            for table in self.categories:
                table.weight[1:].uniform_(-bound, bound)

    def forward(self, X, X_cat=None):
        if not len(self.categories):
            return self.layers(X)
        hidden = self.layers[0](X)
        for j, table in enumerate(self.categories):
            hidden = hidden + table(X_cat[:, j] + 1)
        return self.layers[1:](hidden)

    def first_layer_weight(self):
        """The first layer's weights as a linear layer on ``[X, one_hot(X_cat)]`` would hold
        them: shape ``(first_width, n_inputs + sum(cardinalities))``."""
        blocks = [self.layers[0].weight] + [table.weight[1:].T for table in self.categories]
        return torch.cat(blocks, dim=1)


@torch.no_grad()
def glorot_uniform_(layer, fan_in=None):
    """scikit-learn MLP's initialisation of a linear layer, weights and bias alike."""
    fan_in = layer.in_features if fan_in is None else fan_in
    bound = math.sqrt(6.0 / (fan_in + layer.out_features))
    layer.weight.uniform_(-bound, bound)
    if layer.bias is not None:
        layer.bias.uniform_(-bound, bound)
