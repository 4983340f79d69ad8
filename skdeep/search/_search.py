"""OptunaSearchCV: scikit-learn's search interface over an Optuna study."""

from __future__ import annotations

import copy
import math
import os
import shutil
import sys
import tempfile
import time
import uuid
import warnings
from numbers import Integral, Real

import numpy as np
import optuna
from joblib import Parallel, delayed, effective_n_jobs
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState
from sklearn.base import _fit_context, clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import _check_method_params, indexable
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from skdeep.search._evaluate import TrialEvaluator, decode, epoch_budget, final_step
from skdeep.search._spaces import default_search_space
from skdeep.search._storage import (
    RECORD_ATTR,
    check_or_set_fingerprint,
    fingerprint,
    is_url,
    open_storage,
    retry_dead_trials,
    safe_url,
)

_PLAIN = (bool, int, float, str)


class OptunaSearchCV(BaseSearchCV):
    """Search hyperparameters with Optuna: pruning across folds, resumable, in parallel.

    The interface of :class:`~sklearn.model_selection.GridSearchCV` (``cv_results_``,
    ``best_params_``, ``best_estimator_`` refitted on all the data, ``predict`` and
    friends, multi-metric ``scoring``) over an Optuna study: each of the ``n_trials``
    trials draws a candidate with the ``sampler`` (TPE by default), cross-validates it and
    reports its mean test score to the study.

    * With a ``pruner`` and an estimator that trains by epochs (``partial_fit``; a
      pipeline's last step counts), the folds of a trial train side by side, one epoch at
      a time, and the pruner sees the mean validation score of all folds after each
      epoch: hopeless trials stop early.
    * With a ``storage`` (a file path or a database URL) the study outlives the process:
      the same ``study_name`` resumes it, and several processes or machines share it.
    * ``n_jobs`` runs trials at once in worker processes (or on Dask workers).

    Parameters
    ----------
    estimator : estimator object
        Any scikit-learn estimator or pipeline, e.g. a skdeep estimator.
    param_distributions : dict or None, default=None
        Parameter name (``"step__param"`` inside a pipeline) to an Optuna distribution
        (:class:`~optuna.distributions.FloatDistribution`,
        :class:`~optuna.distributions.IntDistribution`,
        :class:`~optuna.distributions.CategoricalDistribution`; re-exported by this module)
        or a non-empty **list** of choices. Tuples are refused, being ambiguous (a range or
        two choices?): write ``FloatDistribution(low, high)`` for a range and a list for
        choices. None uses the estimator's default space, see
        :func:`default_search_space`.
    n_trials : int, default=20
        Number of new trials to run; a resumed study keeps its earlier ones on top.
    timeout : float or None, default=None
        Stop starting new trials after this many seconds (running ones finish).
    sampler : optuna.samplers.BaseSampler or None, default=None
        How candidates are drawn. None uses ``TPESampler`` seeded from ``random_state``
        (with ``constant_liar`` when trials run in parallel); TPE draws its first 10
        candidates at random, so it only differs from a random search beyond 10 trials.
        A sampler given here is copied at ``fit``, never advanced; worker processes each
        get a copy with a fresh random seed.
    pruner : optuna.pruners.BasePruner or None, default=None
        Any Optuna pruner, e.g. ``optuna.pruners.MedianPruner()``. With one, an estimator
        with ``partial_fit`` and ``max_epochs`` (or ``max_iter``) trains by epochs: each
        fold gets one ``partial_fit`` call per epoch, ``max_epochs`` of them unless the
        trial is pruned (the estimator's own early stopping does not run there; the
        pruner stops trials instead), and the mean validation score over the folds after
        epoch ``t`` is reported as step ``t``. Without a pruner, or for an estimator
        without ``partial_fit`` (a warning says so), each fold is fitted with ``fit``, as
        in ``GridSearchCV``.
    storage : str, path-like, optuna storage or None, default=None
        Where the study lives. None: in memory (gone with the process). A file path: an
        Optuna journal file, created when missing; safe for several processes on one
        machine, and resumable. An RDB URL such as
        ``"postgresql+psycopg://user:password@host/db"``: a database that processes on
        several machines share; its running trials send heartbeats, and the trial of a
        killed worker is failed and run again. An Optuna storage object is used as is.
    study_name : str or None, default=None
        Name of the study in ``storage`` (required with a storage). An existing study of
        that name is resumed when it was created for the same search (estimator and its
        fixed parameters, space, scoring, data and folds); otherwise ``fit`` refuses it.
    scoring : str, callable, list, tuple, dict or None, default=None
        As in ``GridSearchCV``. With several metrics, ``refit`` names the one the study
        maximises.
    n_jobs : int or None, default=None
        Number of trials run at once, each in a worker process (joblib's loky backend, or
        the backend set by ``joblib.parallel_config``, e.g. ``"dask"``), sharing the
        study through ``storage`` (a temporary journal file when it is None). Torch and
        BLAS threads are divided so that the workers do not oversubscribe the cores.
        ``None`` or 1: trials run one after another in this process; -1: one worker per
        core. The first parallel ``fit`` in a Python process pays the workers' start-up
        (each imports torch: seconds, tens of seconds on a busy machine); later ones reuse
        the workers.
    refit : bool, str or callable, default=True
        As in ``GridSearchCV``. With multi-metric scoring it must be the name of a metric.
    cv : int, cross-validation generator or iterable, default=None
        As in ``GridSearchCV`` (5-fold, stratified for classifiers). The folds are
        computed once per ``fit``, so a shuffling splitter scores every epoch and every
        trial on the same rows.
    verbose : int, default=0
        1: a progress bar over the trials with the best score so far (on stderr);
        2: also one line per finished trial (its state, score, epochs and parameters).
    pre_dispatch : int or str, default="2*n_jobs"
        As in ``GridSearchCV``: how many trials are queued ahead to the workers.
    random_state : int, RandomState instance or None, default=None
        Seeds the default sampler: an int makes a search with ``n_jobs=1`` reproducible
        when the estimator's own ``random_state`` is fixed too.
    error_score : "raise" or float, default=np.nan
        Score of a failed fit, as in ``GridSearchCV``. A trial whose mean score is not
        finite is failed in the study, so that the sampler avoids its region.
    return_train_score : bool, default=False
        Also record training scores in ``cv_results_``.

    Attributes
    ----------
    cv_results_ : dict of numpy arrays
        One entry per trial of the study that ran its folds (earlier runs of a resumed
        study included), in trial order, with the keys ``GridSearchCV`` documents
        (``params``, ``param_<name>``, ``mean_test_score``, ``rank_test_score``, ...) and
        ``trial_number``, ``state`` (``"COMPLETE"``, ``"PRUNED"`` or ``"FAIL"``) and
        ``n_epochs`` (epochs trained, summed over the folds; masked when the estimator
        does not say). Ranks put the complete trials first: a pruned trial's score is that
        of the epoch it stopped at, not comparable with a finished one's.
    best_estimator_, best_score_, best_params_, best_index_, scorer_, n_splits_, \
refit_time_, multimetric_, classes_, n_features_in_, feature_names_in_
        As in ``GridSearchCV``.
    study_ : optuna.study.Study
        The study (``study_.trials_dataframe()`` tabulates it; Optuna's
        ``optuna.visualization.matplotlib`` plots it). Each trial's per-fold results are
        in its ``user_attrs``.

    See Also
    --------
    default_search_space : the space used when ``param_distributions`` is None.
    PruningCallback : prune a plain Optuna objective that fits a skdeep estimator.
    sklearn.model_selection.GridSearchCV : every candidate of a grid.

    Examples
    --------
    >>> import optuna
    >>> from sklearn.datasets import load_iris
    >>> from skdeep import DeepMLPClassifier
    >>> from skdeep.search import FloatDistribution, OptunaSearchCV
    >>> X, y = load_iris(return_X_y=True)
    >>> search = OptunaSearchCV(
    ...     DeepMLPClassifier(hidden_layer_sizes=(16,), max_epochs=10, random_state=0),
    ...     {"learning_rate": FloatDistribution(1e-3, 1e-1, log=True),
    ...      "hidden_layer_sizes": [(8,), (16,)]},
    ...     n_trials=3, cv=2, random_state=0,
    ...     pruner=optuna.pruners.MedianPruner(n_startup_trials=2),
    ... ).fit(X, y)
    >>> len(search.cv_results_["params"]), sorted(search.best_params_)
    (3, ['hidden_layer_sizes', 'learning_rate'])
    >>> search.predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints = {
        **BaseSearchCV._parameter_constraints,
        "param_distributions": [dict, None],
        "n_trials": [Interval(Integral, 1, None, closed="left")],
        "timeout": [Interval(Real, 0, None, closed="neither"), None],
        "sampler": [HasMethods(["sample_relative", "sample_independent"]), None],
        "pruner": [HasMethods(["prune"]), None],
        "storage": [str, os.PathLike, optuna.storages.BaseStorage, None],
        "study_name": [str, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator,
        param_distributions=None,
        *,
        n_trials=20,
        timeout=None,
        sampler=None,
        pruner=None,
        storage=None,
        study_name=None,
        scoring=None,
        n_jobs=None,
        refit=True,
        cv=None,
        verbose=0,
        pre_dispatch="2*n_jobs",
        random_state=None,
        error_score=np.nan,
        return_train_score=False,
    ):
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )
        self.param_distributions = param_distributions
        self.n_trials = n_trials
        self.timeout = timeout
        self.sampler = sampler
        self.pruner = pruner
        self.storage = storage
        self.study_name = study_name
        self.random_state = random_state

    # --- checks -------------------------------------------------------------------------

    def _distributions(self):
        """``param_distributions`` (or the default space) as Optuna distributions, each
        name checked, and the labels of the choices Optuna cannot store (tuples, objects)
        mapped back to them."""
        space = self.param_distributions
        if space is None:
            space = default_search_space(self.estimator)
        if not space:
            raise ValueError(
                "param_distributions is empty: give at least one parameter to search, or "
                "None for the estimator's default space."
            )
        valid = self.estimator.get_params(deep=True)
        distributions, choices = {}, {}
        for name, value in space.items():
            where = f"param_distributions[{name!r}]"
            if name not in valid:
                raise ValueError(f"{where}: {_unknown_parameter(self.estimator, name, valid)}")
            if isinstance(value, BaseDistribution):
                if not isinstance(
                    value, FloatDistribution | IntDistribution | CategoricalDistribution
                ):
                    raise TypeError(
                        f"{where}: {type(value).__name__} is not supported; use "
                        "FloatDistribution, IntDistribution or CategoricalDistribution."
                    )
                distributions[name] = value
            elif isinstance(value, tuple):
                raise TypeError(
                    f"{where}: a tuple is ambiguous (a range, or choices?). For a range write "
                    f"FloatDistribution{value!r} or IntDistribution{value!r} (log=True for a "
                    f"log scale); for choices write a list: {list(value)!r}."
                )
            elif isinstance(value, list) and value:
                distributions[name], labels = _categorical(value, where)
                if labels is not None:
                    choices[name] = labels
            elif isinstance(value, list):
                raise ValueError(f"{where}: expected at least one choice, got an empty list.")
            else:
                raise TypeError(
                    f"{where}: expected an Optuna distribution (FloatDistribution, "
                    "IntDistribution, CategoricalDistribution) or a list of choices, got "
                    f"{type(value).__name__} {value!r}."
                )
        return distributions, choices

    def _objective_key(self):
        """The metric the study maximises (``"score"`` for a single metric)."""
        if callable(self.scoring) and isinstance(self.refit, str):
            return self.refit  # a callable returning several metrics
        if not isinstance(self.scoring, list | tuple | dict):
            return "score"
        names = sorted(self.scoring) if isinstance(self.scoring, dict) else list(self.scoring)
        if isinstance(self.refit, str) and self.refit in names:
            return self.refit
        if isinstance(self.refit, str):
            raise ValueError(
                f"refit={self.refit!r} is not a metric of scoring; with several metrics refit "
                f"names the one to maximise, one of {names}."
            )
        raise ValueError(
            f"With several metrics in scoring, refit must name the one to maximise (one of "
            f"{names}), got refit={self.refit!r}."
        )

    def _epochwise(self):
        """Whether trials train by epochs for the pruner."""
        if self.pruner is None or isinstance(self.pruner, optuna.pruners.NopPruner):
            return False
        if epoch_budget(self.estimator) is not None:
            return True
        last = final_step(self.estimator)[2]
        warnings.warn(
            f"pruner: {type(last).__name__} cannot train by epochs (it needs partial_fit and "
            "max_epochs or max_iter), so its trials are fitted whole and never pruned.",
            UserWarning,
            stacklevel=3,
        )
        return False

    def _scoring_description(self):
        def one(s):
            if s is None or isinstance(s, str):
                return s
            return f"<{getattr(s, '__qualname__', type(s).__qualname__)}>"

        if isinstance(self.scoring, dict):
            return {k: one(v) for k, v in sorted(self.scoring.items())}
        if isinstance(self.scoring, list | tuple):
            return [one(s) for s in self.scoring]
        return one(self.scoring)

    # --- fit ----------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **params):
        """Run ``n_trials`` trials, then refit the best candidate on all the data.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame or list of str
            Training data, as the estimator takes it.
        y : array-like of shape (n_samples,) or None, default=None
            Targets (None for an unsupervised estimator).
        **params : dict
            Passed to the estimator's ``fit`` (``partial_fit`` when training by epochs),
            the scorers and the splitter, as ``GridSearchCV.fit`` passes them; per-row
            arrays such as ``sample_weight`` are sliced per fold.

        Returns
        -------
        self : OptunaSearchCV
        """
        distributions, choices = self._distributions()
        objective = self._objective_key()
        scorers, _ = self._get_scorers()
        n_jobs = effective_n_jobs(self.n_jobs)
        parallel = n_jobs > 1
        if self.storage is not None and self.study_name is None:
            raise ValueError(
                "study_name: required with a storage (which holds any number of studies); "
                "name the study to create or to resume."
            )
        epochwise = self._epochwise()

        X, y = indexable(X, y)
        params = _check_method_params(X, params=params)
        routed = self._get_routed_params_for_fit(params)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, **routed.splitter.split))  # once per search
        self.n_splits_ = len(splits)
        evaluator = TrialEvaluator(
            estimator=clone(self.estimator),
            X=X,
            y=y,
            splits=splits,
            fit_params=routed.estimator.fit,
            score_params=routed.scorer.score,
            scorers=scorers,
            objective=objective,
            distributions=distributions,
            choices=choices,
            epochwise=epochwise,
            return_train_score=self.return_train_score,
            error_score=self.error_score,
        )
        print_ = fingerprint(
            self.estimator,
            distributions,
            {"scoring": self._scoring_description(), "maximise": objective},
            (
                X,
                y,
                dict(routed.estimator.fit),
                [(np.asarray(a), np.asarray(b)) for a, b in splits],
            ),
        )

        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        temporary = None
        try:
            if self.storage is None and parallel:
                temporary = tempfile.mkdtemp(prefix="skdeep-search-")
                storage = open_storage(os.path.join(temporary, "journal.log"), parallel=True)
            else:
                storage = open_storage(self.storage, parallel=parallel)
            study = self._open_study(storage, print_)
            retry_dead_trials(study)
            n_before = len(study.get_trials(deepcopy=False))
            progress = _Progress(self, study, objective, choices)
            try:
                if parallel:
                    self._run_parallel(evaluator, storage, study, n_jobs, n_before, progress)
                else:
                    self._run_sequential(evaluator, study, n_before, progress)
            finally:
                progress.close()
            if temporary is not None:  # the study back in memory, the file removed
                memory = optuna.storages.InMemoryStorage()
                optuna.copy_study(
                    from_study_name=study.study_name,
                    from_storage=storage,
                    to_storage=memory,
                )
                study = optuna.load_study(study_name=study.study_name, storage=memory)
        finally:
            optuna.logging.set_verbosity(verbosity)
            if temporary is not None:
                shutil.rmtree(temporary, ignore_errors=True)
        self.study_ = study

        results, multimetric = self._results(study, choices)
        self.cv_results_ = results
        self.multimetric_ = multimetric
        self.scorer_ = getattr(scorers, "_scorers", scorers)
        self._select_best(results, objective)

        if self.refit:
            self.best_estimator_ = clone(self.estimator).set_params(
                **clone(self.best_params_, safe=False)
            )
            start = time.perf_counter()
            if y is not None:
                self.best_estimator_.fit(X, y, **routed.estimator.fit)
            else:
                self.best_estimator_.fit(X, **routed.estimator.fit)
            self.refit_time_ = time.perf_counter() - start
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        return self

    def _open_study(self, storage, print_):
        name = self.study_name
        shown = self._storage_name()
        study = optuna.create_study(
            storage=storage,
            study_name=name,
            direction="maximize",
            load_if_exists=True,
        )
        if len(study.directions) != 1 or study.direction != optuna.study.StudyDirection.MAXIMIZE:
            raise ValueError(
                f"study_name={name!r} in storage={shown!r} is not a single-objective "
                "maximisation study; use another study_name."
            )
        check_or_set_fingerprint(study, print_, shown)
        return study

    def _storage_name(self):
        if self.storage is None:
            return "in memory"
        if is_url(self.storage):
            return safe_url(self.storage)
        if isinstance(self.storage, str | os.PathLike):
            return str(self.storage)
        return type(self.storage).__name__

    def _seed(self, *salt):
        """A seed for the default sampler: from ``random_state`` and ``salt``."""
        seed = self.random_state
        if seed is None:
            return None
        if not isinstance(seed, Integral):
            seed = int(check_random_state(seed).randint(np.iinfo(np.int32).max))
        return int(np.random.SeedSequence([int(seed), *salt]).generate_state(1)[0])

    def _run_sequential(self, evaluator, study, n_before, progress):
        if self.sampler is not None:
            sampler = copy.deepcopy(self.sampler)  # fit must not advance the parameter
        else:
            # A resumed study gets a fresh stream, not the first run's candidates again.
            sampler = optuna.samplers.TPESampler(
                seed=self._seed() if n_before == 0 else self._seed(n_before)
            )
        study.sampler = sampler
        study.pruner = self.pruner or optuna.pruners.NopPruner()
        start = time.monotonic()

        def after_trial(study, trial):
            progress.update(trial)
            if self.timeout is not None and time.monotonic() - start >= self.timeout:
                study.stop()  # the first trial always runs: a search has a result

        study.optimize(evaluator, n_trials=self.n_trials, callbacks=[after_trial], catch=())

    def _run_parallel(self, evaluator, storage, study, n_jobs, n_before, progress):
        deadline = None if self.timeout is None else time.time() + self.timeout
        threads = max(1, (os.cpu_count() or 1) // n_jobs)
        task = _WorkerTask(
            token=uuid.uuid4().hex,
            evaluator=evaluator,
            storage=storage,
            study_name=study.study_name,
            sampler=self.sampler,
            pruner=self.pruner,
            seeds=[self._seed(n_before, i) for i in range(self.n_trials)],
            deadline=deadline,
            threads=threads,
            filters=list(warnings.filters),
        )
        runner = Parallel(
            n_jobs=n_jobs, pre_dispatch=self.pre_dispatch, return_as="generator_unordered"
        )
        try:
            for number in runner(delayed(task)(i) for i in range(self.n_trials)):
                if number is not None:
                    progress.update(_trial_by_number(study, number))
        finally:
            _WORKER_STORAGES.pop(task.token, None)  # when the "workers" were this process

    # --- results ------------------------------------------------------------------------

    def _results(self, study, choices):
        trials = [
            t
            for t in study.get_trials(deepcopy=False)
            if RECORD_ATTR in t.user_attrs and t.state.is_finished()
        ]
        if not trials:
            raise ValueError(
                f"No trial of study {study.study_name!r} finished its folds (all "
                f"{len(study.trials)} are running, waiting or failed before scoring)."
            )
        trials.sort(key=lambda t: t.number)
        records = [t.user_attrs[RECORD_ATTR] for t in trials]
        n_splits = len(records[0]["fit_time"])
        results = {}

        def store(key, rows, splits=False, rank_states=None):
            array = np.array(rows, dtype=np.float64).reshape(len(trials), n_splits)
            if splits:
                for i in range(n_splits):
                    results[f"split{i}_{key}"] = array[:, i]
            with np.errstate(invalid="ignore"):
                means = array.mean(axis=1)
                results[f"mean_{key}"] = means
                results[f"std_{key}"] = array.std(axis=1)
            if rank_states is not None:
                results[f"rank_{key}"] = _rank(means, rank_states)

        states = np.array([t.state.name for t in trials])
        store("fit_time", [r["fit_time"] for r in records])
        store("score_time", [r["score_time"] for r in records])
        params = [decode(t.params, choices) for t in trials]
        for name in sorted({n for p in params for n in p}):
            column = np.ma.MaskedArray(np.empty(len(trials), dtype=object), mask=True)
            for i, p in enumerate(params):
                if name in p:
                    column[i] = p[name]
            results[f"param_{name}"] = column
        results["params"] = params
        metrics = list(records[0]["test"])
        for metric in metrics:
            store(f"test_{metric}", [r["test"][metric] for r in records], True, states)
            if self.return_train_score:
                rows = [(r["train"] or {}).get(metric, [math.nan] * n_splits) for r in records]
                store(f"train_{metric}", rows, True)
        results["trial_number"] = np.array([t.number for t in trials])
        results["state"] = states
        epochs = [r["epochs"] for r in records]
        known = [all(e is not None for e in row) for row in epochs]
        results["n_epochs"] = np.ma.MaskedArray(
            [sum(row) if ok else 0 for row, ok in zip(epochs, known, strict=True)],
            mask=[not ok for ok in known],
        )
        multimetric = metrics != ["score"]
        return results, multimetric

    def _select_best(self, results, objective):
        key = f"mean_test_{objective}"
        if not np.isfinite(results[key]).any():
            errors = [
                t.user_attrs.get("error")
                for t in self.study_.get_trials(deepcopy=False)
                if t.user_attrs.get("error")
            ]
            last = f"; the last error: {errors[-1]}" if errors else ""
            raise ValueError(
                f"Every fit of all {len(results['params'])} trials failed{last}. Set "
                "error_score='raise' to see the whole traceback."
            )
        if callable(self.refit):
            self.best_index_ = self._select_best_index(self.refit, objective, results)
        else:
            self.best_index_ = int(results[f"rank_test_{objective}"].argmin())
            self.best_score_ = float(results[key][self.best_index_])
        self.best_params_ = results["params"][self.best_index_]


# --- helpers ------------------------------------------------------------------------------


def _unknown_parameter(estimator, name, valid):
    import difflib

    names = sorted(valid)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    prefix = name.rsplit("__", 1)[0] + "__" if "__" in name else ""
    listed = [n for n in names if prefix and n.startswith(prefix)] or [
        n for n in names if "__" not in n
    ]
    return (
        f"{type(estimator).__name__} has no parameter {name!r}.{hint} Its parameters"
        f"{' under ' + repr(prefix) if prefix and listed else ''}: {', '.join(listed)} "
        "(inside a pipeline: 'step__param'; all of them: estimator.get_params().keys())."
    )


def _categorical(values, where):
    """A categorical distribution over ``values``: plain values as they are; otherwise
    (tuples, estimators, ...) over their ``repr`` labels, mapped back at each trial."""
    if all(v is None or isinstance(v, _PLAIN) for v in values):
        return CategoricalDistribution(list(values)), None
    labels = [repr(v) for v in values]
    if len(set(labels)) != len(labels):
        labels = [f"{i}: {label}" for i, label in enumerate(labels)]
    return CategoricalDistribution(labels), dict(zip(labels, values, strict=True))


def _rank(means, states):
    """Ranks like ``GridSearchCV``'s (1 is best, ties share the lower rank), the complete
    trials before the pruned ones, the failed and non-finite ones last."""
    group = np.where(states == "COMPLETE", 0, np.where(states == "PRUNED", 1, 2))
    finite = np.isfinite(means)
    group = np.where(finite, group, 3)
    score = np.where(finite, means, 0.0)
    order = np.lexsort((-score, group))
    ranks = np.empty(len(means), dtype=np.int32)
    previous, rank = None, 0
    for position, i in enumerate(order):
        key = (group[i], score[i])
        if key != previous:
            rank, previous = position + 1, key
        ranks[i] = rank
    return ranks


def _trial_by_number(study, number):
    storage = study._storage
    return storage.get_trial(
        storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
    )


class _WorkerTask:
    """One trial run in a worker process (or a Dask worker) on the shared storage."""

    def __init__(
        self,
        token,
        evaluator,
        storage,
        study_name,
        sampler,
        pruner,
        seeds,
        deadline,
        threads,
        filters,
    ):
        self.token = token
        self.evaluator = evaluator
        self.storage = storage
        self.study_name = study_name
        self.sampler = sampler
        self.pruner = pruner
        self.seeds = seeds
        self.deadline = deadline
        self.threads = threads
        self.filters = filters  # the caller's warning filters, applied in the worker too

    def __call__(self, index):
        if index > 0 and self.deadline is not None and time.time() >= self.deadline:
            return None
        storage = _WORKER_STORAGES.setdefault(self.token, self.storage)
        if self.sampler is None:
            sampler = optuna.samplers.TPESampler(seed=self.seeds[index], constant_liar=True)
        else:
            sampler = copy.deepcopy(self.sampler)
            if hasattr(sampler, "reseed_rng"):
                sampler.reseed_rng()
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        import torch

        torch_threads = torch.get_num_threads()
        try:
            study = optuna.load_study(
                study_name=self.study_name,
                storage=storage,
                sampler=sampler,
                pruner=self.pruner or optuna.pruners.NopPruner(),
            )
            ran = []
            with threadpool_limits(limits=self.threads), warnings.catch_warnings():
                warnings.filters[:] = self.filters
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                torch.set_num_threads(self.threads)
                study.optimize(
                    self.evaluator,
                    n_trials=1,
                    callbacks=[lambda _study, trial: ran.append(trial.number)],
                    catch=(),
                )
        finally:
            torch.set_num_threads(torch_threads)
            optuna.logging.set_verbosity(verbosity)
        return ran[0] if ran else None


# Storages opened in this worker process, by search: reused by the next trials of the
# same search (a journal file is then read incrementally, a database pool kept).
_WORKER_STORAGES: dict[str, object] = {}


class _Progress:
    """``verbose`` feedback: a bar over the trials with the best score so far (1), and a
    line per finished trial (2)."""

    def __init__(self, search, study, objective, choices):
        self.verbose = search.verbose
        self.choices = choices
        self.objective = objective
        self.best = None
        for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            if self.best is None or trial.value > self.best[0]:
                self.best = (trial.value, trial.number)
        self.bar = None
        if self.verbose >= 1:
            self.bar = tqdm(
                total=search.n_trials, desc=type(search).__name__, unit="trial", file=sys.stderr
            )
            self._postfix()

    def _postfix(self):
        if self.bar is not None and self.best is not None:
            self.bar.set_postfix_str(f"best {self.best[0]:.4g} (trial {self.best[1]})")

    def update(self, trial):
        if trial.state == TrialState.COMPLETE and (
            self.best is None or trial.value > self.best[0]
        ):
            self.best = (trial.value, trial.number)
        if self.bar is None:
            return
        self.bar.update(1)
        self._postfix()
        if self.verbose >= 2:
            record = trial.user_attrs.get(RECORD_ATTR) or {}
            scores = (record.get("test") or {}).get(self.objective) or [math.nan]
            epochs = [e for e in record.get("epochs", []) if e is not None]
            seconds = record.get("seconds", math.nan)
            what = trial.state.name.lower()
            if record.get("pruned_at") is not None:
                what += f" after epoch {record['pruned_at']}"
            line = (
                f"[{self.bar.desc}] trial {trial.number} {what}: {self.objective} "
                f"{np.mean(scores):.4g}"
                + (f", {sum(epochs)} epochs" if epochs else "")
                + f", {seconds:.1f} s; {decode(trial.params, self.choices)}"
            )
            self.bar.write(line, file=sys.stderr)

    def close(self):
        if self.bar is not None:
            self.bar.close()
