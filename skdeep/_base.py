"""The estimator side of the shared machinery: from flat sklearn parameters to a training run.

:class:`DeepEstimator` is what every skdeep estimator subclasses. It owns the parts that
must behave the same in every family: parameter checks, device resolution, seeding that
never touches the caller's global RNG, the validation split, stopping, progress display,
fitted-state bookkeeping (``history_``, ``n_iter_``, ``module_``) and the hooks that
``skdeep.save`` / ``skdeep.load`` use. The batches themselves are run by skorch (see
``skdeep._training``).

A family implements:

* ``_build_module()``: the ``nn.Module`` for the fitted data shapes;
* ``_criterion()``: a loss module returning per-sample losses (``reduction="none"``);
* ``_validation_score(y_true, y_pred)``: the score recorded as ``valid_score`` (optional);
* ``_fitted_attributes``: names of fitted attributes that ``skdeep.save`` must keep;
  a family with a data adapter also extends ``_get_fitted_state`` /
  ``_set_fitted_state`` with the adapter's ``get_state()`` / ``from_state()``;
* optionally ``_net_class``: a :class:`~skdeep._training.TrainingNet` subclass.
"""

from __future__ import annotations

import contextlib
import copy
import math
import secrets
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import _num_samples, validate_data
from skorch.history import History

from skdeep._training import (
    DivergenceGuard,
    ProgressDisplay,
    SplitData,
    StopWhenStalled,
    TrainingNet,
    ValidationScore,
    _stderr,
    history_records,
)
from skdeep._validation import (
    check_bool,
    check_device,
    check_finite,
    check_int,
    check_option,
    check_real,
)

OPTIMIZERS = {
    "adam": (torch.optim.Adam, {}),
    "adamw": (torch.optim.AdamW, {}),
    # sklearn's MLP uses Nesterov momentum 0.9 for "sgd"; so do we.
    "sgd": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True}),
}


def _call_module(module, X):
    return module(X)


# Rows per forward pass at predict time: large enough that per-call overhead vanishes,
# small enough to bound activation memory (and sparse densification) on big inputs.
PREDICT_ROWS = 8192


def _make_seed(random_state):
    """An int seed from ``random_state`` that leaves numpy's global RNG alone.

    ``None`` draws fresh OS entropy (sklearn would consume ``np.random``'s global state);
    a ``RandomState`` instance is consumed, as sklearn does; an int is used as is.
    """
    if random_state is None:
        return secrets.randbits(31)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise ValueError(
            f"random_state={random_state!r} must be None, an int or a "
            "numpy.random.RandomState instance."
        )
    check_random_state(int(random_state))  # range check with sklearn's message
    return int(random_state)


@contextlib.contextmanager
def isolated_torch_rng(seed, device):
    """Seed torch inside the block and restore the caller's RNG state afterwards."""
    cuda = (
        [device.index if device.index is not None else torch.cuda.current_device()]
        if device.type == "cuda"
        else []
    )
    with torch.random.fork_rng(devices=cuda):
        torch.random.default_generator.manual_seed(seed)
        for index in cuda:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield


class DeepEstimator(BaseEstimator):
    """Base class of skdeep estimators (not for direct use).

    Subclasses declare every hyperparameter in their own ``__init__`` (sklearn reads the
    signature) and call the helpers below from ``fit`` / ``partial_fit`` / ``predict``.
    """

    _fitted_attributes: tuple[str, ...] = (
        "n_features_in_",
        "feature_names_in_",
        "n_iter_",
        "history_",
    )
    # Every public subclass, by "module.QualName": the only classes skdeep.load will
    # instantiate (a name in a model file is looked up here, never imported).
    registry: dict[str, type] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            DeepEstimator.registry[f"{cls.__module__}.{cls.__qualname__}"] = cls

    # The skorch net class; a family swaps in a subclass for its own loss or batching
    # (e.g. a VAE's ELBO in ``get_loss``, length-bucketed text batches in
    # ``get_iterator``).
    _net_class = TrainingNet

    # --- parameters -----------------------------------------------------------------

    def _check_training_params(self):
        """Validate the parameters every family shares; returns the resolved device."""
        check_real("learning_rate", self.learning_rate, min_val=0.0, include_boundaries="neither")
        check_int("batch_size", self.batch_size, min_val=1)
        check_int("max_epochs", self.max_epochs, min_val=1)
        check_real("alpha", self.alpha, min_val=0.0)
        check_option("optimizer", self.optimizer, tuple(OPTIMIZERS))
        check_bool("early_stopping", self.early_stopping)
        check_real(
            "validation_fraction",
            self.validation_fraction,
            min_val=0.0,
            max_val=1.0,
            include_boundaries="neither",
        )
        check_int("n_iter_no_change", self.n_iter_no_change, min_val=1)
        check_real("tol", self.tol, min_val=0.0)
        check_int("verbose", self.verbose, min_val=0)
        check_bool("warm_start", self.warm_start)
        if self.callbacks is not None and not isinstance(self.callbacks, list | tuple):
            raise TypeError(
                f"callbacks={self.callbacks!r} must be None or a list of skorch callbacks."
            )
        return check_device(self.device)

    # --- input ----------------------------------------------------------------------

    def _validate_tabular(
        self, X, *, reset, y="no_validation", multi_output=False, dtype=(np.float32, np.float64)
    ):
        """sklearn's ``validate_data`` plus clearer messages for tabular inputs.

        Returns float ``X`` (ndarray or CSR; float32 and float64 are kept as they are,
        other dtypes become float32) and, when given, ``y`` as validated.
        """
        name = type(self).__name__
        if not reset and no_y_given(y) and self._is_plain_float_matrix(X):
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
        no_y = no_y_given(y)
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
        common = dict(accept_sparse="csr", dtype=dtype, ensure_all_finite=False, reset=reset)
        if no_y:
            X = validate_data(self, X, **common)
        else:
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

    @staticmethod
    def _as_tensor(X):
        """A tensor sharing memory with a dense float array; CSR is kept as is.

        float64 input is not copied to float32 up front: batches are cast one at a time
        (see ``ArrayData.batch``), which costs microseconds and saves a copy of the data.
        """
        if sp.issparse(X):
            return X.tocsr()
        X = np.ascontiguousarray(X)
        if not X.flags.writeable:  # torch warns on read-only arrays (memmaps)
            X = X.copy()
        return torch.from_numpy(X)

    # --- training -------------------------------------------------------------------

    def _is_fitted(self):
        return hasattr(self, "net_")

    def __sklearn_is_fitted__(self):
        return self._is_fitted()

    @property
    def module_(self):
        """The trained ``torch.nn.Module`` (available after ``fit``)."""
        if not self._is_fitted():
            raise AttributeError(f"{type(self).__name__} has no module_ before fit.")
        return self.net_.module_

    def _validation_score(self, y_true, y_pred):  # pragma: no cover - overridden
        return None

    def _make_net(self, module, device, seed):
        """A fresh, initialised :class:`TrainingNet` with the estimator's callbacks."""
        optimizer, optimizer_kwargs = OPTIMIZERS[self.optimizer]
        monitor = "valid_loss" if self.early_stopping else "train_loss"
        sink = _stderr if self.verbose >= 2 else None
        # Order matters at epoch end: score, user callbacks, display, then stopping
        # (which ends the epoch loop by raising).
        callbacks = [
            ("divergence_guard", DivergenceGuard()),
            ("progress", ProgressDisplay(self.verbose, self.max_epochs, name=type(self).__name__)),
            (
                "stopping",
                StopWhenStalled(
                    monitor,
                    self.n_iter_no_change,
                    self.tol,
                    restore_best=self.early_stopping,
                    sink=sink,
                ),
            ),
        ]
        if type(self)._validation_score is not DeepEstimator._validation_score:
            callbacks.insert(0, ("valid_score", ValidationScore(self._validation_score)))
        # Callbacks are copied like sklearn clones sub-estimators: fit must not mutate
        # parameters. The fitted copies are reachable as ``net_.callbacks_``.
        user = copy.deepcopy(list(self.callbacks or []))
        net = self._net_class(
            module,
            criterion=self._criterion(),
            optimizer=optimizer,
            lr=self.learning_rate,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            train_split=None,
            callbacks=callbacks[:-2] + user + callbacks[-2:],
            device=str(device),
            weight_decay=self.alpha,
            l1=getattr(self, "l1", 0.0),
            seed=seed,
            verbose=0,
            **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
        )
        return net.initialize()

    def _validation_split(self, data, stratify=None):
        """Hold out ``validation_fraction`` of ``data`` (stratified when possible)."""
        n = len(data)
        n_valid = math.ceil(self.validation_fraction * n)
        if n_valid < 1 or n - n_valid < 1:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves {n - n_valid} "
                f"training and {n_valid} validation rows out of {n}; early_stopping needs "
                "both to be non-empty. Use more data or set early_stopping=False."
            )
        index = np.arange(n)
        try:
            train, valid = train_test_split(
                index, test_size=n_valid, stratify=stratify, random_state=self._seed
            )
        except ValueError:  # a class too rare to stratify: fall back to a plain split
            train, valid = train_test_split(index, test_size=n_valid, random_state=self._seed)
        return data.subset(np.sort(train)), data.subset(np.sort(valid))

    def _run_training(self, data, *, device, first_call, partial, stratify=None):
        """Build (when ``first_call``) and train the network on ``data``.

        ``partial=True`` runs one epoch without validation or stopping, like
        sklearn's ``partial_fit``.
        """
        if first_call:
            self._seed = _make_seed(self.random_state)
        else:  # continue on the device the model lives on
            device = torch.device(self.net_.device)
        # Each continuation draws a fresh, reproducible stream (dropout, shuffling).
        seed = self._seed + (0 if first_call else len(self.net_.history))
        with isolated_torch_rng(seed, device):
            if first_call:
                self.net_ = self._make_net(self._build_module(), device, self._seed)
            stopper = self.net_.callbacks_[_callback_index(self.net_, "stopping")][1]
            stopper.active = not partial
            if partial or not self.early_stopping:
                split = SplitData(data)
            else:
                split = SplitData(*self._validation_split(data, stratify))
            epochs = 1 if partial else self.max_epochs
            self.net_.partial_fit(split, epochs=epochs)
        self.history_ = history_records(self.net_.history)
        self.n_iter_ = len(self.history_)
        if not partial and not stopper.converged_:
            warnings.warn(
                f"{type(self).__name__}: max_epochs={self.max_epochs} reached and the "
                "optimisation hasn't converged yet (see history_); raise max_epochs or "
                "tol, or set early_stopping=True.",
                ConvergenceWarning,
                stacklevel=4,  # the user's fit call
            )

    # --- prediction -----------------------------------------------------------------

    def _check_fitted(self):
        if not self._is_fitted():
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def _infer(self, fn, *arrays):
        """``fn(module, *chunks)`` over row chunks of ``arrays``, in eval mode, no autograd.

        ``arrays`` (ndarrays or sparse matrices with the same rows) reach ``fn`` as tensors on
        the model's device: floating ones as float32 (the modules' dtype), others (category
        codes) as they are, sparse chunks densified. ``fn`` returns a tensor or a tuple of
        them; the result is a tuple of float64 CPU tensors over all rows, float64 because
        scikit-learn returns it (probabilities then sum to 1 at float64 precision).
        """
        module, device = self.net_.module_, self.net_.device
        if module.training:  # skorch switches the whole tree at once, so the root tells
            module.eval()
        rows = PREDICT_ROWS
        for array in arrays:
            if sp.issparse(array):  # bound each densified chunk to ~64 MiB of float32
                rows = max(1, min(rows, 2**24 // max(1, array.shape[1])))
        n = arrays[0].shape[0]
        outputs = []
        with torch.inference_mode():
            for start in range(0, max(n, 1), rows):
                chunks = [
                    self._device_tensor(a if n <= rows else a[start : start + rows], device)
                    for a in arrays
                ]
                out = fn(module, *chunks)
                outputs.append(
                    tuple(t.cpu().double() for t in out)
                    if isinstance(out, tuple)
                    else (out.cpu().double(),)
                )
            if len(outputs) == 1:  # the common case: one pass
                return outputs[0]
            return tuple(torch.cat(parts) for parts in zip(*outputs, strict=True))

    @classmethod
    def _device_tensor(cls, chunk, device):
        """A chunk of rows as a tensor on ``device``: floats as float32, others unchanged."""
        chunk = torch.from_numpy(chunk.toarray()) if sp.issparse(chunk) else cls._as_tensor(chunk)
        return chunk.to(device, torch.float32 if chunk.is_floating_point() else None)

    def _forward(self, X):
        """Module outputs for validated ``X`` (ndarray or CSR) as a float64 CPU tensor."""
        return self._infer(_call_module, X)[0]

    # --- persistence (used by skdeep.io) ---------------------------------------------

    def _get_fitted_state(self):
        """Fitted attributes (plain values) and tensors, for ``skdeep.save``."""
        self._check_fitted()
        attributes = {
            name: getattr(self, name) for name in self._fitted_attributes if hasattr(self, name)
        }
        attributes["_seed"] = self._seed
        tensors = {f"module.{k}": v for k, v in self.net_.module_.state_dict().items()}
        # The optimiser state (e.g. Adam's moments) too, so that training resumes exactly.
        optimizer = self.net_.optimizer_.state_dict()
        attributes["_optimizer_param_groups"] = optimizer["param_groups"]
        for index, per_param in optimizer["state"].items():
            for key, value in per_param.items():
                tensors[f"optimizer.{index}.{key}"] = torch.as_tensor(value)
        return attributes, tensors

    def _set_fitted_state(self, attributes, tensors):
        """Inverse of :meth:`_get_fitted_state` (``device`` must already be usable)."""
        attributes = dict(attributes)
        param_groups = attributes.pop("_optimizer_param_groups", None)
        for name, value in attributes.items():
            setattr(self, name, value)
        device = self._check_training_params()
        with isolated_torch_rng(self._seed, device):
            self.net_ = self._make_net(self._build_module(), device, self._seed)
        weights, optimizer_state = {}, {}
        for key, value in tensors.items():
            kind, rest = key.split(".", 1)
            if kind == "module":
                weights[rest] = value
            elif kind == "optimizer":
                index, name = rest.split(".", 1)
                optimizer_state.setdefault(int(index), {})[name] = value
        self.net_.module_.load_state_dict(weights)
        if param_groups is not None:
            self.net_.optimizer_.load_state_dict(
                {"state": optimizer_state, "param_groups": param_groups}
            )
        self.net_.history = History([dict(row, batches=[]) for row in self.history_])
        return self


def no_y_given(y):
    return isinstance(y, str) and y == "no_validation"


def _callback_index(net, name):
    for i, (cb_name, _) in enumerate(net.callbacks_):
        if cb_name == name:
            return i
    raise KeyError(name)  # pragma: no cover - internal invariant
