"""skdeep: scikit-learn compatible deep-learning estimators trained with PyTorch."""

from skdeep._training import TrainingDivergedError
from skdeep._version import __version__
from skdeep.io import ModelFileError, load, save
from skdeep.mlp import DeepMLPClassifier, DeepMLPRegressor

__all__ = [
    "DeepMLPClassifier",
    "DeepMLPRegressor",
    "ModelFileError",
    "TrainingDivergedError",
    "__version__",
    "load",
    "save",
]
