"""skdeep: scikit-learn compatible deep-learning estimators trained with PyTorch."""

from skdeep import metrics
from skdeep._training import TrainingDivergedError
from skdeep._version import __version__
from skdeep.io import ModelFileError, load, save
from skdeep.mlp import DeepMLPClassifier, DeepMLPRegressor
from skdeep.text import LSTMTextClassifier
from skdeep.vae import VAEEncoder

__all__ = [
    "DeepMLPClassifier",
    "DeepMLPRegressor",
    "LSTMTextClassifier",
    "ModelFileError",
    "TrainingDivergedError",
    "VAEEncoder",
    "__version__",
    "load",
    "metrics",
    "save",
]
