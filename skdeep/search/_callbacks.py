"""A pruning callback for a hand-written Optuna objective that fits a skdeep estimator."""

from __future__ import annotations

import copy

import optuna
from skorch.callbacks import Callback


class PruningCallback(Callback):
    """Report an estimator's per-epoch metric to an Optuna trial, and prune the trial.

    For an objective written by hand (the pattern of optuna-integration's
    ``SkorchPruningCallback``): pass it in the estimator's ``callbacks``. After each epoch
    it reports ``monitor`` from the training history to ``trial`` as step ``epoch`` and,
    when the study's pruner says so, raises :class:`optuna.TrialPruned` out of ``fit``.

    skdeep estimators copy their ``callbacks`` at ``fit`` (and ``clone`` copies
    parameters); the copies of this callback still report to the same ``trial``.

    To tune by cross-validation, use :class:`OptunaSearchCV` with a ``pruner`` instead: it
    reports the mean of all folds at each epoch. This callback reports one fit's own
    validation metric, so fit once per trial (a hold-out split), not inside
    ``cross_val_score``, whose folds would report the same steps over one another.

    Parameters
    ----------
    trial : optuna.trial.Trial
        The trial of the objective.
    monitor : str, default="valid_loss"
        A key of the estimator's per-epoch history: ``"valid_loss"`` or ``"valid_score"``
        (recorded with ``early_stopping=True``, on its ``validation_fraction``), or
        ``"train_loss"``. Report a loss to a ``direction="minimize"`` study and a score to
        a ``"maximize"`` one.

    Examples
    --------
    >>> import optuna
    >>> from sklearn.datasets import load_iris
    >>> from skdeep import DeepMLPClassifier
    >>> from skdeep.search import PruningCallback
    >>> X, y = load_iris(return_X_y=True)
    >>> def objective(trial):
    ...     clf = DeepMLPClassifier(
    ...         learning_rate=trial.suggest_float("learning_rate", 1e-3, 1e-1, log=True),
    ...         early_stopping=True, max_epochs=20, random_state=0,
    ...         callbacks=[PruningCallback(trial, "valid_loss")])
    ...     clf.fit(X, y)
    ...     return clf.history_[-1]["valid_loss"]
    >>> study = optuna.create_study(direction="minimize", pruner=optuna.pruners.MedianPruner())
    >>> study.optimize(objective, n_trials=3)
    >>> len(study.trials[0].intermediate_values) > 0
    True
    """

    def __init__(self, trial, monitor="valid_loss"):
        self.trial = trial
        self.monitor = monitor

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        if self.monitor not in row:
            recorded = sorted(k for k in row if k not in ("batches", "dur"))
            raise ValueError(
                f"PruningCallback: monitor={self.monitor!r} is not in the training history "
                f"(recorded: {recorded}); valid_loss and valid_score need "
                "early_stopping=True."
            )
        epoch = int(row["epoch"])
        self.trial.report(float(row[self.monitor]), step=epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned after epoch {epoch} ({self.monitor}).")

    def __deepcopy__(self, memo):
        # The trial is shared, not copied: a copied trial would report to a copy of the
        # study (in memory) that nobody reads.
        new = copy.copy(self)
        memo[id(self)] = new
        return new

    def __sklearn_clone__(self):
        return type(self)(self.trial, self.monitor)
