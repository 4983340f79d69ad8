"""One trial of a search: draw a candidate, cross-validate it, record the result.

:class:`TrialEvaluator` is the Optuna objective. It holds everything a trial needs (the
estimator, the data, the CV folds computed once per search, the scorers), pickles to
worker processes, and runs a candidate in one of two ways:

* **by fits** (no pruner, or an estimator without ``partial_fit``): each fold is fitted
  and scored as ``GridSearchCV`` does (scikit-learn's ``_fit_and_score``);
* **by epochs** (a pruner and an estimator, or a pipeline's last step, with
  ``partial_fit``): the folds train side by side, one ``partial_fit`` epoch each, and the
  mean validation score of all folds after epoch ``t`` is reported to the pruner as step
  ``t``, so that every step compares like with like.

The result of each fold is stored in the trial's ``user_attrs`` (JSON), from which the
search rebuilds ``cv_results_`` for every trial of the study, whichever process ran it.
"""

from __future__ import annotations

import inspect
import math
import sys
import time
import traceback
import warnings

import numpy as np
import optuna
from optuna.distributions import FloatDistribution, IntDistribution
from sklearn.base import clone, is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection._validation import _fit_and_score
from sklearn.utils import _safe_indexing
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import _check_method_params

from skdeep.search._storage import RECORD_ATTR, WORKER_ATTR, worker_stamp


def suggest(trial, distributions, choices):
    """The candidate of ``trial``: each distribution asked through ``trial.suggest_*``.

    (``study.optimize`` needs the define-by-run API; ``choices`` maps the labels of the
    categorical values Optuna cannot store, e.g. tuples, back to them.)
    """
    params = {}
    for name, dist in distributions.items():
        if isinstance(dist, FloatDistribution):
            value = trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
        elif isinstance(dist, IntDistribution):
            value = trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
        else:
            value = trial.suggest_categorical(name, dist.choices)
        params[name] = choices[name][value] if name in choices else value
    return params


def decode(params, choices):
    """A trial's stored ``params`` as the estimator takes them."""
    return {
        name: choices[name][value] if name in choices else value for name, value in params.items()
    }


def final_step(estimator):
    """``(head, name, last)``: a pipeline's preprocessing, last step's name and the last
    step; ``(None, None, estimator)`` for anything else."""
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list) and steps and hasattr(estimator, "__getitem__"):
        name, last = steps[-1]
        if last is not None and last != "passthrough":
            return (estimator[:-1] if len(steps) > 1 else None), name, last
    return None, None, estimator


def epoch_budget(estimator):
    """How many ``partial_fit`` epochs a candidate trains: its ``max_epochs`` (skdeep) or
    ``max_iter`` (scikit-learn's SGD models); None when it cannot train by epochs."""
    _, _, last = final_step(estimator)
    if not callable(getattr(last, "partial_fit", None)) or not hasattr(last, "get_params"):
        return None
    params = last.get_params(deep=False)
    for name in ("max_epochs", "max_iter"):
        value = params.get(name)
        if isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= 1:
            return int(value)
    return None


def _error_text(exc):
    lines = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()
    return lines[-1] if lines else type(exc).__name__


def _as_scores(value, keys=None):
    """A scorer's output as ``{metric: float}`` (a single scorer's metric is "score")."""
    if isinstance(value, dict):
        return {k: float(v) if not isinstance(v, str) else math.nan for k, v in value.items()}
    if keys:  # error_score standing in for every metric
        return dict.fromkeys(keys, float(value))
    return {"score": float(value)}


class TrialEvaluator:
    """The objective of the search's Optuna study (picklable).

    Parameters
    ----------
    estimator : estimator
        The unfitted template; each trial clones it and sets the candidate.
    X, y : indexable
        All the rows; folds are taken with ``splits``.
    splits : list of (train, test) index arrays
        The CV folds, computed once per search.
    fit_params, score_params : dict
        Routed fit and score parameters over all rows (sliced per fold here).
    scorers : callable
        As ``BaseSearchCV._get_scorers`` returns them.
    objective : str
        The metric the study maximises ("score" for a single metric).
    distributions, choices : dict
        The space as Optuna distributions, and the labels of unstorable choices.
    epochwise : bool
        Train by epochs and report to the pruner (see the module's docstring).
    return_train_score : bool
    error_score : "raise" or float
    """

    def __init__(
        self,
        estimator,
        X,
        y,
        splits,
        fit_params,
        score_params,
        scorers,
        objective,
        distributions,
        choices,
        epochwise,
        return_train_score,
        error_score,
    ):
        self.estimator = estimator
        self.X = X
        self.y = y
        self.splits = splits
        self.fit_params = fit_params
        self.score_params = score_params
        self.scorers = scorers
        self.objective = objective
        self.distributions = distributions
        self.choices = choices
        self.epochwise = epochwise
        self.return_train_score = return_train_score
        self.error_score = error_score

    def __call__(self, trial):
        stamp = worker_stamp()
        torch = sys.modules.get("torch")
        if torch is not None:  # the threads this worker trains with
            stamp["threads"] = torch.get_num_threads()
        trial.set_user_attr(WORKER_ATTR, stamp)
        params = suggest(trial, self.distributions, self.choices)
        estimator = clone(self.estimator).set_params(**clone(params, safe=False))
        start = time.perf_counter()
        run = self._by_epochs if self.epochwise else self._by_fits
        record = run(trial, estimator)
        record["seconds"] = time.perf_counter() - start
        errors = [e for e in record["errors"] if e]
        if errors:
            trial.set_user_attr("error", errors[0])
            warnings.warn(
                f"Trial {trial.number}: {len(errors)} of {len(self.splits)} fits failed and "
                f"scored error_score={self.error_score!r}; the first error: {errors[0]}",
                FitFailedWarning,
                stacklevel=2,
            )
        if self.objective not in record["test"]:
            metrics = sorted(record["test"])
            raise ValueError(
                f"scoring returned the metrics {metrics}: set refit to the name of the one to "
                "maximise."
                if self.objective == "score"
                else f"refit={self.objective!r} is not one of the metrics scoring returned: "
                f"{metrics}."
            )
        trial.set_user_attr(RECORD_ATTR, record)
        value = float(np.mean(record["test"][self.objective]))
        if record["pruned_at"] is not None:
            raise optuna.TrialPruned(
                f"mean validation score {value:.6g} after epoch {record['pruned_at']}"
            )
        return value if np.isfinite(value) else math.nan

    # --- the two ways to evaluate a candidate -----------------------------------------

    def _by_fits(self, trial, estimator):
        """Each fold fitted and scored like ``GridSearchCV`` does."""
        outs = []
        for train, test in self.splits:
            out = _fit_and_score(
                clone(estimator),
                self.X,
                self.y,
                scorer=self.scorers,
                train=train,
                test=test,
                verbose=0,
                parameters=None,
                fit_params=self.fit_params,
                score_params=self.score_params,
                return_train_score=self.return_train_score,
                return_times=True,
                return_estimator=True,
                error_score=self.error_score,
            )
            outs.append(out)
        multi = next(
            (list(o["test_scores"]) for o in outs if isinstance(o["test_scores"], dict)), None
        )
        record = self._new_record(multi or ["score"])
        for out in outs:
            self._add(record, "test", _as_scores(out["test_scores"], multi))
            if self.return_train_score:
                self._add(record, "train", _as_scores(out["train_scores"], multi))
            record["fit_time"].append(out["fit_time"])
            record["score_time"].append(out["score_time"])
            error = out.get("fit_error")
            record["errors"].append(error.strip().splitlines()[-1] if error else None)
            last = final_step(out.get("estimator"))[2]
            n_iter = getattr(last, "n_iter_", None) if error is None else 0
            record["epochs"].append(int(np.max(n_iter)) if n_iter is not None else None)
        return record

    def _by_epochs(self, trial, estimator):
        """The folds trained side by side, one epoch at a time, pruned on their mean."""
        n_epochs = epoch_budget(estimator)
        folds = [_Fold(self, estimator, train, test) for train, test in self.splits]
        scorer = self._objective_scorer()
        pruned_at = None
        for epoch in range(1, n_epochs + 1):
            for fold in folds:
                fold.train_one_epoch(epoch)
                fold.score_objective(scorer, self.objective)
            value = float(np.mean([fold.last_score for fold in folds]))
            if not np.isfinite(value):
                break  # a failed fold with error_score=nan: the trial fails
            trial.report(value, epoch)
            if epoch < n_epochs and trial.should_prune():
                pruned_at = epoch
                break
        reuse = scorer is self.scorers  # one scorer: the last epoch's score is final
        for fold in folds:
            if reuse and fold.error is None and fold.last_raw is not None:
                fold.test_scores = fold.last_raw
            else:
                fold.test_scores = fold.final_scores(self.scorers, train=False)
            if self.return_train_score:
                fold.train_scores = fold.final_scores(self.scorers, train=True)
        multi = next((list(f.test_scores) for f in folds if isinstance(f.test_scores, dict)), None)
        record = self._new_record(multi or ["score"])
        for fold in folds:
            self._add(record, "test", _as_scores(fold.test_scores, multi))
            if self.return_train_score:
                self._add(record, "train", _as_scores(fold.train_scores, multi))
            record["fit_time"].append(fold.fit_time)
            record["score_time"].append(fold.score_time)
            record["errors"].append(fold.error)
            record["epochs"].append(fold.epochs)
        record["pruned_at"] = pruned_at
        return record

    # --- helpers -----------------------------------------------------------------------

    def _new_record(self, keys):
        return {
            "test": {k: [] for k in keys},
            "train": {k: [] for k in keys} if self.return_train_score else None,
            "fit_time": [],
            "score_time": [],
            "errors": [],
            "epochs": [],
            "pruned_at": None,
        }

    @staticmethod
    def _add(record, kind, scores):
        for key, values in record[kind].items():
            values.append(scores.get(key, math.nan))

    def _objective_scorer(self):
        """The scorer of the maximised metric alone (scored every epoch)."""
        inner = getattr(self.scorers, "_scorers", None)  # sklearn's _MultimetricScorer
        if isinstance(inner, dict):
            return inner[self.objective]
        return self.scorers


class _Fold:
    """One CV fold of a candidate trained by epochs: preprocessing fitted once, the last
    step trained one ``partial_fit`` call per epoch."""

    def __init__(self, evaluator, estimator, train, test):
        self.evaluator = evaluator
        self.error = None
        self.epochs = 0
        self.fit_time = 0.0
        self.score_time = 0.0
        self.last_score = math.nan
        self.last_raw = None  # what the scorer returned after the last epoch
        self.test_scores = self.train_scores = None
        X, y = evaluator.X, evaluator.y
        self.y_train = None if y is None else _safe_indexing(y, train)
        self.y_test = None if y is None else _safe_indexing(y, test)
        fit_params = _check_method_params(X, params=evaluator.fit_params, indices=train)
        self.score_test = _check_method_params(X, params=evaluator.score_params, indices=test)
        self.score_train = _check_method_params(X, params=evaluator.score_params, indices=train)
        head, name, self.model = final_step(clone(estimator))
        self.head = []
        start = time.perf_counter()
        try:
            X_train, X_test = _safe_indexing(X, train), _safe_indexing(X, test)
            if head is not None:
                # The pipeline's own routing (legacy ``step__param`` or metadata routing),
                # then its steps fitted as Pipeline.fit would, the last one left out.
                routed = estimator._check_method_params(method="fit", props=fit_params)
                for step_name, step in head.steps:
                    if step is None or step == "passthrough":
                        continue
                    params = routed[step_name]["fit_transform"] if step_name in routed else {}
                    X_train = step.fit_transform(X_train, self.y_train, **params)
                    self.head.append(step)
                fit_params = dict(routed[name]["fit"]) if name in routed else {}
                for step in self.head:
                    X_test = step.transform(X_test)
            self.X_train, self.X_test = X_train, X_test
            self.fit_params = fit_params
            self._first_call_params()
        except Exception as exc:
            self.first_params = {}
            self._fail(exc)
        self.fit_time += time.perf_counter() - start

    def _first_call_params(self):
        """``classes=`` for a classifier's first ``partial_fit``; ``class_weight=
        'balanced'`` (refused by partial_fit) resolved on this fold's labels."""
        model = self.model
        accepted = inspect.signature(model.partial_fit).parameters
        self.first_params = {}
        if is_classifier(model) and "classes" in accepted and self.evaluator.y is not None:
            from sklearn.utils.multiclass import unique_labels

            self.first_params["classes"] = unique_labels(self.evaluator.y)
        weight = model.get_params(deep=False).get("class_weight")
        if isinstance(weight, str) and weight == "balanced" and self.y_train is not None:
            labels = np.unique(np.asarray(self.y_train))
            values = compute_class_weight("balanced", classes=labels, y=np.asarray(self.y_train))
            model.set_params(class_weight=dict(zip(labels.tolist(), values, strict=True)))

    def _fail(self, exc):
        if self.evaluator.error_score == "raise":
            raise exc
        self.error = _error_text(exc)

    def train_one_epoch(self, epoch):
        if self.error is not None:
            return
        start = time.perf_counter()
        try:
            extra = self.first_params if epoch == 1 else {}
            if self.y_train is None:
                self.model.partial_fit(self.X_train, **extra, **self.fit_params)
            else:
                self.model.partial_fit(self.X_train, self.y_train, **extra, **self.fit_params)
            self.epochs = epoch
        except Exception as exc:
            self._fail(exc)
        self.fit_time += time.perf_counter() - start

    def score_objective(self, scorer, objective):
        if self.error is not None:
            self.last_score = float(self.evaluator.error_score)
            return
        start = time.perf_counter()
        try:
            raw = self._call(scorer, self.X_test, self.y_test, self.score_test)
            self.last_score = float(raw[objective] if isinstance(raw, dict) else raw)
            self.last_raw = raw
        except Exception as exc:
            self._fail(exc)
            self.last_score = float(self.evaluator.error_score)
        self.score_time += time.perf_counter() - start

    def final_scores(self, scorers, train):
        """Every metric of the last epoch trained (on the training rows for ``train``)."""
        if self.error is not None:
            return self.evaluator.error_score
        start = time.perf_counter()
        try:
            if train:
                scores = self._call(scorers, self.X_train, self.y_train, self.score_train)
            else:
                scores = self._call(scorers, self.X_test, self.y_test, self.score_test)
        except Exception as exc:
            self._fail(exc)
            scores = self.evaluator.error_score
        self.score_time += time.perf_counter() - start
        return scores

    def _call(self, scorer, X, y, params):
        return scorer(self.model, X, y, **params)
