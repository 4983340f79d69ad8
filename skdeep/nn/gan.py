"""A conditional GAN for tables, after CTGAN (Xu et al., 2019, "Modeling Tabular Data using
Conditional GAN").

A row is a flat vector of blocks (see :meth:`skdeep.preprocessing.TabularEncoder.flat_spans`):
a ``"tanh"`` block of width 1 holds a numeric value relative to its mode, a ``"softmax"`` block
a one-hot code (a numeric column's mode, or a category). The :class:`Generator` maps noise and a
*conditional vector* (the one-hot of one category of one discrete column) to raw block scores;
:func:`apply_activations` turns them into a row (tanh, Gumbel-softmax). The
:class:`Discriminator` is a WGAN critic that scores ``pac`` rows at once (PacGAN), which makes
mode collapse visible to it. Training uses the WGAN-GP loss (:func:`gradient_penalty`) and, for
the generator, :func:`conditional_loss`, the cross-entropy between the conditional vector and
the generated category, so that the generator honours the condition.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "Discriminator",
    "Generator",
    "apply_activations",
    "conditional_loss",
    "gradient_penalty",
    "gumbel_softmax",
]


class Residual(nn.Module):
    """``[relu(bn(linear(x))), x]``: a fully connected layer whose input is passed on beside
    its output, so that each layer of the generator sees everything before it."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.norm = nn.BatchNorm1d(out_features)

    def forward(self, x):
        return torch.cat([F.relu(self.norm(self.linear(x))), x], dim=1)


class Generator(nn.Module):
    """Noise and conditional vector to the raw scores of a flat row (before activation).

    Parameters
    ----------
    embedding_dim : int
        Size of the noise vector ``z``.
    cond_dim : int
        Size of the conditional vector (0 for a table without discrete columns).
    hidden_dims : tuple of int
        Widths of the residual blocks; block ``i`` outputs its width plus its input's.
    data_dim : int
        Width of a flat row.
    """

    def __init__(self, embedding_dim, cond_dim, hidden_dims, data_dim):
        super().__init__()
        layers, width = [], embedding_dim + cond_dim
        for hidden in hidden_dims:
            layers.append(Residual(width, hidden))
            width += hidden
        layers.append(nn.Linear(width, data_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, z, cond):
        return self.net(torch.cat([z, cond], dim=1))


class Discriminator(nn.Module):
    """WGAN critic over packs of ``pac`` rows (PacGAN): one score per pack.

    Parameters
    ----------
    input_dim : int
        Width of one critic input row: the flat row and its conditional vector side by side.
    hidden_dims : tuple of int
        Widths of the hidden layers, each followed by LeakyReLU(0.2) and dropout 0.5.
    pac : int
        Rows per pack; the batch size must be a multiple of it.
    """

    def __init__(self, input_dim, hidden_dims, pac=10):
        super().__init__()
        self.pac = pac
        layers, width = [], input_dim * pac
        for hidden in hidden_dims:
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2), nn.Dropout(0.5)]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        if x.shape[0] % self.pac:
            raise ValueError(
                f"The batch of {x.shape[0]} rows is not a multiple of pac={self.pac}."
            )
        # Consecutive rows form a pack: the critic sees them side by side.
        return self.net(x.reshape(-1, x.shape[1] * self.pac))


def gumbel_softmax(logits, tau=0.2, generator=None):
    """A differentiable, nearly one-hot draw from ``softmax(logits)`` (Jang et al., 2017).

    As ``torch.nn.functional.gumbel_softmax`` with ``hard=False``, except that the Gumbel noise
    comes from ``generator`` when one is given, so that draws can be seeded without touching
    the global random state.
    """
    # -log(E) with E ~ Exponential(1) is Gumbel(0, 1), as in torch's own gumbel_softmax.
    gumbels = -torch.empty_like(logits).exponential_(generator=generator).log()
    return torch.softmax((logits + gumbels) / tau, dim=1)


def apply_activations(raw, spans, tau=0.2, generator=None):
    """Turn the generator's raw scores into a flat row: tanh or Gumbel-softmax per block.

    Parameters
    ----------
    raw : Tensor of shape (n, sum(widths))
    spans : sequence of (width, kind)
        ``kind`` is ``"tanh"`` or ``"softmax"``; the widths tile ``raw``.
    tau : float
        Temperature of the Gumbel-softmax; low values give nearly one-hot blocks.
    generator : torch.Generator or None
        Source of the Gumbel noise (None: the global one).
    """
    # One noise draw for the whole matrix (cheaper than one per block); tanh blocks ignore it.
    # -log(E) with E ~ Exponential(1) is Gumbel(0, 1).
    gumbels = -torch.empty_like(raw).exponential_(generator=generator).log()
    noisy = (raw + gumbels) / tau
    blocks, start = [], 0
    for width, kind in spans:
        if kind == "tanh":
            blocks.append(torch.tanh(raw[:, start : start + width]))
        elif kind == "softmax":
            blocks.append(torch.softmax(noisy[:, start : start + width], dim=1))
        else:
            raise ValueError(f"Unknown block kind {kind!r}; expected 'tanh' or 'softmax'.")
        start += width
    return torch.cat(blocks, dim=1)


def conditional_loss(raw, cond, mask, category_slices):
    """Cross-entropy between the conditional vector and the generated categories.

    Only the column each row was conditioned on counts (``mask``), so the generator learns to
    produce the category it was asked for. Averaged over the rows of the batch.

    Parameters
    ----------
    raw : Tensor of shape (n, data_dim)
        Generator scores before activation.
    cond : Tensor of shape (n, cond_dim)
        Conditional vectors: one-hot blocks of the discrete columns, side by side.
    mask : Tensor of shape (n, n_discrete)
        1 for the column each row was conditioned on, else 0.
    category_slices : sequence of (data_start, cond_start, width)
        Where each discrete column's block is in the flat row and in the conditional vector.
    """
    if not category_slices:
        return raw.new_zeros(())
    losses = []
    for data_start, cond_start, width in category_slices:
        target = cond[:, cond_start : cond_start + width].argmax(dim=1)
        logits = raw[:, data_start : data_start + width]
        losses.append(F.cross_entropy(logits, target, reduction="none"))
    return (torch.stack(losses, dim=1) * mask).sum() / raw.shape[0]


def gradient_penalty(critic, real, fake, weight=10.0, generator=None):
    """WGAN-GP penalty: ``weight * (||grad critic(x_hat)|| - 1)^2`` at points between packs.

    One interpolation factor per pack, as the critic scores whole packs; the gradient norm is
    that of the pack's input.

    Parameters
    ----------
    critic : Discriminator
    real, fake : Tensor of shape (n, input_dim)
        Critic inputs (rows with their conditional vectors); ``n`` a multiple of ``critic.pac``.
    weight : float
        The penalty coefficient (10 in the WGAN-GP paper).
    generator : torch.Generator or None
        Source of the interpolation factors.
    """
    pac = critic.pac
    factor = torch.rand(real.shape[0] // pac, 1, 1, generator=generator, device=real.device)
    factor = factor.expand(-1, pac, real.shape[1]).reshape(real.shape)
    mixed = (factor * real + (1 - factor) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    norm = grad.reshape(-1, pac * real.shape[1]).norm(2, dim=1)
    return weight * ((norm - 1) ** 2).mean()
