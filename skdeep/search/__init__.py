"""Hyperparameter search with Optuna, used like :class:`~sklearn.model_selection.GridSearchCV`.

:class:`OptunaSearchCV` is scikit-learn's search interface (``cv_results_``,
``best_estimator_``, refit, multi-metric scoring) over an Optuna study: a sampler proposes
candidates, a pruner stops hopeless ones epoch by epoch (on the mean score of all the
folds), a storage (a journal file or a database) makes the study resumable and shared
between processes and machines, and ``n_jobs`` runs trials in parallel.

:func:`default_search_space` gives each skdeep estimator's default space (used when
``param_distributions`` is omitted); :class:`PruningCallback` prunes a hand-written Optuna
objective.
"""

from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from skdeep.search._callbacks import PruningCallback
from skdeep.search._search import OptunaSearchCV
from skdeep.search._spaces import SEARCH_SPACES, default_search_space

__all__ = [
    "SEARCH_SPACES",
    "CategoricalDistribution",
    "FloatDistribution",
    "IntDistribution",
    "OptunaSearchCV",
    "PruningCallback",
    "default_search_space",
]
