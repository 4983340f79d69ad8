"""Multi-layer perceptrons for tabular data: :class:`DeepMLPClassifier` and
:class:`DeepMLPRegressor`."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import ClassifierMixin, RegressorMixin
from torch import nn

from skdeep._base import DeepEstimator
from skdeep._classification import ClassifierTraining, normalised_weights
from skdeep._training import ArrayData
from skdeep._validation import check_bool, check_layer_sizes, check_option, check_real
from skdeep.nn import ACTIVATIONS, MLP

__all__ = ["DeepMLPClassifier", "DeepMLPRegressor"]


class _BaseMLP(DeepEstimator):
    """What the MLP classifier and regressor share: parameters, module and fit flow."""

    def _check_mlp_params(self):
        check_layer_sizes("hidden_layer_sizes", self.hidden_layer_sizes)
        check_option("activation", self.activation, tuple(ACTIVATIONS))
        check_real("dropout", self.dropout, min_val=0.0, max_val=1.0, include_boundaries="left")
        check_bool("batch_norm", self.batch_norm)
        check_real("l1", self.l1, min_val=0.0)

    def _build_module(self):
        return MLP(
            self.n_features_in_,
            self._n_outputs(),
            hidden_layer_sizes=check_layer_sizes("hidden_layer_sizes", self.hidden_layer_sizes),
            activation=self.activation,
            dropout=self.dropout,
            batch_norm=self.batch_norm,
        )

    def _fit(self, X, y, sample_weight, *, partial, classes=None):
        self._check_mlp_params()
        device = self._check_training_params()
        first_call = not self._is_fitted() or (not partial and not self.warm_start)
        X, y = self._validate_tabular(X, reset=first_call, y=y, multi_output=self._multi_output)
        if self.batch_norm and X.shape[0] < 2:
            raise ValueError(
                f"batch_norm=True needs at least 2 samples to train, got {X.shape[0]} "
                "sample; set batch_norm=False or pass more rows."
            )
        target, stratify, weight = self._encode_target(
            y, sample_weight, X, first_call, classes, partial
        )
        data = ArrayData(self._as_tensor(X), target, weight)
        self._run_training(
            data, device=device, first_call=first_call, partial=partial, stratify=stratify
        )
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = False
        tags.target_tags.required = True
        return tags


_SHARED_DOC = """
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Width of each hidden layer; ``()`` gives a linear model.
    activation : {"relu", "gelu", "tanh", "silu"}, default="relu"
        Non-linearity after each hidden layer.
    dropout : float in [0, 1), default=0.0
        Dropout probability after each hidden activation (training only).
    batch_norm : bool, default=False
        Batch normalisation before each hidden activation.
    alpha : float, default=1e-4
        L2 penalty on the weight matrices (not the biases). With ``optimizer="adam"`` or
        ``"sgd"`` it adds ``alpha / 2 * ||W||^2`` to the loss; with ``"adamw"`` it is
        AdamW's decoupled weight decay.
    l1 : float, default=0.0
        L1 penalty ``l1 * sum(|W|)`` on the weight matrices, added to every batch loss.
    learning_rate : float, default=1e-3
        Step size of the optimiser.
    optimizer : {"adam", "adamw", "sgd"}, default="adam"
        ``"sgd"`` uses Nesterov momentum 0.9, as scikit-learn's MLP does.
    batch_size : int, default=200
        Rows per training step. The last, smaller batch of an epoch is kept (a final
        single row is merged into the previous batch).
    max_epochs : int, default=200
        Maximum number of passes over the training data.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, stop when the validation
        loss stops improving and restore the weights of the best epoch. When False,
        training stops once the training loss stops improving (as scikit-learn's MLP).
    validation_fraction : float in (0, 1), default=0.1
        Share of the training data held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` before training stops.
    tol : float, default=1e-4
        Minimum decrease of the monitored loss that counts as an improvement.
    device : str, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:N"``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation split. The
        same int gives bit-for-bit the same model on the CPU. The caller's global
        numpy and torch random states are never changed.
    verbose : int, default=0
        0 is silent; 1 shows a progress bar over epochs with the latest losses and
        validation score; 2 prints one line per epoch; 3 adds a bar over batches.
        Progress goes to stderr.
    warm_start : bool, default=False
        When True, ``fit`` continues training the current model instead of starting
        anew.
    callbacks : list of skorch callbacks or None, default=None
        Extra ``skorch.callbacks.Callback`` objects (or ``(name, callback)`` pairs).
        They are copied at fit; the fitted copies are in ``net_.callbacks_``."""

_ATTRIBUTES_DOC = """
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names, when ``X`` was a DataFrame with string column names.
    n_iter_ : int
        Number of epochs run (over all ``fit`` / ``partial_fit`` calls with warm start).
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``valid_loss`` and
        ``valid_score`` (with ``early_stopping``), ``dur`` (seconds), ``best_epoch``
        (when best weights were restored). ``pandas.DataFrame(history_)`` tabulates it.
    module_ : torch.nn.Module
        The trained network (:class:`skdeep.nn.MLP`).
    net_ : skdeep._training.TrainingNet
        The skorch ``NeuralNet`` that trained it."""


class DeepMLPClassifier(ClassifierMixin, ClassifierTraining, _BaseMLP):
    __doc__ = f"""Multi-layer perceptron classifier trained with PyTorch.

    A drop-in for :class:`sklearn.neural_network.MLPClassifier` with dropout, batch
    normalisation, L1/L2 penalties, class weights, GPU training and the sklearn
    conventions (pipelines, searches, cloning, pickling) intact.

    Parameters
    ----------{_SHARED_DOC}
    class_weight : dict, "balanced" or None, default=None
        Weights per class (``{{label: weight}}``) multiplied into the per-sample loss;
        ``"balanced"`` uses ``n_samples / (n_classes * np.bincount(y))``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted as ``numpy.unique`` sorts them.{_ATTRIBUTES_DOC}

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skdeep import DeepMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(),
    ...                     DeepMLPClassifier(max_epochs=100, random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    """

    _fitted_attributes = (*DeepEstimator._fitted_attributes, "classes_")
    _multi_output = False

    def __init__(
        self,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        alpha=1e-4,
        l1=0.0,
        learning_rate=1e-3,
        optimizer="adam",
        batch_size=200,
        max_epochs=200,
        class_weight=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.alpha = alpha
        self.l1 = l1
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.class_weight = class_weight
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks

    def fit(self, X, y, sample_weight=None):
        """Train the network on ``X`` (array, DataFrame or sparse matrix) and labels ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Numeric features. Sparse input is densified one batch at a time.
        y : array-like of shape (n_samples,)
            Class labels (ints, strings, bools, a pandas Series, categorical included).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights (multiplied with ``class_weight``).

        Returns
        -------
        self : DeepMLPClassifier
        """
        return self._fit(X, y, sample_weight, partial=False)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on ``(X, y)``, initialising the network on the first call.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever appear; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : DeepMLPClassifier
        """
        self._check_partial_fit_call(classes)
        return self._fit(X, y, sample_weight, partial=True, classes=classes)

    def _n_outputs(self):
        return len(self.classes_)

    def _logits(self, X):
        self._check_fitted()
        X = self._validate_tabular(X, reset=False)
        return self._forward(X)

    def predict_proba(self, X):
        """Class probabilities, columns ordered as ``classes_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return torch.softmax(self._logits(X), dim=1).numpy()

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed stably from the logits."""
        return torch.log_softmax(self._logits(X), dim=1).numpy()

    def predict(self, X):
        """Most probable class label for each row of ``X`` (original label values)."""
        best = self._logits(X).argmax(dim=1).numpy()
        return self.classes_[best]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class DeepMLPRegressor(RegressorMixin, _BaseMLP):
    __doc__ = f"""Multi-layer perceptron regressor trained with PyTorch (squared error).

    A drop-in for :class:`sklearn.neural_network.MLPRegressor`; ``y`` may have several
    columns (multi-output). Like scikit-learn's MLP it does not scale ``y``: for targets
    far from unit scale wrap it in
    :class:`sklearn.compose.TransformedTargetRegressor` with a ``StandardScaler``.

    Parameters
    ----------{_SHARED_DOC}

    Attributes
    ----------
    n_outputs_ : int
        Number of target columns.{_ATTRIBUTES_DOC}

    Examples
    --------
    >>> import numpy as np
    >>> from skdeep import DeepMLPRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(300, 2))
    >>> y = X[:, 0] ** 2 + X[:, 1]
    >>> reg = DeepMLPRegressor(max_epochs=150, random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.9
    True
    """

    _fitted_attributes = (*DeepEstimator._fitted_attributes, "n_outputs_", "_y_ndim")
    _multi_output = True

    def __init__(
        self,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        alpha=1e-4,
        l1=0.0,
        learning_rate=1e-3,
        optimizer="adam",
        batch_size=200,
        max_epochs=200,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.alpha = alpha
        self.l1 = l1
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks

    def fit(self, X, y, sample_weight=None):
        """Train the network on ``X`` and real-valued targets ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : DeepMLPRegressor
        """
        return self._fit(X, y, sample_weight, partial=False)

    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch on ``(X, y)``, initialising the network on the first call."""
        return self._fit(X, y, sample_weight, partial=True)

    def _n_outputs(self):
        return self.n_outputs_

    def _criterion(self):
        return nn.MSELoss(reduction="none")

    @staticmethod
    def _validation_score(y_true, y_pred):
        # R^2 averaged uniformly over outputs, as RegressorMixin.score does.
        residual = ((y_true - y_pred) ** 2).sum(dim=0)
        total = ((y_true - y_true.mean(dim=0)) ** 2).sum(dim=0)
        r2 = torch.where(total > 0, 1 - residual / total.clamp_min(1e-12), torch.zeros_like(total))
        return r2.mean().item()

    def _encode_target(self, y, sample_weight, X, first_call, classes, partial):
        y = np.asarray(y)
        if not np.issubdtype(y.dtype, np.number) and y.dtype != bool:
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{type(self).__name__} needs numeric targets; y has dtype {y.dtype}."
                ) from None
        y2d = y.reshape(len(y), -1).astype(np.float32)
        if first_call:
            self.n_outputs_ = y2d.shape[1]
            self._y_ndim = y.ndim
        elif y2d.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y2d.shape[1]} output column(s), but "
                f"{type(self).__name__} was fitted with {self.n_outputs_}."
            )
        if not np.all(np.isfinite(y2d)):
            raise ValueError("Input y contains NaN or infinity; drop or impute those rows.")
        weight = normalised_weights(sample_weight, X)
        return torch.from_numpy(np.ascontiguousarray(y2d)), None, weight

    def predict(self, X):
        """Predicted targets, shaped like the ``y`` given to ``fit``."""
        self._check_fitted()
        X = self._validate_tabular(X, reset=False)
        out = self._forward(X).numpy()
        return out.ravel() if self._y_ndim == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
