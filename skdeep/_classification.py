"""Label handling shared by skdeep's classifiers (tabular and text).

:class:`ClassifierTraining` turns ``y`` into the encoded targets, the per-sample weights
(``sample_weight`` x ``class_weight``) and the stratification labels that
``DeepEstimator._run_training`` takes, and provides the accuracy recorded as
``valid_score``. A classifier lists it after ``ClassifierMixin`` and before its
``DeepEstimator`` base.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight
from torch import nn

__all__ = ["ClassifierTraining", "normalised_weights"]


def normalised_weights(sample_weight, X, extra=None):
    """Per-sample weights scaled to mean 1, or None when every weight is equal.

    Scaling to mean 1 keeps the loss (and so the learning rate) on the unweighted scale,
    and makes integer weights equivalent to repeating rows.
    """
    weight = None
    if sample_weight is not None:
        weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if not np.all(np.isfinite(weight)) or np.any(weight < 0):
            raise ValueError("sample_weight must contain finite, non-negative values.")
        if not np.any(weight > 0):
            raise ValueError(
                "sample_weight must contain at least one non-zero weight; got all zero weights."
            )
    if extra is not None:
        weight = extra if weight is None else weight * extra
    if weight is None or np.all(weight == weight[0]):
        return None
    return torch.from_numpy((weight / weight.mean()).astype(np.float32))


class ClassifierTraining:
    """Mixin: ``classes_``, class and sample weights, the loss and the validation score."""

    def _criterion(self):
        return nn.CrossEntropyLoss(reduction="none")

    @staticmethod
    def _validation_score(y_true, y_pred):
        return (y_pred.argmax(dim=1) == y_true).float().mean().item()

    def _check_partial_fit_call(self, classes):
        """sklearn's partial_fit rules: classes up front, no data-dependent class weights."""
        if not self._is_fitted() and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit, "
                "e.g. partial_fit(X, y, classes=np.unique(y_all))."
            )
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported with partial_fit: each call sees "
                "only part of the data. Pass a dict, e.g. from "
                "sklearn.utils.class_weight.compute_class_weight on the full y."
            )

    def _encode_target(self, y, sample_weight, X, first_call, classes, partial):
        check_classification_targets(y)
        kind = type_of_target(y, input_name="y")
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"{type(self).__name__} supports binary and multiclass targets; y is {kind}."
            )
        if first_call:
            labels = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            if len(labels) < 2:
                raise ValueError(
                    f"y contains only one class ({labels[0]!r}); a classifier needs samples "
                    "of at least 2 classes."
                )
            self.classes_ = labels
        unseen = np.setdiff1d(y, self.classes_)
        if len(unseen):
            raise ValueError(
                f"y contains label(s) {unseen[:5].tolist()} not in classes_ "
                f"{self.classes_.tolist()}"
                + (
                    "; pass every label in classes= on the first partial_fit call."
                    if partial
                    else "."
                )
            )
        encoded = np.searchsorted(self.classes_, y)
        extra = None
        if self.class_weight is not None:
            extra = self._class_weights(y)[encoded]
        weight = normalised_weights(sample_weight, X, extra)
        if sample_weight is not None:
            weighted = np.unique(encoded[np.asarray(sample_weight) > 0])
            if len(weighted) < 2 and not partial:
                raise ValueError(
                    "Only one class has non-zero sample_weight "
                    f"({self.classes_[weighted[0]]!r}); a classifier needs weighted "
                    "samples of at least 2 classes."
                )
        return torch.from_numpy(encoded.astype(np.int64)), encoded, weight

    def _class_weights(self, y):
        """One weight per class in ``classes_`` order; classes missing from a dict get 1."""
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            return compute_class_weight("balanced", classes=self.classes_, y=y)
        if not isinstance(self.class_weight, dict):
            raise ValueError(
                f"class_weight={self.class_weight!r} is not supported; expected "
                "None, 'balanced' or a dict {label: weight}."
            )
        unknown = [k for k in self.class_weight if k not in set(self.classes_.tolist())]
        if unknown:
            raise ValueError(
                f"class_weight has label(s) {unknown} that are not among the "
                f"classes {self.classes_.tolist()}."
            )
        weights = np.array([float(self.class_weight.get(c, 1.0)) for c in self.classes_])
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError("class_weight values must be finite and non-negative.")
        return weights
