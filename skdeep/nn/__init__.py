"""Plain ``torch.nn`` modules behind the skdeep estimators (no sklearn inside)."""

from skdeep.nn.mlp import ACTIVATIONS, MLP

__all__ = ["ACTIVATIONS", "MLP"]
