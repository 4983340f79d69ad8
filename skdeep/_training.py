"""The training engine every skdeep estimator shares: skorch's ``NeuralNet`` with a fast
batch path and the callbacks that implement the sklearn-style training parameters.

Estimators never loop over batches themselves: they hand a :class:`SplitData` to
:meth:`TrainingNet.partial_fit` and skorch runs the epochs, the callbacks and the history.
What this module changes in skorch, and why:

* Data: the containers and iterators of :mod:`skdeep._data` instead of skorch's ``Dataset``
  + ``DataLoader``, chosen through skorch's own ``iterator_train`` / ``iterator_valid``.
* ``get_loss`` takes per-sample weights (``sample_weight`` x ``class_weight``) and adds the
  L1 penalty; ``get_params_for_optimizer`` applies L2 (``alpha``) to weight matrices only.
* Callbacks: validation score, divergence guard, sklearn-style stopping with best-weight
  restore, and a progress display on stderr.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PassthroughScoring
from skorch.utils import to_tensor

from skdeep._data import ArrayData, SplitData

__all__ = ["TrainingDivergedError", "TrainingNet"]


class TrainingDivergedError(FloatingPointError):
    """Raised when the training loss becomes NaN or infinite."""


class TrainingNet(NeuralNet):
    """skorch ``NeuralNet`` used by every skdeep estimator.

    Extra parameters beyond skorch's: ``weight_decay`` (L2 on weight matrices) and ``l1``
    (L1 on weight matrices). ``criterion`` must return per-sample losses
    (``reduction="none"``) so that sample weights can be applied. Call
    :meth:`partial_fit` with a :class:`~skdeep._data.SplitData`; batches come from the
    ``iterator_train`` / ``iterator_valid`` classes the estimator passes (see
    :mod:`skdeep._data`).
    """

    def __init__(self, module, *args, weight_decay=0.0, l1=0.0, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.weight_decay = weight_decay
        self.l1 = l1

    @property
    def _default_callbacks(self):
        # skorch's PrintLog is replaced by skdeep's own progress display.
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
        ]

    # --- data -----------------------------------------------------------------------

    def get_dataset(self, X, y=None):
        if isinstance(X, ArrayData):
            return X
        return ArrayData(X, y)

    def get_split_datasets(self, X, y=None, **fit_params):
        if isinstance(X, SplitData):
            return X.train, X.valid
        return super().get_split_datasets(X, y, **fit_params)

    def _set_training(self, training=True):
        # skorch calls this before every batch; ``Module.train`` walks the whole module
        # tree each time. Switch only when the mode actually changes.
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and module.training != training:
                return super()._set_training(training)
        return None

    # --- loss and optimiser ---------------------------------------------------------

    def initialize_module(self):
        super().initialize_module()
        # nanoGPT's rule: matrices (linear, embedding, conv kernels) are regularised,
        # vectors (biases, norm scales) are not.
        self.penalised_params_ = [p for p in self.module_.parameters() if p.ndim >= 2]
        return self

    def get_params_for_optimizer(self, prefix, named_parameters):
        kwargs = self.get_params_for(prefix)
        kwargs.setdefault("lr", self.lr)
        decay, no_decay = [], []
        for _, param in named_parameters:
            (decay if param.ndim >= 2 else no_decay).append(param)
        groups = [
            {"params": decay, "weight_decay": self.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        return (groups,), kwargs

    def get_loss(self, y_pred, y_true, X=None, training=False):
        weight = None
        if isinstance(y_true, tuple):
            y_true, weight = y_true
        losses = self.criterion_(y_pred, to_tensor(y_true, device=self.device))
        if losses.ndim > 1:  # multi-output regression: one loss per sample
            losses = losses.flatten(1).mean(dim=1)
        loss = losses.mean() if weight is None else (losses * weight.to(losses.device)).mean()
        if training and self.l1:
            loss = loss + self.l1 * sum(p.abs().sum() for p in self.penalised_params_)
        return loss


# --- callbacks ------------------------------------------------------------------------


class ValidationScore(Callback):
    """Records ``valid_score`` each epoch from the validation predictions skorch computes.

    ``score_fn(y_true, y_pred)`` takes tensors. The predictions are reused, so scoring
    costs no extra forward pass.
    """

    def __init__(self, score_fn):
        self.score_fn = score_fn

    def on_epoch_begin(self, net, **kwargs):
        self._y_true, self._y_pred = [], []

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if not training:
            y_true = batch[1][0] if isinstance(batch[1], tuple) else batch[1]
            self._y_true.append(y_true)
            self._y_pred.append(y_pred.detach().cpu())

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        if self._y_pred:
            score = self.score_fn(torch.cat(self._y_true), torch.cat(self._y_pred))
            net.history.record("valid_score", float(score))
        self._y_true, self._y_pred = [], []


class DivergenceGuard(Callback):
    """Stops training with :class:`TrainingDivergedError` on a NaN or infinite loss."""

    def on_batch_end(self, net, training=False, **kwargs):
        if not training:
            return
        # The value skorch has just recorded: no second device-to-host copy of the loss.
        batches = net.history[-1]["batches"]
        value = batches[-1].get("train_loss", 0.0)
        if not math.isfinite(value):
            epoch, batch = len(net.history), len(batches)
            raise TrainingDivergedError(
                f"The training loss became {value} at epoch {epoch}, batch {batch}: "
                f"training diverged. Try a lower learning_rate (now {net.lr:g}), scaling "
                "the input features (e.g. StandardScaler) or a larger batch_size."
            )


class StopWhenStalled(Callback):
    """sklearn-style stopping: stop when ``monitor`` has not improved by at least ``tol``
    for ``patience`` consecutive epochs.

    With ``monitor="valid_loss"`` (``early_stopping=True``) the weights of the best epoch
    are restored at the end. ``converged_`` tells whether the criterion was met (for the
    ConvergenceWarning). ``active`` is switched off for ``partial_fit``.
    """

    def __init__(self, monitor, patience, tol, restore_best, sink=None):
        self.monitor = monitor
        self.patience = patience
        self.tol = tol
        self.restore_best = restore_best
        self.sink = sink
        self.active = True

    def on_train_begin(self, net, **kwargs):
        self.best_ = math.inf
        self.best_epoch_ = None
        self.best_weights_ = None
        self.misses_ = 0
        self.converged_ = False

    def on_epoch_end(self, net, **kwargs):
        if not self.active:
            return
        current = net.history[-1, self.monitor]
        if current < self.best_:
            self.best_epoch_ = net.history[-1, "epoch"]
            if self.restore_best:
                self._keep_weights(net.module_.state_dict())
        if current > self.best_ - self.tol:
            self.misses_ += 1
        else:
            self.misses_ = 0
        self.best_ = min(self.best_, current)
        if self.misses_ >= self.patience:
            self.converged_ = True
            if self.sink is not None:
                self.sink(
                    f"Stopping: {self.monitor} did not improve by tol={self.tol:g} "
                    f"for {self.patience} epochs."
                )
            raise KeyboardInterrupt  # skorch's way to end fit_loop early

    def _keep_weights(self, state):
        # Copy into the buffers of the previous best: one allocation per fit, not per epoch.
        if self.best_weights_ is None or self.best_weights_.keys() != state.keys():
            self.best_weights_ = {name: tensor.detach().clone() for name, tensor in state.items()}
            return
        for name, tensor in state.items():
            self.best_weights_[name].copy_(tensor)

    def on_train_end(self, net, **kwargs):
        if self.active and self.best_weights_ is not None:
            if self.best_epoch_ != net.history[-1, "epoch"]:
                net.module_.load_state_dict(self.best_weights_)
                if self.sink is not None:
                    self.sink(
                        f"Restored the weights of epoch {self.best_epoch_} "
                        f"(best {self.monitor}={self.best_:.4g})."
                    )
            net.history.record("best_epoch", self.best_epoch_)
        self.best_weights_ = None  # don't keep a second copy of the model around


def _stderr(text):
    print(text, file=sys.stderr, flush=True)


class ProgressDisplay(Callback):
    """Progress on stderr: ``verbose=1`` one bar over epochs with the latest metrics,
    ``verbose=2`` one line per epoch, ``verbose>=3`` also a bar over batches.

    tqdm's plain text bar works in terminals, logs and notebooks alike.
    """

    KEYS = ("train_loss", "valid_loss", "valid_score")

    def __init__(self, verbose, total_epochs, name="train", keys=KEYS):
        self.verbose = verbose
        self.total_epochs = total_epochs
        self.name = name
        self.keys = keys

    def on_train_begin(self, net, **kwargs):
        self._bar = self._batch_bar = None
        if self.verbose == 1:
            from tqdm import tqdm

            self._bar = tqdm(
                total=self.total_epochs,
                desc=self.name,
                unit="epoch",
                file=sys.stderr,
                dynamic_ncols=True,
                leave=True,
            )

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        if self.verbose >= 3:
            from tqdm import tqdm

            n_batches = len(net.get_iterator(dataset_train, training=True))
            self._batch_bar = tqdm(
                total=n_batches,
                desc=f"epoch {len(net.history)}",
                unit="batch",
                file=sys.stderr,
                leave=False,
            )

    def on_batch_end(self, net, training=False, **kwargs):
        if training and self._batch_bar is not None:
            self._batch_bar.update(1)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        metrics = {k: row[k] for k in self.keys if k in row}
        if self._batch_bar is not None:
            self._batch_bar.close()
            self._batch_bar = None
        if self._bar is not None:
            self._bar.set_postfix({k: f"{v:.4g}" for k, v in metrics.items()}, refresh=False)
            self._bar.update(1)
        elif self.verbose >= 2:
            parts = " ".join(f"{k}={v:.4f}" for k, v in metrics.items())
            _stderr(f"epoch {row['epoch']:>4d}  {parts}  ({row['dur']:.2f}s)")

    def on_train_end(self, net, **kwargs):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __getstate__(self):  # tqdm bars hold file handles and locks
        state = self.__dict__.copy()
        state["_bar"] = state["_batch_bar"] = None
        return state


def history_records(history) -> list[dict[str, Any]]:
    """Per-epoch records of a skorch ``History`` without the per-batch lists."""
    return [
        {key: _plain(value) for key, value in row.items() if not _internal(key)} for row in history
    ]


def _internal(key):
    # skorch's per-batch lists and bookkeeping flags; users read losses and scores.
    return key == "batches" or key.endswith(("_batch_count", "_best"))


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value
