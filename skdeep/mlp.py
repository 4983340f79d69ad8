"""Multi-layer perceptrons for tabular data: :class:`DeepMLPClassifier` and
:class:`DeepMLPRegressor`."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
import torch
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _check_y, _num_samples, validate_data
from torch import nn

from skdeep._base import DeepEstimator
from skdeep._classification import ClassifierTraining, normalised_weights
from skdeep._data import ArrayData, as_tensor
from skdeep._validation import Real, check_finite, check_frame, check_layer_sizes
from skdeep.nn import ACTIVATIONS, MLP
from skdeep.preprocessing.tabular import TabularEncoder

__all__ = ["DeepMLPClassifier", "DeepMLPRegressor"]


class _BaseMLP(DeepEstimator):
    """What the MLP classifier and regressor share: parameters, tabular input, module."""

    _parameter_constraints = {
        **DeepEstimator._parameter_constraints,
        "hidden_layer_sizes": ["array-like", numbers.Integral],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Real(0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "l1": [Real(0, None, closed="left")],
        "init": [StrOptions({"glorot", "torch"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],  # the classifier's
    }
    _module_params = ("hidden_layer_sizes", "activation", "dropout", "batch_norm", "init")
    _multi_output = False  # the regressor takes a 2-D y of several targets
    # Fitted only on a DataFrame with categorical columns (see _takes_table).
    _adapters = {"encoder_": TabularEncoder}

    def _check_params(self):
        check_layer_sizes(self)

    def _build_module(self):
        encoder = getattr(self, "encoder_", None)
        return MLP(
            self.n_features_in_ if encoder is None else len(encoder.numeric_columns_),
            self._n_outputs(),
            hidden_layer_sizes=check_layer_sizes(self),
            activation=self.activation,
            dropout=self.dropout,
            batch_norm=self.batch_norm,
            init=self.init,
            cardinalities=() if encoder is None else tuple(encoder.cardinalities_),
        )

    def _net_params(self):
        return {**super()._net_params(), "l1": self.l1}

    def _prepare_data(self, X, y, sample_weight, *, first_call, partial, classes):
        table = self._takes_table(X, first_call)
        if table:
            encoder, inputs, y = self._encode_table(X, y, first_call)
            n_rows = len(y)
        else:
            X, y = self._validate_tabular(X, reset=first_call, y=y)
            inputs, n_rows = as_tensor(X), X.shape[0]
        if self.batch_norm and n_rows < 2:
            raise ValueError(
                f"batch_norm=True needs at least 2 samples to train, got {n_rows} "
                "sample; set batch_norm=False or pass more rows."
            )
        target, stratify, weight = self._encode_target(
            y, sample_weight, X, first_call, classes, partial
        )
        if first_call:  # the input is known to be valid now
            if table:
                self.encoder_ = encoder
            else:
                self.__dict__.pop("encoder_", None)  # from an earlier fit on a table
        return ArrayData(inputs, target, weight), stratify

    # --- mixed tables: categorical columns encoded inside the estimator ----------------

    def _takes_table(self, X, first_call):
        """Whether ``X`` goes through the fitted :class:`TabularEncoder`: at fit, a DataFrame
        with a column that is neither numeric nor bool; later, whatever fit decided."""
        if not first_call:
            return hasattr(self, "encoder_")
        return isinstance(X, pd.DataFrame) and not all(
            pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
            for dtype in X.dtypes
        )

    def _encode_table(self, X, y, first_call):
        """``(encoder, {"X": numeric, "X_cat": codes}, y)`` for a mixed DataFrame."""
        if not isinstance(X, pd.DataFrame):
            raise ValueError(
                f"{type(self).__name__} was fitted on a DataFrame with categorical columns "
                f"{self.encoder_.categorical_columns_[:5]}; pass a DataFrame with the columns "
                f"seen during fit, not {type(X).__name__}."
            )
        check_frame(self, X, reset=first_call)
        if y is not None and len(y) != len(X):
            raise ValueError(
                f"X and y have different lengths: X has {len(X)} rows, y has {len(y)} "
                "values; they must describe the same samples."
            )
        shape = np.shape(np.asarray(y))
        multi_output = self._multi_output or (len(shape) == 2 and shape[1] > 1)
        # validate_data would check X's names against "no_validation" and warn.
        y = _check_y(y, multi_output=multi_output, estimator=self)
        encoder = self._fit_encoder(X) if first_call else self.encoder_
        x_num, x_cat = encoder.transform(X)
        return encoder, {"X": torch.from_numpy(x_num), "X_cat": torch.from_numpy(x_cat)}, y

    @staticmethod
    def _fit_encoder(X):
        # Unknown categories at predict add nothing to the first layer (code -1), as an
        # all-zero one-hot row would; missing values of a category are a level of their own.
        return TabularEncoder(handle_unknown="ignore").fit(X)

    # --- tabular input ----------------------------------------------------------------

    def _validate_tabular(self, X, *, reset, y="no_validation"):
        """sklearn's ``validate_data`` plus clearer messages for tabular inputs.

        Returns float ``X`` (ndarray or CSR; float32 and float64 are kept as they are,
        other dtypes become float32) and, when given, ``y`` as validated.
        """
        name = type(self).__name__
        no_y = isinstance(y, str) and y == "no_validation"
        if not reset and no_y and self._is_plain_float_matrix(X):
            # Fast path for the commonest predict input, where check_array has nothing to
            # convert and nothing to report: it alone costs ~50 us, a third of a 1-row
            # predict.
            check_finite(X, estimator_name=name)
            return X
        if isinstance(X, pd.DataFrame):
            non_numeric = [
                str(c)
                for c, dt in X.dtypes.items()
                if not (pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt))
            ]
            if non_numeric:
                raise ValueError(
                    f"{name} takes numeric features, but column(s) "
                    f"{', '.join(map(repr, non_numeric[:5]))} are not numeric. Encode them "
                    "first, e.g. with OneHotEncoder in a ColumnTransformer."
                )
        if not no_y and y is not None:
            try:
                n_X, n_y = _num_samples(X), _num_samples(y)
            except TypeError:
                n_X = n_y = None  # let validate_data explain what is wrong
            if n_X != n_y:
                raise ValueError(
                    f"X and y have different lengths: X has {n_X} rows, y has {n_y} "
                    "values; they must describe the same samples."
                )
        common = dict(
            accept_sparse="csr",
            dtype=(np.float32, np.float64),
            ensure_all_finite=False,
            reset=reset,
        )
        if no_y:
            X = validate_data(self, X, **common)
        else:
            # A column vector y of a classifier is raveled with scikit-learn's warning; a
            # wider one is a multilabel indicator matrix.
            shape = np.shape(np.asarray(y)) if y is not None else ()
            multi_output = self._multi_output or (len(shape) == 2 and shape[1] > 1)
            X, y = validate_data(self, X, y, multi_output=multi_output, y_numeric=False, **common)
        check_finite(
            X, estimator_name=name, feature_names=getattr(self, "feature_names_in_", None)
        )
        return X if no_y else (X, y)

    def _is_plain_float_matrix(self, X):
        """A non-empty 2-D float ndarray of the fitted width, with no names to check."""
        return (
            type(X) is np.ndarray
            and X.dtype in (np.float32, np.float64)
            and X.ndim == 2
            and X.shape[0] > 0
            and X.shape[1] == getattr(self, "n_features_in_", None)
            and not hasattr(self, "feature_names_in_")
        )

    def _forward(self, X):
        """Module outputs for ``X`` (validated here) as a float64 CPU tensor."""
        self._check_fitted()
        if hasattr(self, "encoder_"):
            if not isinstance(X, pd.DataFrame):
                self._encode_table(X, None, first_call=False)  # raises, naming the columns
            check_frame(self, X, reset=False)
            return self._infer(_call_module, *self.encoder_.transform(X))[0]
        return self._infer(_call_module, self._validate_tabular(X, reset=False))[0]

    # --- scikit-learn MLP's fitted attributes, derived from history_ and the module ----

    @property
    def loss_curve_(self):
        """Training loss of each epoch (scikit-learn's ``loss_curve_``)."""
        return [row["train_loss"] for row in self._fitted("loss_curve_").history_]

    @property
    def best_loss_(self):
        """Lowest training loss, or None with ``early_stopping`` (as scikit-learn)."""
        if self._fitted("best_loss_")._validated():
            return None
        return min(self.loss_curve_)

    @property
    def validation_scores_(self):
        """Validation score of each epoch with ``early_stopping`` (accuracy or R^2), else
        None (as scikit-learn)."""
        history = self._fitted("validation_scores_").history_
        if not self._validated():
            return None
        return [row["valid_score"] for row in history if "valid_score" in row]

    @property
    def best_validation_score_(self):
        """Best validation score with ``early_stopping``, else None."""
        scores = self.validation_scores_
        return None if not scores else max(scores)

    @property
    def coefs_(self):
        """Weight matrices of the linear layers, ``coefs_[i]`` of shape (fan_in, fan_out),
        as numpy arrays (batch-norm scales, when used, are not folded in). For a table with
        categorical columns the rows of ``coefs_[0]`` are the numeric columns, then the
        one-hot columns of each category (``encoder_.categories_``, missing level last)."""
        weights = [layer.weight for layer in self._linear_layers()]
        weights[0] = self.module_.first_layer_weight()
        return [weight.detach().cpu().double().numpy().T for weight in weights]

    @property
    def intercepts_(self):
        """Bias vectors of the linear layers, ``intercepts_[i]`` of shape (fan_out,)."""
        return [layer.bias.detach().cpu().double().numpy() for layer in self._linear_layers()]

    @property
    def n_layers_(self):
        """Number of layers, input and output included (as scikit-learn counts)."""
        return len(self._linear_layers()) + 1

    def _validated(self):
        # Models saved before early_stopping="auto" existed lack do_early_stopping_.
        return getattr(self, "do_early_stopping_", self.early_stopping is True)

    def _linear_layers(self):
        module = self._fitted("coefs_").module_
        return [m for m in module.modules() if isinstance(m, nn.Linear)]

    def _fitted(self, attribute):
        if not self._is_fitted():
            raise AttributeError(f"{type(self).__name__} has no {attribute} before fit.")
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = False
        tags.target_tags.required = True
        return tags


def _call_module(module, X, X_cat=None):
    return module(X, X_cat)


def _target_scaling(y2d, normalize):
    """Per-output mean and scale that bring ``y`` to zero mean and unit variance (a
    constant output keeps scale 1), or the identity when ``normalize`` is False."""
    if not normalize:
        return np.zeros(y2d.shape[1]), np.ones(y2d.shape[1])
    y64 = y2d.astype(np.float64)
    scale = y64.std(axis=0)
    return y64.mean(axis=0), np.where(scale > 0, scale, 1.0)


_MLP_DOC = """
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Width of each hidden layer; ``()`` gives a linear model.
    activation : {"relu", "gelu", "tanh", "silu"}, default="relu"
        Non-linearity after each hidden layer.
    dropout : float in [0, 1), default=0.1
        Dropout probability after each hidden activation (training only).
    batch_norm : bool, default=False
        Batch normalisation before each hidden activation.
    l1 : float, default=0.0
        L1 penalty ``l1 * sum(|W|)`` on the weight matrices, added to every batch loss.
    init : {"glorot", "torch"}, default="glorot"
        Initial weights: ``"glorot"`` draws weights and biases uniformly in
        ``+-sqrt(6 / (fan_in + fan_out))``, as scikit-learn's MLP does (on the issue-3
        benchmark it scored 0.9356 mean test accuracy over 3 seeds against 0.9321 for
        ``"torch"``, PyTorch's default ``nn.Linear`` initialisation, the only one before
        skdeep 0.1; ``benchmarks/RESULTS.md``).
    {shared_parameters}"""

_ATTRIBUTES_DOC = """
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names, when ``X`` was a DataFrame with string column names.
    n_iter_ : int
        Number of epochs run (over all ``fit`` / ``partial_fit`` calls with warm start).
    do_early_stopping_ : bool
        Whether the last ``fit`` held out a validation split (``early_stopping`` resolved;
        see ``"auto"``).
    encoder_ : skdeep.preprocessing.TabularEncoder
        Only after ``fit`` on a DataFrame with categorical columns: the fitted encoder of
        the table (numeric columns standardised, categories coded).
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``valid_loss`` and
        ``valid_score`` (with ``early_stopping``), ``dur`` (seconds), ``best_epoch``
        (when best weights were restored). ``pandas.DataFrame(history_)`` tabulates it.
    loss_curve_, best_loss_, validation_scores_, best_validation_score_ : list or float
        scikit-learn MLP's names for what ``history_`` records.
    coefs_, intercepts_ : list of ndarray
        Weights and biases of the linear layers, as scikit-learn's MLP exposes them.
    n_layers_ : int
        Number of layers, input and output included.
    module_ : torch.nn.Module
        The trained network (:class:`skdeep.nn.MLP`).
    net_ : skdeep._training.TrainingNet
        The skorch ``NeuralNet`` that trained it."""


class DeepMLPClassifier(ClassifierMixin, ClassifierTraining, _BaseMLP):
    __doc__ = (
        """Multi-layer perceptron classifier trained with PyTorch.

    Takes what :class:`sklearn.neural_network.MLPClassifier` takes (dense or sparse numeric
    features; binary, multiclass or multilabel targets) and exposes its fitted attributes
    (``loss_curve_``, ``coefs_``, ...), with dropout, batch normalisation, L1/L2 penalties,
    class weights, GPU training and the sklearn conventions (pipelines, searches, cloning,
    pickling) intact. Some parameter names differ from scikit-learn's (``learning_rate`` is
    its ``learning_rate_init``, ``max_epochs`` its ``max_iter``): see the table in the
    user guide's conventions page. A DataFrame with categorical columns goes straight in.

    The defaults hold out a tenth of the rows for early stopping (from 100 rows on) and
    regularise with ``alpha=1e-2`` and ``dropout=0.1``: chosen by 5-fold cross-validation
    on training data of Adult, bank marketing, diabetes and Friedman #1 together, they beat
    ``LogisticRegression`` on Adult and ``MLPClassifier`` on a 50k-row synthetic task,
    where the defaults before skdeep 0.1 (``early_stopping=False, alpha=1e-4,
    dropout=0.0``, still available) overfitted (``benchmarks/RESULTS.md``, "Defaults").

    Parameters
    ----------"""
        + _MLP_DOC
        + """
    class_weight : dict, "balanced" or None, default=None
        Weights per class (``{label: weight}``) multiplied into the per-sample loss;
        ``"balanced"`` uses ``n_samples / (n_classes * np.bincount(y))``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted as ``numpy.unique`` sorts them; for a multilabel ``y``
        (a 0/1 indicator matrix) the label indices ``0 .. n_labels - 1``.
    out_activation_ : str
        ``"softmax"``, or ``"logistic"`` for a multilabel ``y`` (one sigmoid per label)."""
        + _ATTRIBUTES_DOC
        + """

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
    )

    _supports_multilabel = True

    def __init__(
        self,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        dropout=0.1,
        batch_norm=False,
        alpha=1e-2,
        l1=0.0,
        init="glorot",
        learning_rate=1e-3,
        optimizer="adam",
        batch_size=200,
        max_epochs=200,
        class_weight=None,
        early_stopping="auto",
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
        self.init = init
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

    def _n_outputs(self):
        return len(self.classes_)

    @property
    def out_activation_(self):
        """``"logistic"`` for a multilabel model, else ``"softmax"`` (as scikit-learn)."""
        return "logistic" if self._fitted("out_activation_")._multilabel else "softmax"

    def _scores(self, X):
        return self._forward(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()  # ClassifierMixin's classifier_tags exist now
        tags.classifier_tags.multi_label = True
        return tags


class DeepMLPRegressor(RegressorMixin, _BaseMLP):
    __doc__ = (
        """Multi-layer perceptron regressor trained with PyTorch (squared error).

    Takes what :class:`sklearn.neural_network.MLPRegressor` takes; ``y`` may have several
    columns (multi-output). Unlike scikit-learn's MLP it standardises ``y`` itself
    (``normalize_y=True``): targets in dollars or in the thousands train as well as targets
    near unit scale, with no ``TransformedTargetRegressor`` around it.

    The defaults (early stopping from 100 rows on, ``alpha=1e-2``, ``dropout=0.1``) are
    the classifier's, chosen by the same cross-validation (``benchmarks/RESULTS.md``,
    "Defaults"); ``early_stopping=False, alpha=1e-4, dropout=0.0`` gives the old ones.

    Parameters
    ----------"""
        + _MLP_DOC
        + """
    normalize_y : bool, default=True
        Train on ``y`` shifted and scaled to zero mean and unit variance per output (the
        mean and scale of the first ``fit`` / ``partial_fit`` call's ``y``), and undo it in
        ``predict``; saved with the model. ``history_``'s losses are then in those scaled
        units. False trains on ``y`` as given (scikit-learn's ``MLPRegressor`` behaviour).

    Attributes
    ----------
    n_outputs_ : int
        Number of target columns.
    out_activation_ : str
        ``"identity"``."""
        + _ATTRIBUTES_DOC
        + """

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
    )

    _parameter_constraints = {**_BaseMLP._parameter_constraints, "normalize_y": ["boolean"]}
    _module_params = (*_BaseMLP._module_params, "normalize_y")
    _fitted_attributes = (
        *DeepEstimator._fitted_attributes,
        "n_outputs_",
        "_y_ndim",
        "_y_mean",
        "_y_scale",
    )
    _multi_output = True
    # Models saved before normalize_y existed trained on y as given.
    _y_mean, _y_scale = 0.0, 1.0
    out_activation_ = "identity"

    def __init__(
        self,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        dropout=0.1,
        batch_norm=False,
        alpha=1e-2,
        l1=0.0,
        init="glorot",
        learning_rate=1e-3,
        optimizer="adam",
        batch_size=200,
        max_epochs=200,
        normalize_y=True,
        early_stopping="auto",
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
        self.init = init
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.normalize_y = normalize_y
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
            Numeric features. Sparse input is densified one batch at a time.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.

        Returns
        -------
        self : DeepMLPRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, partial=False)

    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch on ``(X, y)``, initialising the network on the first call.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Numeric features.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.

        Returns
        -------
        self : DeepMLPRegressor
            The estimator, trained for one more epoch.
        """
        return self._fit(X, y, sample_weight=sample_weight, partial=True)

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
            n_outputs, y_ndim = y2d.shape[1], y.ndim
        elif y2d.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y2d.shape[1]} output column(s), but "
                f"{type(self).__name__} was fitted with {self.n_outputs_}."
            )
        if not np.all(np.isfinite(y2d)):
            raise ValueError("Input y contains NaN or infinity; drop or impute those rows.")
        weight = normalised_weights(sample_weight, X)
        if first_call:
            self.n_outputs_, self._y_ndim = n_outputs, y_ndim
            self._y_mean, self._y_scale = _target_scaling(y2d, self.normalize_y)
        y2d = ((y2d - self._y_mean) / self._y_scale).astype(np.float32)
        return torch.from_numpy(np.ascontiguousarray(y2d)), None, weight

    def predict(self, X):
        """Predicted targets, shaped like the ``y`` given to ``fit``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Numeric features.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions.
        """
        out = self._forward(X).numpy() * self._y_scale + self._y_mean
        return out.ravel() if self._y_ndim == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
