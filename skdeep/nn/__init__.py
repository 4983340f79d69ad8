"""Plain ``torch.nn`` modules behind the skdeep estimators (no sklearn inside)."""

from skdeep.nn.gan import Discriminator, Generator
from skdeep.nn.gpt import GPT
from skdeep.nn.mlp import ACTIVATIONS, MLP
from skdeep.nn.text import TextLSTM
from skdeep.nn.vae import VAE, ELBOLoss

__all__ = [
    "ACTIVATIONS",
    "GPT",
    "MLP",
    "VAE",
    "Discriminator",
    "ELBOLoss",
    "Generator",
    "TextLSTM",
]
