"""skdeep estimators and searches on Dask workers, through joblib's Dask backend.

A ``dask.distributed.LocalCluster`` with two worker processes of one thread each stands in
for a cluster of machines. Skipped where dask.distributed is not installed.
"""

import os
import warnings

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skdeep import DeepMLPClassifier
from skdeep.search import FloatDistribution, OptunaSearchCV
from skdeep.search._storage import WORKER_ATTR

distributed = pytest.importorskip("dask.distributed", reason="dask.distributed is not installed")

pytestmark = pytest.mark.slow  # a cluster of worker processes, each importing torch


@pytest.fixture(autouse=True)
def _quiet_and_one_thread():
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=120, n_features=5, n_informative=3, random_state=0)


def pipeline():
    return make_pipeline(
        StandardScaler(),
        DeepMLPClassifier(hidden_layer_sizes=(8,), max_epochs=5, device="cpu", random_state=0),
    )


GRID = {"deepmlpclassifier__learning_rate": [1e-3, 1e-2], "deepmlpclassifier__alpha": [0, 1e-3]}


def test_grid_search_on_dask_workers_equals_one_process(client, data):
    X, y = data
    here = GridSearchCV(pipeline(), GRID, cv=2, n_jobs=1).fit(X, y)
    with joblib.parallel_config(backend="dask"):
        there = GridSearchCV(pipeline(), GRID, cv=2, n_jobs=-1).fit(X, y)
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        np.testing.assert_array_equal(there.cv_results_[key], here.cv_results_[key])
    assert there.best_params_ == here.best_params_
    np.testing.assert_array_equal(there.predict_proba(X), here.predict_proba(X))


def test_cross_val_score_on_dask_workers_equals_one_process(client, data):
    X, y = data
    here = cross_val_score(pipeline(), X, y, cv=3, n_jobs=1)
    with joblib.parallel_config(backend="dask"):
        there = cross_val_score(pipeline(), X, y, cv=3, n_jobs=-1)
    np.testing.assert_array_equal(there, here)


def test_optuna_search_runs_its_trials_on_dask_workers(client, data, tmp_path):
    X, y = data
    space = {"deepmlpclassifier__learning_rate": FloatDistribution(1e-3, 1e-1, log=True)}
    search = OptunaSearchCV(pipeline(), space, n_trials=4, cv=2, n_jobs=2, random_state=0)
    with joblib.parallel_config(backend="dask"):
        search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    workers = {t.user_attrs[WORKER_ATTR]["pid"] for t in search.study_.trials}
    dask_pids = set(client.run(os.getpid).values())
    assert workers <= dask_pids
    assert search.score(X, y) > 0.6
