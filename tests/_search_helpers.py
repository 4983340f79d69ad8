"""Helpers for the search tests that run searches in other processes.

``python _search_helpers.py STORAGE STUDY N_TRIALS [BLOCK_FILE] [--heartbeat]`` runs a
small search on a study: the process the storage tests start, kill and resume. The
estimator is defined here, not in a test module, so that every process fingerprints the
same class.
"""

import os
import sys
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class Sleepy(ClassifierMixin, BaseEstimator):
    """Predicts the first class; its fit waits while the file ``block`` exists."""

    def __init__(self, c=1.0, block=None):
        self.c = c
        self.block = block

    def fit(self, X, y):
        while self.block is not None and os.path.exists(self.block):
            time.sleep(0.05)
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def score(self, X, y, sample_weight=None):
        return float(np.mean(self.predict(X) == y)) + self.c / 100


def data():
    return np.arange(40.0).reshape(20, 2), np.tile([0, 1], 10)


def heartbeat_storage(url):
    """An RDB storage whose dead workers are noticed within seconds (tests only)."""
    import optuna

    from skdeep.search._storage import _RETRY_KWARG, RetryCallback

    return optuna.storages.RDBStorage(
        url, heartbeat_interval=1, grace_period=2, **{_RETRY_KWARG: RetryCallback(max_retry=1)}
    )


def search(storage, study_name, n_trials, block=None):
    from skdeep.search import FloatDistribution, OptunaSearchCV

    return OptunaSearchCV(
        Sleepy(block=block),
        {"c": FloatDistribution(0.0, 1.0)},
        n_trials=n_trials,
        cv=2,
        storage=storage,
        study_name=study_name,
        refit=False,
    )


def main(argv):
    storage, study_name, n_trials, *rest = argv
    heartbeat = "--heartbeat" in rest
    rest = [a for a in rest if a != "--heartbeat"]
    if heartbeat:
        storage = heartbeat_storage(storage)
    search(storage, study_name, int(n_trials), rest[0] if rest else None).fit(*data())


if __name__ == "__main__":
    main(sys.argv[1:])
