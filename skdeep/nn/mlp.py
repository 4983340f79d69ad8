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
    ):
        super().__init__()
        layers = []
        width = n_inputs
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
        if init == "glorot":
            for layer in self.layers:
                if isinstance(layer, nn.Linear):
                    glorot_uniform_(layer)
        elif init != "torch":
            raise ValueError(f"init={init!r} is not supported; expected 'glorot' or 'torch'.")

    def forward(self, X):
        return self.layers(X)


@torch.no_grad()
def glorot_uniform_(layer):
    """scikit-learn MLP's initialisation of a linear layer, weights and bias alike."""
    bound = math.sqrt(6.0 / (layer.in_features + layer.out_features))
    layer.weight.uniform_(-bound, bound)
    if layer.bias is not None:
        layer.bias.uniform_(-bound, bound)
