"""Label handling shared by skdeep's classifiers (tabular and text).

:class:`ClassifierTraining` turns ``y`` into the encoded targets, the per-sample weights
(``sample_weight`` x ``class_weight``) and the stratification labels that
``DeepEstimator._prepare_data`` returns, the accuracy recorded as ``valid_score``, and the
classifier's ``fit`` / ``partial_fit`` / ``predict*`` methods. A classifier lists it after
``ClassifierMixin`` and before its ``DeepEstimator`` base.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight
from torch import nn

from skdeep._base import DeepEstimator, _plain

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
    """Mixin of skdeep's classifiers: ``fit`` / ``partial_fit`` with labels, ``classes_``,
    class and sample weights, the loss, the validation score and the prediction methods.

    A classifier provides ``_scores(X)``: the module's logits for ``X`` as a float64 CPU
    tensor. A family whose module can emit one independent logit per label sets
    ``_supports_multilabel = True`` and then also takes a 2-D 0/1 indicator ``y``.
    """

    _fitted_attributes = (*DeepEstimator._fitted_attributes, "classes_", "_multilabel")
    _supports_multilabel = False
    _multilabel = False

    def fit(self, X, y, sample_weight=None):
        """Train the network on inputs ``X`` and labels ``y``.

        Parameters
        ----------
        X : array-like of length n_samples
            Training inputs, as the class documents them (a numeric matrix or DataFrame
            for the MLP, a sequence of texts for the text classifier).
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels (ints, strings, bools, a pandas Series, categorical included), or
            a 0/1 indicator matrix for a multilabel classifier.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights (multiplied with ``class_weight``).

        Returns
        -------
        self : estimator
            The fitted classifier.
        """
        return self._fit(X, y, sample_weight=sample_weight, partial=False)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on ``(X, y)``, building the network on the first call.

        Parameters
        ----------
        X : array-like of length n_samples
            Training inputs, as for :meth:`fit`.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever appear; required on the first call, and when given
            later it must be the same.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.

        Returns
        -------
        self : estimator
            The classifier, trained for one more epoch.
        """
        self._check_partial_fit_call(classes)
        return self._fit(X, y, sample_weight=sample_weight, partial=True, classes=classes)

    def _criterion(self):
        if self._multilabel:
            return nn.BCEWithLogitsLoss(reduction="none")
        return nn.CrossEntropyLoss(reduction="none")

    def _validation_score(self, y_true, y_pred):
        if self._multilabel:  # subset accuracy, as scikit-learn's score
            return ((y_pred > 0) == (y_true > 0.5)).all(dim=1).float().mean().item()
        return (y_pred.argmax(dim=1) == y_true).float().mean().item()

    def _check_partial_fit_call(self, classes):
        """sklearn's partial_fit rules: classes up front and unchanged, no data-dependent
        class weights."""
        if not self._is_fitted() and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit, "
                "e.g. partial_fit(X, y, classes=np.unique(y_all))."
            )
        if self._is_fitted() and classes is not None and not self._multilabel:
            given = np.unique(np.asarray(classes))
            if not np.array_equal(given, self.classes_):
                raise ValueError(
                    f"classes={given.tolist()} is not the same as on the first call to "
                    f"partial_fit, classes_={self.classes_.tolist()}; a fitted classifier "
                    "cannot gain or lose classes."
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
        if kind == "multilabel-indicator" and self._supports_multilabel:
            return self._encode_multilabel(y, sample_weight, X, first_call)
        if kind not in ("binary", "multiclass"):
            supported = (
                "binary, multiclass and multilabel-indicator"
                if self._supports_multilabel
                else "binary and multiclass"
            )
            raise ValueError(f"{type(self).__name__} supports {supported} targets; y is {kind}.")
        y = np.asarray(y).ravel() if np.ndim(y) == 2 else y
        if not first_call and self._multilabel:
            raise ValueError(
                f"{type(self).__name__} was fitted on a multilabel indicator y; pass one "
                f"again (y is {kind})."
            )
        labels = self.classes_ if not first_call else None
        if first_call:
            labels = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            if len(labels) < 2:
                raise ValueError(
                    f"y contains only one class ({_plain(labels[0])!r}); a classifier needs "
                    "samples of at least 2 classes."
                )
        unseen = np.setdiff1d(y, labels)
        if len(unseen):
            raise ValueError(
                f"y contains label(s) {unseen[:5].tolist()} not in classes_ "
                f"{labels.tolist()}"
                + (
                    "; pass every label in classes= on the first partial_fit call."
                    if partial
                    else "."
                )
            )
        encoded = np.searchsorted(labels, y)
        extra = None
        if self.class_weight is not None:
            extra = self._class_weights(y, labels)[encoded]
        weight = normalised_weights(sample_weight, X, extra)
        if sample_weight is not None:
            weighted = np.unique(encoded[np.asarray(sample_weight) > 0])
            if len(weighted) < 2 and not partial:
                raise ValueError(
                    "Only one class has non-zero sample_weight "
                    f"({_plain(labels[weighted[0]])!r}); a classifier needs weighted "
                    "samples of at least 2 classes."
                )
        if first_call:  # only now, with y valid: a failed fit leaves a fitted model intact
            self.classes_, self._multilabel = labels, False
        return torch.from_numpy(encoded.astype(np.int64)), encoded, weight

    def _encode_multilabel(self, y, sample_weight, X, first_call):
        y = np.asarray(y)
        if self.class_weight is not None:
            raise ValueError(
                f"class_weight={self.class_weight!r} is not supported with a multilabel y; "
                "use sample_weight."
            )
        if not first_call and (not self._multilabel or y.shape[1] != len(self.classes_)):
            raise ValueError(
                f"y has {y.shape[1]} label columns, but {type(self).__name__} was fitted "
                f"with {len(self.classes_) if self._multilabel else 'a 1-D y'}."
            )
        weight = normalised_weights(sample_weight, X)
        if first_call:
            self.classes_, self._multilabel = np.arange(y.shape[1]), True
        return torch.from_numpy(y.astype(np.float32)), None, weight

    def _class_weights(self, y, labels):
        """One weight per class in ``labels`` order; classes missing from a dict get 1."""
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            return compute_class_weight("balanced", classes=labels, y=y)
        if not isinstance(self.class_weight, dict):
            raise ValueError(
                f"class_weight={self.class_weight!r} is not supported; expected "
                "None, 'balanced' or a dict {label: weight}."
            )
        unknown = [k for k in self.class_weight if k not in set(labels.tolist())]
        if unknown:
            raise ValueError(
                f"class_weight has label(s) {_plain(unknown)} that are not among the "
                f"classes {labels.tolist()}."
            )
        weights = np.array([float(self.class_weight.get(c, 1.0)) for c in labels])
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError("class_weight values must be finite and non-negative.")
        return weights

    # --- prediction -------------------------------------------------------------------

    def predict_proba(self, X):
        """Class probabilities, columns ordered as ``classes_``.

        Parameters
        ----------
        X : array-like of length n_samples
            Inputs, as for :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities (for a multilabel model, each label's own probability).
        """
        scores = self._scores(X)
        if self._multilabel:
            return torch.sigmoid(scores).numpy()
        return torch.softmax(scores, dim=1).numpy()

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed stably from the logits.

        Parameters
        ----------
        X : array-like of length n_samples
            Inputs, as for :meth:`fit`.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities.
        """
        scores = self._scores(X)
        if self._multilabel:
            return torch.nn.functional.logsigmoid(scores).numpy()
        return torch.log_softmax(scores, dim=1).numpy()

    def predict(self, X):
        """Most probable class label for each sample (original label values).

        Parameters
        ----------
        X : array-like of length n_samples
            Inputs, as for :meth:`fit`.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Labels; a 0/1 indicator matrix for a multilabel model.
        """
        scores = self._scores(X)
        if self._multilabel:
            return (scores > 0).numpy().astype(np.int64)
        return self.classes_[scores.argmax(dim=1).numpy()]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
