"""A variational autoencoder for mixed tables: numeric columns and categorical columns.

The encoder reads standardised numeric values beside one-hot categories and outputs the mean
and log-variance of a diagonal Gaussian over the latent code ``z``. The decoder maps ``z`` to
the mean of a Gaussian for each numeric column (with a learned per-column log-variance) and to
one block of logits per categorical column. :class:`ELBOLoss` turns both into the two terms of
the evidence lower bound: the negative log-likelihood of the row and the KL divergence of the
posterior from the N(0, I) prior.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from skdeep.nn.mlp import MLP

# Floor of the numeric log-variance: without it a column the decoder reproduces exactly
# (e.g. a constant one) lets the variance go to 0 and the likelihood to infinity.
LOG_VAR_MIN = math.log(1e-4)


class VAEOutput(NamedTuple):
    """What :meth:`VAE.forward` returns, per row of the batch."""

    num_mean: torch.Tensor  # (n, n_numeric) Gaussian means of the standardised numerics
    num_log_var: torch.Tensor  # (n_numeric,) their log-variances, shared by every row
    cat_logits: torch.Tensor  # (n, sum(cardinalities)) logits of every categorical column
    mu: torch.Tensor  # (n, n_components) posterior mean of z
    log_var: torch.Tensor  # (n, n_components) posterior log-variance of z


class VAE(nn.Module):
    """Gaussian-latent VAE with a Gaussian likelihood for numerics and a categorical one for
    categories.

    Parameters
    ----------
    n_numeric : int
        Number of numeric columns (their standardised values are the ``x_num`` input).
    cardinalities : list of int
        Number of categories of each categorical column (the ``x_cat`` input holds codes in
        ``0 .. cardinality - 1``; code ``-1`` means "unknown" and reads as an all-zero one-hot
        block).
    n_components : int
        Dimension of the latent code.
    hidden_layer_sizes : tuple of int
        Hidden widths of the encoder; the decoder uses them in reverse order.
    activation : {"relu", "gelu", "tanh", "silu"}
    dropout : float
        Dropout after each hidden activation, in both networks.
    """

    def __init__(
        self,
        n_numeric,
        cardinalities,
        n_components,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        dropout=0.0,
    ):
        super().__init__()
        self.n_numeric = n_numeric
        self.cardinalities = list(cardinalities)
        self.n_components = n_components
        n_logits = sum(self.cardinalities)
        hidden = tuple(hidden_layer_sizes)
        self.encoder = MLP(n_numeric + n_logits, 2 * n_components, hidden, activation, dropout)
        self.decoder = MLP(n_components, n_numeric + n_logits, hidden[::-1], activation, dropout)
        self.num_log_var = nn.Parameter(torch.zeros(n_numeric))
        # Where each categorical column's block starts in the flat one-hot / logits vector.
        starts = torch.tensor([0, *self.cardinalities[:-1]], dtype=torch.long).cumsum(0)
        self.register_buffer("cat_offsets", starts[: len(self.cardinalities)], persistent=False)

    def one_hot(self, x_cat):
        """Flat one-hot encoding of the codes ``x_cat`` (n, n_categorical); -1 gives zeros."""
        out = torch.zeros(x_cat.shape[0], sum(self.cardinalities), device=x_cat.device)
        if x_cat.shape[1]:
            known = (x_cat >= 0).to(out.dtype)
            out.scatter_(1, x_cat.clamp_min(0) + self.cat_offsets, known)
        return out

    def encode(self, x_num, x_cat):
        """Posterior mean and log-variance of ``z`` for a batch of rows."""
        mu, log_var = self.encoder(torch.cat([x_num, self.one_hot(x_cat)], dim=1)).chunk(2, dim=1)
        return mu, log_var

    def decode(self, z):
        """Numeric means, numeric log-variances and categorical logits for latent codes."""
        out = self.decoder(z)
        num_log_var = self.num_log_var.clamp_min(LOG_VAR_MIN)
        return out[:, : self.n_numeric], num_log_var, out[:, self.n_numeric :]

    def forward(self, x_num, x_cat):
        """Encode, draw ``z`` (its mean in eval mode) and decode.

        In training mode ``z = mu + sigma * eps`` (the reparameterisation trick), so gradients
        flow through the draw; in eval mode ``z = mu``, which makes evaluation deterministic.
        """
        mu, log_var = self.encode(x_num, x_cat)
        z = mu
        if self.training:
            z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        num_mean, num_log_var, cat_logits = self.decode(z)
        return VAEOutput(num_mean, num_log_var, cat_logits, mu, log_var)


class ELBOLoss(nn.Module):
    """Per-row terms of the negative evidence lower bound, in nats.

    ``forward(output, x_num, x_cat)`` returns ``(recon, kl)``, each of shape ``(n,)``:

    * ``recon``: ``-log p(x | z)``, the Gaussian negative log-likelihood of each standardised
      numeric value plus the cross-entropy of each categorical code (unknown codes ``-1`` are
      skipped), summed over the columns;
    * ``kl``: ``KL(q(z | x) || N(0, I))``, summed over the latent dimensions.

    The beta-VAE objective is ``recon + beta * kl``; ``beta`` is stored here for the training
    loop.
    """

    def __init__(self, cardinalities, beta=1.0):
        super().__init__()
        self.cardinalities = list(cardinalities)
        self.beta = beta

    def forward(self, output, x_num, x_cat):
        var = output.num_log_var.exp()
        gaussian = 0.5 * (math.log(2 * math.pi) + output.num_log_var)
        recon = (gaussian + 0.5 * (x_num - output.num_mean) ** 2 / var).sum(dim=1)
        blocks = output.cat_logits.split(self.cardinalities, dim=1) if self.cardinalities else ()
        for j, logits in enumerate(blocks):
            recon = recon + F.cross_entropy(logits, x_cat[:, j], ignore_index=-1, reduction="none")
        kl = 0.5 * (output.mu**2 + output.log_var.exp() - 1.0 - output.log_var).sum(dim=1)
        return recon, kl
