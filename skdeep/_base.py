"""The estimator side of the shared machinery: the template every family fills in.

:class:`DeepEstimator` owns ``fit`` / ``partial_fit`` (as scikit-learn's
``BaseMultilayerPerceptron._fit`` does): parameter validation through
``_parameter_constraints``, device resolution, the first-call-or-continue rule, seeding
that never touches the caller's global RNG, the validation split, stopping, the progress
display, fitted-state bookkeeping (``history_``, ``n_iter_``, ``net_``), chunked inference
and the hooks that ``skdeep.save`` / ``skdeep.load`` use. The batches are run by skorch
(:mod:`skdeep._training`) over the containers and iterators of :mod:`skdeep._data`.

A family fills in these hooks (``docs/user_guide/new_family.rst`` walks through them):

* ``_parameter_constraints``: ``{**DeepEstimator._parameter_constraints, ...}``;
* ``_prepare_data(X, y, sample_weight, *, first_call, partial, classes)``: validate the
  input, fit the data adapter on the first call, return ``(container, stratify)``;
* ``_build_module()``: the ``nn.Module`` for the fitted data shapes;
* ``_criterion()``: the loss module;
* optional: ``_check_params()`` (checks constraints cannot express), ``_net_params()``
  (extra arguments for the net), ``_net_class`` (a :class:`~skdeep._training.TrainingNet`
  subclass, e.g. its own ``train_step``), ``_iterator`` (a :mod:`skdeep._data` iterator),
  ``_validation_score``, ``_module_params`` (parameters that shape the network),
  ``_adapters`` (fitted adapters saved as JSON), ``_fitted_attributes``,
  ``_stops_on_convergence`` (False for a family whose loss never settles, e.g. a GAN).
"""

from __future__ import annotations

import abc
import contextlib
import copy
import math
import secrets
import warnings

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import StrOptions
from skorch.history import History

from skdeep import distributed
from skdeep._data import BatchIterator, SplitData, to_device
from skdeep._docs import PLACEHOLDER, render_shared_parameters
from skdeep._training import (
    DivergenceGuard,
    ProgressDisplay,
    StopWhenStalled,
    TrainingNet,
    ValidationScore,
    _stderr,
    history_records,
)
from skdeep._validation import Int, Real, check_device

OPTIMIZERS = {
    "adam": (torch.optim.Adam, {}),
    "adamw": (torch.optim.AdamW, {}),
    # sklearn's MLP uses Nesterov momentum 0.9 for "sgd"; so do we.
    "sgd": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True}),
}

# Where the documentation (docs/, built with `make docs`) is published.
DOCS_URL = "https://skdeep.readthedocs.io/en/latest/"

# Rows per forward pass at predict time: large enough that per-call overhead vanishes,
# small enough to bound activation memory (and sparse densification) on big inputs.
PREDICT_ROWS = 8192


# Fitted-adapter keys of files written before adapters were saved by the base.
_LEGACY_ADAPTER_KEYS = {"_vocabulary": "vocabulary_", "_encoder_state": "encoder_"}


def _make_seed(random_state):
    """An int seed from ``random_state`` that leaves numpy's global RNG alone.

    ``None`` draws fresh OS entropy (sklearn would consume ``np.random``'s global state);
    a ``RandomState`` instance is consumed, as sklearn does; an int is used as is.
    """
    if random_state is None:
        return secrets.randbits(31)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
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


def _plain(value):
    """numpy scalars as Python values, so messages read ``348``, not ``np.int64(348)``."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return type(value)(_plain(v) for v in value)
    return value


class DeepEstimator(BaseEstimator, abc.ABC):
    """Base class of skdeep estimators (not for direct use): the template of a family.

    Subclasses declare every hyperparameter in their own ``__init__`` (sklearn reads the
    signature) and fill in the hooks listed in this module's docstring.
    """

    # The training parameters every family shares, declared once; a family merges its own:
    # ``_parameter_constraints = {**DeepEstimator._parameter_constraints, "dropout": [...]}``.
    # A family without one of them (a GAN has no single learning_rate) simply does not
    # take it in ``__init__``: constraints of absent parameters are never looked at.
    _parameter_constraints: dict = {
        "learning_rate": [Real(0, None, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "alpha": [Real(0, None, closed="left")],
        "batch_size": [Int(1, None, closed="left")],
        "max_epochs": [Int(1, None, closed="left")],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Real(0, 1, closed="neither")],
        "n_iter_no_change": [Int(1, None, closed="left")],
        "tol": [Real(0, None, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "callbacks": [list, tuple, None],
    }

    _fitted_attributes: tuple[str, ...] = (
        "n_features_in_",
        "feature_names_in_",
        "n_iter_",
        "history_",
        "do_early_stopping_",
    )
    # early_stopping="auto" holds out a validation split only when it has at least this
    # many rows: fewer score too noisily to pick an epoch by (and tiny data needs them all).
    _auto_min_validation_rows = 10
    # Fitted data adapters, by attribute name: saved through their JSON ``get_state()``
    # and restored with ``cls.from_state()`` before the module is rebuilt (when the fit
    # set them: an adapter may serve some inputs only).
    _adapters: dict[str, type] = {}
    # Parameters that shape the network (or its fitted adapter): a continuation (warm
    # start, partial_fit) that changed one is refused. The optimiser's kind and its weight
    # decay are fixed once it exists; learning_rate and batch_size may change.
    _module_params: tuple[str, ...] = ()
    _fixed_on_continuation = ("optimizer", "alpha")
    # The skorch net class and the batch iterator; a family swaps in its own.
    _net_class = TrainingNet
    _iterator = BatchIterator
    # Stop once the monitored loss stops improving (tol / n_iter_no_change), and warn when
    # it has not by max_epochs. A family whose losses never settle (a GAN) turns it off.
    _stops_on_convergence = True
    # The history columns the progress display shows (verbose >= 1).
    _progress_keys = ("train_loss", "valid_loss", "valid_score")
    # Shared-parameter docs that read differently in a family: {name: (type, text)}.
    _parameter_docs: dict[str, tuple[str, str]] = {}

    # Every public subclass, by "module.QualName": the only classes skdeep.load will
    # instantiate (a name in a model file is looked up here, never imported).
    registry: dict[str, type] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            DeepEstimator.registry[f"{cls.__module__}.{cls.__qualname__}"] = cls
        if cls.__doc__ and PLACEHOLDER in cls.__doc__:
            shared = render_shared_parameters(cls, cls._parameter_docs)
            cls.__doc__ = cls.__doc__.replace(PLACEHOLDER, shared)

    # scikit-learn's HTML repr links each estimator to its API page (docs/api.rst's
    # autosummary pages, named after the public module path, e.g. skdeep.DeepMLPClassifier).
    _doc_link_module = "skdeep"
    _doc_link_template = DOCS_URL + "api/generated/skdeep.{estimator_name}.html"

    # --- the hooks a family fills in --------------------------------------------------

    @abc.abstractmethod
    def _prepare_data(self, X, y, sample_weight, *, first_call, partial, classes):
        """Validate the input and return ``(container, stratify)``.

        On ``first_call`` fit the data adapter and set the data-derived fitted attributes
        (``n_features_in_``, ``classes_``, ...). Set fitted attributes only once the input
        is known to be valid: a failed call must leave a fitted model intact. ``stratify``
        holds labels for the validation split, or None.
        """

    @abc.abstractmethod
    def _build_module(self):
        """The ``torch.nn.Module`` for the fitted data (called on the first fit)."""

    @abc.abstractmethod
    def _criterion(self):
        """The loss module (per-sample losses, ``reduction="none"``, for ``TrainingNet``)."""

    def _check_params(self):
        """Checks ``_parameter_constraints`` cannot express (raise ``parameter_error``)."""

    def _net_params(self):
        """Arguments of the skorch net built from the parameters; a family extends them."""
        optimizer, optimizer_kwargs = OPTIMIZERS[self.optimizer]
        return {
            "criterion": self._criterion(),
            "optimizer": optimizer,
            "lr": self.learning_rate,
            "weight_decay": self.alpha,
            **{f"optimizer__{key}": value for key, value in optimizer_kwargs.items()},
        }

    def _continued_params(self):
        """Net parameters a continuation takes from the current parameters."""
        return {"lr": self.learning_rate}

    def _validation_score(self, y_true, y_pred):  # pragma: no cover - optional hook
        return None

    # --- fit --------------------------------------------------------------------------

    def fit(self, X, y=None):
        """Train the model on ``X``.

        Parameters
        ----------
        X : array-like
            Training data, as the family documents it.
        y : None
            Ignored; present for pipelines.

        Returns
        -------
        self : estimator
            The fitted estimator.
        """
        return self._fit(X, y, partial=False)

    def partial_fit(self, X, y=None):
        """Train for one epoch on ``X``, building the model on the first call.

        Parameters
        ----------
        X : array-like
            Training data, as the family documents it.
        y : None
            Ignored; present for pipelines.

        Returns
        -------
        self : estimator
            The estimator, trained for one more epoch.
        """
        return self._fit(X, y, partial=True)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X, y=None, *, sample_weight=None, partial, classes=None):
        """The one fit skeleton: ``fit`` and ``partial_fit`` of every family end here."""
        self._check_params()
        device = check_device(self.device)
        first_call = self._is_first_call(partial)
        data, stratify = self._prepare_data(
            X, y, sample_weight, first_call=first_call, partial=partial, classes=classes
        )
        self._run_training(
            data, device=device, first_call=first_call, partial=partial, stratify=stratify
        )
        return self

    def _is_first_call(self, partial):
        """One rule for every family: build anew unless fitted and continuing.

        ``partial_fit`` continues a fitted model; ``fit`` does when ``warm_start=True``. A
        continuation whose network-shaping parameters changed since the build is refused,
        as training the old network under the new parameters would mislead.
        """
        if not self._is_fitted() or (not partial and not getattr(self, "warm_start", False)):
            return True
        changed = {
            name: (self._built_with[name], getattr(self, name))
            for name in self._built_with
            if _plain(getattr(self, name)) != self._built_with[name]
        }
        if changed:
            what = "; ".join(f"{k} was {old!r}, is {new!r}" for k, (old, new) in changed.items())
            call = "partial_fit" if partial else "fit with warm_start=True"
            raise ValueError(
                f"{type(self).__name__}.{call} continues the fitted network, but parameters "
                f"that shape it changed since it was built ({what}). Set them back, or set "
                "warm_start=False (or clone the estimator) to train a new network."
            )
        return False

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

    def _make_net(self, module, device):
        """A fresh, initialised net with the estimator's callbacks."""
        callbacks = [
            ("divergence_guard", DivergenceGuard()),
            (
                "progress",
                ProgressDisplay(
                    self.verbose, self.max_epochs, type(self).__name__, self._progress_keys
                ),
            ),
        ]
        if type(self)._validation_score is not DeepEstimator._validation_score:
            callbacks.insert(0, ("valid_score", ValidationScore(self._validation_score)))
        # Callbacks are copied like sklearn clones sub-estimators: fit must not mutate
        # parameters. The fitted copies are reachable as ``net_.callbacks_``. An Optuna
        # trial a callback holds (a pruning callback) is shared, not copied: the copy must
        # report to the study the user's trial belongs to.
        user = copy.deepcopy(list(self.callbacks or []), _shared_trials(self.callbacks))
        # Order matters at epoch end: score, guard, user callbacks, display, then stopping
        # (which ends the epoch loop by raising).
        callbacks = callbacks[:-1] + user + callbacks[-1:]
        if self._stops_on_convergence:  # what it monitors is set per fit (_run_training)
            stopper = StopWhenStalled(
                "train_loss",
                self.n_iter_no_change,
                self.tol,
                restore_best=False,
                sink=_stderr if self.verbose >= 2 else None,
            )
            callbacks.append(("stopping", stopper))
        net = self._net_class(
            module,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            train_split=None,
            iterator_train=self._iterator,
            iterator_train__shuffle=True,
            iterator_valid=self._iterator,
            iterator_valid__shuffle=False,
            callbacks=callbacks,
            device=str(device),
            verbose=0,
            **self._net_params(),
        )
        return net.initialize()

    def _uses_early_stopping(self, data):
        """Whether this fit holds out a validation split: ``early_stopping`` as a bool, and
        for ``"auto"`` whether ``validation_fraction`` of ``data`` makes enough rows."""
        if self.early_stopping != "auto":
            return bool(self.early_stopping)
        n_valid = math.ceil(self.validation_fraction * len(data))
        return min(n_valid, len(data) - n_valid) >= self._auto_min_validation_rows

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
        # Under a multi-process launch, the processes train one model together.
        parallel = distributed.session_for(self)
        if first_call:
            self._seed = _make_seed(self.random_state)
            if parallel is not None:  # one seed (splits, init, batch order) for all
                self._seed = parallel.broadcast(self._seed)
                device = parallel.device
        else:  # continue on the device the model lives on
            device = torch.device(self.net_.device)
        # Each continuation draws a fresh, reproducible stream (dropout, shuffling).
        seed = self._seed + (0 if first_call else len(self.net_.history))
        with isolated_torch_rng(seed, device):
            if first_call:
                self.net_ = self._make_net(self._build_module(), device)
                fixed = (*self._module_params, *self._fixed_on_continuation)
                params = self.get_params(deep=False)
                self._built_with = {name: _plain(params[name]) for name in fixed if name in params}
            else:
                current = {"batch_size": self.batch_size, **self._continued_params()}
                changed = {k: v for k, v in current.items() if getattr(self.net_, k) != v}
                if changed:  # e.g. a lower learning rate for the next epochs
                    self.net_.set_params(**changed)
            stopper = dict(self.net_.callbacks_).get("stopping")
            validate = (
                not partial and self._stops_on_convergence and self._uses_early_stopping(data)
            )
            if self._stops_on_convergence and (first_call or not partial):
                self.do_early_stopping_ = validate
            if stopper is not None:
                stopper.active = not partial
                stopper.monitor = "valid_loss" if validate else "train_loss"
                stopper.restore_best = validate
            if validate:
                split = SplitData(*self._validation_split(data, stratify))
            else:
                split = SplitData(data)
            if parallel is None:
                self.__dict__.pop("_data_parallel_process", None)
                training = contextlib.nullcontext()
            else:
                training = parallel.training(self, self.net_, len(data))
            with training:
                self.net_.partial_fit(split, epochs=1 if partial else self.max_epochs)
        self.history_ = history_records(self.net_.history)
        self.n_iter_ = len(self.history_)
        if stopper is not None and not partial and not stopper.converged_:
            advice = "raise max_epochs or tol" + (
                "" if self.do_early_stopping_ else ", or set early_stopping=True"
            )
            warnings.warn(
                f"{type(self).__name__}: max_epochs={self.max_epochs} reached and the "
                f"optimisation hasn't converged yet (see history_); {advice}.",
                ConvergenceWarning,
                stacklevel=5,  # the user's fit call
            )

    # --- prediction -------------------------------------------------------------------

    def _check_fitted(self):
        if not self._is_fitted():
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def _eval_module(self):
        """The trained module in eval mode, and its device."""
        module = self.net_.module_
        if module.training:  # skorch switches the whole tree at once, so the root tells
            module.eval()
        return module, self.net_.device

    def _infer(self, fn, *arrays):
        """``fn(module, *chunks)`` over row chunks of ``arrays``, in eval mode, no autograd.

        ``arrays`` (ndarrays or sparse matrices with the same rows) reach ``fn`` as tensors on
        the model's device: floating ones as float32 (the modules' dtype), others (category
        codes) as they are, sparse chunks densified. ``fn`` returns a tensor or a tuple of
        them; the result is a tuple of float64 CPU tensors over all rows, float64 because
        scikit-learn returns it (probabilities then sum to 1 at float64 precision). Memory
        beyond the result is bounded by one chunk of ``PREDICT_ROWS`` rows.
        """
        module, device = self._eval_module()
        rows = PREDICT_ROWS
        for array in arrays:
            if sp.issparse(array):  # bound each densified chunk to ~64 MiB of float32
                rows = max(1, min(rows, 2**24 // max(1, array.shape[1])))
        n = arrays[0].shape[0]
        with torch.inference_mode():
            if n <= rows:  # the common case, and the 1-row fast path: one pass, no copies
                return _as_outputs(fn(module, *(to_device(a, device) for a in arrays)))
            results = None
            for start in range(0, n, rows):
                chunks = (to_device(a[start : start + rows], device) for a in arrays)
                out = _as_outputs(fn(module, *chunks))
                if results is None:  # allocate the result once, not a list of chunks
                    results = tuple(torch.empty((n, *t.shape[1:]), dtype=t.dtype) for t in out)
                for result, part in zip(results, out, strict=True):
                    result[start : start + len(part)] = part
            return results

    def _infer_batches(self, fn, batches, n_rows):
        """``fn(module, inputs)`` over ``(index, inputs)`` batches covering ``n_rows`` rows.

        For containers whose batches are not row slices (texts grouped by length): outputs
        are written back to the rows in ``index``, in the caller's order.
        """
        module, device = self._eval_module()
        results = None
        with torch.inference_mode():
            for index, inputs in batches:
                out = _as_outputs(fn(module, to_device(inputs, device)))
                if results is None:
                    results = tuple(
                        torch.empty((n_rows, *t.shape[1:]), dtype=t.dtype) for t in out
                    )
                for result, part in zip(results, out, strict=True):
                    result[index] = part
        return results

    # --- persistence (used by skdeep.io) ----------------------------------------------

    def _get_fitted_state(self):
        """Fitted attributes (plain values) and tensors, for ``skdeep.save``.

        Every module, criterion and optimiser the net registered is saved (a GAN's
        generator and discriminator with their two optimisers), under its skorch name.
        """
        self._check_fitted()
        attributes = {
            name: getattr(self, name) for name in self._fitted_attributes if hasattr(self, name)
        }
        attributes["_seed"] = self._seed
        attributes["_built_with"] = self._built_with
        for name in self._adapters:  # an adapter a fit did not need is absent
            if hasattr(self, name):
                attributes[f"_adapter:{name}"] = getattr(self, name).get_state()
        tensors = {}
        for name in self.net_._modules + self.net_._criteria:
            module = getattr(self.net_, name + "_")
            if isinstance(module, torch.nn.Module):
                tensors.update({f"{name}.{k}": v for k, v in module.state_dict().items()})
        # The optimiser state (e.g. Adam's moments) too, so that training resumes exactly.
        param_groups = {}
        for name in self.net_._optimizers:
            state = getattr(self.net_, name + "_").state_dict()
            param_groups[name] = state["param_groups"]
            for index, per_param in state["state"].items():
                for key, value in per_param.items():
                    tensors[f"{name}.{index}.{key}"] = torch.as_tensor(value)
        attributes["_optimizer_param_groups"] = param_groups
        return attributes, tensors

    def _set_fitted_state(self, attributes, tensors):
        """Inverse of :meth:`_get_fitted_state` (``device`` must already be usable)."""
        attributes = dict(attributes)
        param_groups = attributes.pop("_optimizer_param_groups", None) or {}
        if isinstance(param_groups, list):  # files of skdeep 0.1.0.dev0: one optimiser
            param_groups = {"optimizer": param_groups}
        for old, new in _LEGACY_ADAPTER_KEYS.items():
            if old in attributes:
                attributes[f"_adapter:{new}"] = attributes.pop(old)
        for name, cls in self._adapters.items():
            if f"_adapter:{name}" in attributes:
                setattr(self, name, cls.from_state(attributes.pop(f"_adapter:{name}")))
        for name, value in attributes.items():
            setattr(self, name, value)
        if not hasattr(self, "_built_with"):
            self._built_with = {}
        self._validate_params()
        device = check_device(self.device)
        with isolated_torch_rng(self._seed, device):
            self.net_ = self._make_net(self._build_module(), device)
        modules = self.net_._modules + self.net_._criteria
        weights = {name: {} for name in modules}
        optimizer_state = {name: {} for name in self.net_._optimizers}
        for key, value in tensors.items():
            owner, rest = key.split(".", 1)
            if owner in weights:
                weights[owner][rest] = value
            elif owner in optimizer_state:
                index, name = rest.split(".", 1)
                optimizer_state[owner].setdefault(int(index), {})[name] = value
        for name in modules:
            module = getattr(self.net_, name + "_")
            if isinstance(module, torch.nn.Module) and (
                weights[name] or name in self.net_._modules
            ):
                module.load_state_dict(weights[name])
        for name, groups in param_groups.items():
            getattr(self.net_, name + "_").load_state_dict(
                {"state": optimizer_state[name], "param_groups": groups}
            )
        self.net_.history = History([dict(row, batches=[]) for row in self.history_])
        return self


def _shared_trials(callbacks):
    """A ``deepcopy`` memo that keeps the Optuna trials held by ``callbacks`` as they are."""
    memo = {}
    for item in callbacks or []:
        callback = item[1] if isinstance(item, tuple) else item
        for value in getattr(callback, "__dict__", {}).values():
            if type(value).__module__.startswith("optuna.trial"):
                memo[id(value)] = value
    return memo


def _as_outputs(out):
    """A module's output as a tuple of float64 CPU tensors."""
    if isinstance(out, tuple):
        return tuple(t.cpu().double() for t in out)
    return (out.cpu().double(),)
