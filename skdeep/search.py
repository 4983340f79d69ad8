"""Hyperparameter search with Optuna, used like :class:`~sklearn.model_selection.GridSearchCV`.

:class:`OptunaSearchCV` is scikit-learn's own search machinery (``BaseSearchCV``: the
cross-validation, ``cv_results_``, ``best_estimator_``, refit, multi-metric scoring,
``n_jobs``) driven by an Optuna sampler: each trial asks the sampler for one candidate,
cross-validates it, and tells the sampler its mean test score, so that the next candidates
concentrate where the scores are good.
"""

from __future__ import annotations

import copy
import time
from numbers import Integral, Real

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval

__all__ = ["CategoricalDistribution", "FloatDistribution", "IntDistribution", "OptunaSearchCV"]


class OptunaSearchCV(BaseSearchCV):
    """Search hyperparameters with Optuna's samplers; the interface of ``GridSearchCV``.

    Each of the ``n_trials`` trials draws one candidate from ``param_distributions`` with
    the Optuna ``sampler`` (TPE by default), cross-validates it like ``GridSearchCV``
    would, and reports its mean test score back to the sampler. Everything else is
    scikit-learn's: ``cv_results_``, ``best_params_``, ``best_estimator_`` (refitted on all
    the data), ``predict`` and friends, multi-metric ``scoring``, ``n_jobs`` over the
    folds of a trial.

    Parameters
    ----------
    estimator : estimator object
        Any scikit-learn estimator or pipeline, e.g. a skdeep estimator.
    param_distributions : dict of str to distribution or list
        Parameter name (``"step__param"`` inside a pipeline) to an Optuna distribution
        (:class:`~optuna.distributions.FloatDistribution`,
        :class:`~optuna.distributions.IntDistribution`,
        :class:`~optuna.distributions.CategoricalDistribution`; re-exported by this module)
        or a non-empty list of choices, short for a categorical distribution.
    n_trials : int, default=20
        Number of candidates to evaluate.
    timeout : float or None, default=None
        Stop starting new trials after this many seconds (the running one finishes).
    sampler : optuna.samplers.BaseSampler or None, default=None
        How candidates are drawn. None uses ``TPESampler(seed=...)`` seeded from
        ``random_state``; TPE draws its first 10 candidates at random (its
        ``n_startup_trials``), so it only differs from a random search beyond 10 trials.
        A sampler given here is copied at ``fit``, never advanced.
    scoring : str, callable, list, tuple, dict or None, default=None
        As in ``GridSearchCV``. With several metrics, ``refit`` names the one the sampler
        maximises.
    n_jobs : int or None, default=None
        Parallel fits within a trial (one per fold); trials run one after another, since
        each one's candidate depends on the scores before it.
    refit : bool, str or callable, default=True
        As in ``GridSearchCV``. With multi-metric scoring it must be the name of a metric.
    cv : int, cross-validation generator or iterable, default=None
        As in ``GridSearchCV`` (5-fold, stratified for classifiers).
    verbose : int, default=0
        As in ``GridSearchCV``; at 1 or more Optuna also logs each finished trial.
    pre_dispatch : int or str, default="2*n_jobs"
        As in ``GridSearchCV``.
    random_state : int, RandomState instance or None, default=None
        Seeds the default sampler: an int makes the whole search reproducible when the
        estimator's own ``random_state`` is fixed too.
    error_score : "raise" or float, default=np.nan
        Score of a failed fit, as in ``GridSearchCV``. A trial whose mean score is not
        finite is reported to Optuna as failed, so the sampler avoids its region. A trial
        whose fits *all* fail is failed too and gets no row in ``cv_results_``
        (scikit-learn keeps none for it); its error is in ``study_.trials[i].user_attrs``.
    return_train_score : bool, default=False
        Also record training scores in ``cv_results_``.

    Attributes
    ----------
    cv_results_ : dict of numpy arrays
        One entry per trial, in trial order, with the keys ``GridSearchCV`` documents
        (``params``, ``param_<name>``, ``mean_test_score``, ``rank_test_score``, ...).
    best_estimator_, best_score_, best_params_, best_index_, scorer_, n_splits_, \
refit_time_, multimetric_, classes_, n_features_in_, feature_names_in_
        As in ``GridSearchCV``.
    study_ : optuna.study.Study
        The study the trials ran in (``study_.trials_dataframe()`` tabulates them). Each
        trial with a row in ``cv_results_`` names it in ``user_attrs["cv_results_index"]``;
        with no failed fits, trial ``i`` is row ``i``.

    See Also
    --------
    sklearn.model_selection.GridSearchCV : every candidate of a grid.
    sklearn.model_selection.RandomizedSearchCV : candidates drawn independently.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skdeep import DeepMLPClassifier
    >>> from skdeep.search import FloatDistribution, OptunaSearchCV
    >>> X, y = load_iris(return_X_y=True)
    >>> search = OptunaSearchCV(
    ...     DeepMLPClassifier(hidden_layer_sizes=(16,), tol=1e-2, random_state=0),
    ...     {"learning_rate": FloatDistribution(1e-3, 1e-1, log=True),
    ...      "hidden_layer_sizes": [(8,), (16,)]},
    ...     n_trials=4, cv=3, random_state=0,
    ... ).fit(X, y)
    >>> len(search.cv_results_["params"]), sorted(search.best_params_)
    (4, ['hidden_layer_sizes', 'learning_rate'])
    >>> search.predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints = {
        **BaseSearchCV._parameter_constraints,
        "param_distributions": [dict],
        "n_trials": [Interval(Integral, 1, None, closed="left")],
        "timeout": [Interval(Real, 0, None, closed="neither"), None],
        "sampler": [HasMethods(["sample_relative", "sample_independent"]), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator,
        param_distributions,
        *,
        n_trials=20,
        timeout=None,
        sampler=None,
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
        self.random_state = random_state

    def _distributions(self):
        """``param_distributions`` as Optuna distributions, each name checked, and the
        choices of the lists whose values Optuna cannot store (tuples, objects)."""
        valid = self.estimator.get_params(deep=True)
        distributions, choices = {}, {}
        for name, value in self.param_distributions.items():
            where = f"param_distributions[{name!r}]"
            if name not in valid:
                raise ValueError(
                    f"{where}: {type(self.estimator).__name__} has no parameter {name!r}; "
                    f"its parameters are listed by estimator.get_params().keys() (inside "
                    "a pipeline: 'step__param')."
                )
            if isinstance(value, BaseDistribution):
                distributions[name] = value
            elif isinstance(value, (list, tuple)) and len(value) > 0:
                if all(v is None or isinstance(v, (bool, int, float, str)) for v in value):
                    distributions[name] = CategoricalDistribution(list(value))
                else:  # e.g. hidden_layer_sizes tuples: the sampler sees their positions
                    distributions[name] = CategoricalDistribution(list(range(len(value))))
                    choices[name] = list(value)
            elif isinstance(value, (list, tuple)):
                raise ValueError(f"{where}: expected at least one choice, got an empty list.")
            else:
                raise TypeError(
                    f"{where}: expected an Optuna distribution (FloatDistribution, "
                    "IntDistribution, CategoricalDistribution) or a list of choices, got "
                    f"{type(value).__name__}."
                )
        return distributions, choices

    def _objective_key(self):
        """The ``cv_results_`` column the sampler maximises."""
        multimetric = isinstance(self.scoring, (list, tuple, dict))
        if not multimetric:
            return "mean_test_score"
        if isinstance(self.refit, str):
            return f"mean_test_{self.refit}"
        raise ValueError(
            f"With several metrics in scoring, refit must name the one to maximise (one of "
            f"{sorted(self.scoring) if isinstance(self.scoring, dict) else list(self.scoring)}"
            f"), got refit={self.refit!r}."
        )

    def _new_study(self):
        if self.sampler is not None:
            sampler = copy.deepcopy(self.sampler)  # fit must not advance the parameter
        else:
            seed = self.random_state
            if seed is not None and not isinstance(seed, Integral):
                seed = int(check_random_state(seed).randint(np.iinfo(np.int32).max))
            sampler = optuna.samplers.TPESampler(seed=seed)
        return optuna.create_study(direction="maximize", sampler=sampler)

    def _run_search(self, evaluate_candidates):
        distributions, choices = self._distributions()
        key = self._objective_key()
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(
            optuna.logging.INFO if self.verbose > 0 else optuna.logging.WARNING
        )
        start = time.monotonic()
        try:
            study = self._new_study()
            rows = 0
            for _ in range(self.n_trials):
                trial = study.ask(distributions)
                params = {
                    name: choices[name][value] if name in choices else value
                    for name, value in trial.params.items()
                }
                try:
                    results = evaluate_candidates([params])
                except ValueError as exc:
                    # scikit-learn refuses a call whose fits all failed, and keeps no row
                    # for it: a failed trial without a row in cv_results_.
                    if self.error_score == "raise" or "fits failed" not in str(exc):
                        raise
                    trial.set_user_attr("error", str(exc).strip().splitlines()[-1])
                    study.tell(trial, state=TrialState.FAIL)
                else:
                    if key not in results:  # a callable scoring returning several metrics
                        raise ValueError(
                            "scoring returned several metrics: set refit to the name of the "
                            f"one to maximise (one of the mean_test_* keys: {sorted(results)})."
                        )
                    trial.set_user_attr("cv_results_index", rows)
                    rows += 1
                    score = float(results[key][-1])
                    if np.isfinite(score):
                        study.tell(trial, score)
                    else:
                        study.tell(trial, state=TrialState.FAIL)
                if self.timeout is not None and time.monotonic() - start >= self.timeout:
                    break
            if not rows:
                raise ValueError(
                    f"Every fit of all {len(study.trials)} trials failed; the last error: "
                    f"{study.trials[-1].user_attrs['error']}. Set error_score='raise' to see "
                    "the whole traceback."
                )
        finally:
            optuna.logging.set_verbosity(verbosity)
        self.study_ = study
