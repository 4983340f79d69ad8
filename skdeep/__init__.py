"""skdeep: scikit-learn compatible deep-learning estimators trained with PyTorch.

The names below are imported on first use, so ``import skdeep`` stays cheap: torch,
skorch and scipy load when an estimator (or ``skdeep.metrics``) is first touched.
"""

import importlib

from skdeep._version import __version__  # noqa: F401 (in __all__)

# Public name -> the module that defines it.
_LAZY = {
    "DeepMLPClassifier": "skdeep.mlp",
    "DeepMLPRegressor": "skdeep.mlp",
    "LSTMTextClassifier": "skdeep.text",
    "VAEEncoder": "skdeep.vae",
    "GANSampler": "skdeep.gan",
    "TransformerLMGenerator": "skdeep.lm",
    "InconsistentVersionWarning": "skdeep.io",
    "ModelFileError": "skdeep.io",
    "load": "skdeep.io",
    "save": "skdeep.io",
    "TrainingDivergedError": "skdeep._training",
}
_SUBMODULES = ("datasets", "metrics", "nn", "preprocessing", "search")
# The modules that define estimators: skdeep.load imports them to know every class.
FAMILY_MODULES = ("skdeep.mlp", "skdeep.text", "skdeep.vae", "skdeep.gan", "skdeep.lm")

__all__ = sorted([*_LAZY, *_SUBMODULES, "__version__"])


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"skdeep.{name}")
    else:
        raise AttributeError(f"module 'skdeep' has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return __all__
