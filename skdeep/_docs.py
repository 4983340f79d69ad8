"""The documentation of the training parameters every family shares, written once.

A family's docstring holds the line ``{shared_parameters}`` where these belong;
:class:`~skdeep._base.DeepEstimator` replaces it when the class is created with the
fragments of the shared parameters the family's ``__init__`` takes, in signature order,
each with the default read from that signature. A family whose meaning differs for one
parameter overrides that fragment in ``_parameter_docs`` (e.g. what the VAE's validation
loss is).
"""

from __future__ import annotations

import inspect
import textwrap

PLACEHOLDER = "{shared_parameters}"

# What early_stopping="auto" means, in every family's fragment for it.
AUTO_EARLY_STOPPING = (
    '``"auto"`` is True when the held-out part has at least 10 rows (100 rows at '
    "``validation_fraction=0.1``) and False below, where every row is needed for "
    "training; ``do_early_stopping_`` tells what the last ``fit`` did."
)

SHARED_PARAMETER_DOCS = {
    "alpha": (
        "float",
        "L2 penalty on the weight matrices (embeddings included, biases and norm scales not). "
        'With ``optimizer="adam"`` or ``"sgd"`` it adds ``alpha / 2 * ||W||^2`` to the loss; '
        'with ``"adamw"`` it is AdamW\'s decoupled weight decay.',
    ),
    "learning_rate": (
        "float",
        "Step size of the optimiser. (Not scikit-learn MLP's ``learning_rate``, which names "
        "a schedule; this is its ``learning_rate_init``.)",
    ),
    "optimizer": (
        '{"adam", "adamw", "sgd"}',
        '``"sgd"`` uses Nesterov momentum 0.9, as scikit-learn\'s MLP does.',
    ),
    "batch_size": (
        "int",
        "Samples per training step. The last, smaller batch of an epoch is kept.",
    ),
    "max_epochs": (
        "int",
        "Maximum number of passes over the training data (scikit-learn's ``max_iter``).",
    ),
    "early_stopping": (
        'bool or "auto"',
        "Hold out ``validation_fraction`` of the training data (stratified for "
        "classifiers), stop when the validation loss has not improved by ``tol`` for "
        "``n_iter_no_change`` epochs and restore the weights of the best epoch. When False, "
        "training stops once the training loss stops improving, as scikit-learn's MLP does. "
        + AUTO_EARLY_STOPPING,
    ),
    "validation_fraction": (
        "float in (0, 1)",
        "Share of the training data held out when early stopping is on.",
    ),
    "n_iter_no_change": (
        "int",
        "Epochs without an improvement of at least ``tol`` before training stops.",
    ),
    "tol": (
        "float",
        "Minimum decrease of the monitored loss that counts as an improvement.",
    ),
    "device": (
        "str",
        '``"auto"`` (CUDA when available, else the CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.',
    ),
    "random_state": (
        "int, RandomState instance or None",
        "Seeds weight initialisation, shuffling, dropout and the validation split. The same "
        "int gives bit-for-bit the same model on the CPU. The caller's global numpy and "
        "torch random states are never changed.",
    ),
    "verbose": (
        "int",
        "0 is silent; 1 shows a progress bar over epochs with the latest losses and "
        "validation score; 2 prints one line per epoch; 3 adds a bar over batches. Progress "
        "goes to stderr.",
    ),
    "warm_start": (
        "bool",
        "When True, ``fit`` continues training the fitted model (and its fitted data "
        "adapter) instead of starting anew. Parameters that shape the network cannot change "
        "in between: ``fit`` raises a ``ValueError`` naming them.",
    ),
    "callbacks": (
        "list of skorch callbacks or None",
        "Extra ``skorch.callbacks.Callback`` objects (or ``(name, callback)`` pairs). They "
        "are deep-copied at fit, as scikit-learn clones sub-estimators; the fitted copies "
        "are in ``net_.callbacks_``.",
    ),
}

# The order of the table in docs/user_guide/conventions.rst and of the rendered docs.
SHARED_PARAMETERS = tuple(SHARED_PARAMETER_DOCS)


def render_shared_parameters(cls, overrides=None):
    """numpydoc entries for the shared parameters of ``cls.__init__``, in signature order."""
    docs = {**SHARED_PARAMETER_DOCS, **(overrides or {})}
    signature = inspect.signature(cls.__init__)
    lines = []
    for name, parameter in signature.parameters.items():
        if name not in docs:
            continue
        kind, text = docs[name]
        lines.append(f"    {name} : {kind}, default={parameter.default!r}")
        lines.extend(
            textwrap.wrap(text, width=88, initial_indent=" " * 8, subsequent_indent=" " * 8)
        )
    return "\n".join(lines).lstrip()
