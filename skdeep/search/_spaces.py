"""Default search spaces, one per skdeep estimator, keyed by class name.

A space maps parameter names to Optuna distributions or to lists of choices, exactly as
``OptunaSearchCV(param_distributions=...)`` takes them. The entries are written for the
estimators' own parameter names; :func:`default_search_space` prefixes them for a
pipeline step and checks that the estimator has every one of them.
"""

from __future__ import annotations

import copy

from optuna.distributions import FloatDistribution, IntDistribution

__all__ = ["SEARCH_SPACES", "default_search_space"]

_MLP = {
    "hidden_layer_sizes": [(64,), (128,), (128, 64), (256, 128), (256, 128, 64)],
    "learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
    "alpha": FloatDistribution(1e-6, 1e-2, log=True),
    "dropout": FloatDistribution(0.0, 0.5),
    "batch_size": [32, 64, 128, 256, 512],
}

#: The registry: estimator class name -> its default space (``{param: distribution or
#: list of choices}``). A family adds its entry here; :func:`default_search_space` returns
#: a copy, prefixed for a pipeline step.
SEARCH_SPACES: dict[str, dict] = {
    "DeepMLPClassifier": _MLP,
    "DeepMLPRegressor": _MLP,
    "LSTMTextClassifier": {
        "embedding_dim": [32, 64, 128],
        "hidden_size": [32, 64, 128, 256],
        "dropout": FloatDistribution(0.0, 0.5),
        "word_dropout": FloatDistribution(0.0, 0.3),
        "pooling": ["max", "mean", "last+max"],
        "learning_rate": FloatDistribution(3e-4, 1e-2, log=True),
        "alpha": FloatDistribution(1e-6, 1e-3, log=True),
        "batch_size": [16, 32, 64, 128],
    },
    "VAEEncoder": {
        "hidden_layer_sizes": [(64,), (128, 64), (256, 128)],
        "beta": FloatDistribution(0.1, 4.0, log=True),
        "dropout": FloatDistribution(0.0, 0.3),
        "learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
        "alpha": FloatDistribution(1e-6, 1e-2, log=True),
        "batch_size": [64, 128, 256, 512],
    },
    "TransformerLMGenerator": {
        "n_layer": IntDistribution(1, 6),
        "n_embd": [64, 128, 256, 384],
        "dropout": FloatDistribution(0.0, 0.3),
        "learning_rate": FloatDistribution(1e-4, 3e-3, log=True),
        "batch_size": [16, 32, 64],
    },
    "GANSampler": {
        "generator_lr": FloatDistribution(1e-5, 1e-3, log=True),
        "discriminator_lr": FloatDistribution(1e-5, 1e-3, log=True),
        # CTGAN packs `pac` (10 by default) rows per discriminator input: multiples of 10.
        "batch_size": [100, 200, 500],
        "embedding_dim": [64, 128, 256],
    },
}


def _final_step(estimator):
    """The estimator the space is about and its ``step__`` prefix (pipelines nest)."""
    prefix = ""
    while hasattr(estimator, "steps") and isinstance(estimator.steps, list) and estimator.steps:
        name, estimator = estimator.steps[-1]
        prefix += f"{name}__"
    return estimator, prefix


def default_search_space(estimator):
    """The default search space of a skdeep estimator, or of a pipeline ending in one.

    The spaces (see the user guide's table) search what matters most for each family:
    the learning rate and the L2 penalty ``alpha`` log-uniformly, dropout uniformly, the
    widths and depth, the batch size, and each family's own parameters (embedding and
    LSTM sizes and pooling for the text classifier, ``beta`` for the VAE, ``n_layer`` /
    ``n_embd`` for the language model, the two learning rates of the GAN). The number of
    epochs is left to the estimator (and to pruning).

    Parameters
    ----------
    estimator : estimator instance
        A skdeep estimator, or a :class:`~sklearn.pipeline.Pipeline` whose last step is one
        (nested pipelines too). The class is looked up by name in ``SEARCH_SPACES``, then
        its base classes'.

    Returns
    -------
    space : dict
        ``{parameter name: distribution or list of choices}``, with the ``step__`` prefix
        of a pipeline's last step; a fresh copy, free to edit.

    Raises
    ------
    ValueError
        When there is no default space for the estimator, or when the estimator lacks a
        parameter of its default space.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skdeep import DeepMLPClassifier
    >>> from skdeep.search import default_search_space
    >>> sorted(default_search_space(make_pipeline(StandardScaler(), DeepMLPClassifier())))
    ... # doctest: +NORMALIZE_WHITESPACE
    ['deepmlpclassifier__alpha', 'deepmlpclassifier__batch_size',
     'deepmlpclassifier__dropout', 'deepmlpclassifier__hidden_layer_sizes',
     'deepmlpclassifier__learning_rate']
    """
    final, prefix = _final_step(estimator)
    space = None
    for klass in type(final).__mro__:
        if klass.__name__ in SEARCH_SPACES:
            space = SEARCH_SPACES[klass.__name__]
            break
    if space is None:
        known = ", ".join(sorted(SEARCH_SPACES))
        raise ValueError(
            f"param_distributions: there is no default search space for "
            f"{type(final).__name__} (there is one for {known}); pass param_distributions, "
            "a dict of parameter names to Optuna distributions or lists of choices."
        )
    params = final.get_params(deep=False) if hasattr(final, "get_params") else {}
    missing = sorted(set(space) - set(params))
    if missing:
        raise ValueError(
            f"The default search space of {type(final).__name__} names parameters it does "
            f"not have: {missing}; pass param_distributions."
        )
    return {f"{prefix}{name}": copy.deepcopy(value) for name, value in space.items()}
