"""DeepMLP estimators inside scikit-learn's tools: pipelines, searches, cloning, pickling."""

import pickle
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skdeep import DeepMLPClassifier, DeepMLPRegressor
from skdeep.datasets import load_adult

FAST = dict(
    hidden_layer_sizes=(32,), learning_rate=1e-2, batch_size=64, max_epochs=8, random_state=0
)


@pytest.fixture(scope="module")
def adult():
    X, y = load_adult(as_frame=True, return_X_y=True)
    return train_test_split(
        X.iloc[:3000], y.iloc[:3000], test_size=0.3, random_state=0, stratify=y.iloc[:3000]
    )


def mixed_pipeline(X, **params):
    categorical = X.select_dtypes("category").columns
    preprocess = make_column_transformer(
        (
            make_pipeline(
                SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
            ),
            categorical,
        ),
        (StandardScaler(), X.columns.difference(categorical)),
    )
    return make_pipeline(preprocess, DeepMLPClassifier(**{**FAST, **params}))


def test_pipeline_with_column_transformer_on_mixed_dataframe(adult):
    X_train, X_test, y_train, y_test = adult
    pipe = mixed_pipeline(X_train).fit(X_train, y_train)
    assert pipe.score(X_test, y_test) > 0.80  # majority class is 0.76
    assert set(pipe.predict(X_test)) <= {"<=50K", ">50K"}
    assert pipe[-1].n_features_in_ == pipe[0].transform(X_test[:2]).shape[1]


def test_grid_search_and_cross_val_score_in_parallel(adult):
    X_train, _, y_train, _ = adult
    pipe = mixed_pipeline(X_train)
    search = GridSearchCV(
        pipe,
        {"deepmlpclassifier__dropout": [0.0, 0.3], "deepmlpclassifier__alpha": [1e-4, 1e-2]},
        cv=2,
        n_jobs=2,
    ).fit(X_train, y_train)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_score_ > 0.78
    scores = cross_val_score(pipe, X_train, y_train, cv=3, n_jobs=2)
    assert scores.shape == (3,) and scores.min() > 0.78


def test_cross_val_scores_are_reproducible(adult):
    X_train, _, y_train, _ = adult
    pipe = mixed_pipeline(X_train, max_epochs=3)
    a = cross_val_score(pipe, X_train, y_train, cv=2, n_jobs=2)
    b = cross_val_score(pipe, X_train, y_train, cv=2, n_jobs=1)
    np.testing.assert_array_equal(a, b)


def test_clone_gives_an_unfitted_equal_copy(adult):
    X_train, _, y_train, _ = adult
    pipe = mixed_pipeline(X_train).fit(X_train, y_train)
    copy = clone(pipe)
    assert copy[-1].get_params() == pipe[-1].get_params()
    assert not hasattr(copy[-1], "net_")


@pytest.mark.parametrize(
    "dump, load", [(pickle.dumps, pickle.loads), (None, None)], ids=["pickle", "joblib"]
)
def test_pickle_and_joblib_round_trips_predict_identically(adult, tmp_path, dump, load):
    X_train, X_test, y_train, _ = adult
    pipe = mixed_pipeline(X_train).fit(X_train, y_train)
    if dump is None:
        joblib.dump(pipe, tmp_path / "pipe.joblib")
        restored = joblib.load(tmp_path / "pipe.joblib")
    else:
        restored = load(dump(pipe))
    np.testing.assert_array_equal(restored.predict_proba(X_test), pipe.predict_proba(X_test))
    # and the restored model keeps training
    restored[-1].partial_fit(restored[0].transform(X_train), y_train)


def test_regressor_round_trips_through_pickle():
    rng = np.random.RandomState(0)
    X, Y = rng.normal(size=(80, 4)), rng.normal(size=(80, 2))
    reg = DeepMLPRegressor(**FAST).fit(X, Y)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reg)).predict(X), reg.predict(X))


def test_cuda_pickle_loads_on_a_cpu_only_machine(adult):
    """The mechanism: a net whose device says CUDA unpickles onto the CPU without CUDA."""
    if torch.cuda.is_available():
        pytest.skip("covered for real by test_cuda_model_loads_without_cuda")
    X_train, X_test, y_train, _ = adult
    pipe = mixed_pipeline(X_train).fit(X_train, y_train)
    expected = pipe.predict_proba(X_test)
    pipe[-1].net_.device = "cuda"  # as if trained on a GPU
    with pytest.warns(UserWarning, match="no CUDA devices are available"):
        restored = pickle.loads(pickle.dumps(pipe))
    assert str(restored[-1].net_.device) == "cpu"
    np.testing.assert_array_equal(restored.predict_proba(X_test), expected)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_model_loads_without_cuda(tmp_path):
    import skdeep

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(100, 4)), rng.randint(0, 2, 100)
    clf = DeepMLPClassifier(**dict(FAST, device="cuda")).fit(X, y)
    joblib.dump(clf, tmp_path / "clf.joblib")
    skdeep.save(clf, tmp_path / "clf.skdeep")
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "proba.npy", clf.predict_proba(X))
    script = f"""
import warnings, joblib, numpy as np, torch, skdeep
assert not torch.cuda.is_available()
X = np.load(r"{tmp_path / "X.npy"}"); expected = np.load(r"{tmp_path / "proba.npy"}")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for model in (joblib.load(r"{tmp_path / "clf.joblib"}"),
                  skdeep.load(r"{tmp_path / "clf.skdeep"}")):
        np.testing.assert_allclose(model.predict_proba(X), expected, rtol=1e-5, atol=1e-6)
"""
    env = {"CUDA_VISIBLE_DEVICES": "", "PATH": ""}
    subprocess.run([sys.executable, "-c", script], check=True, env=env)


def test_no_warnings_in_a_plain_pipeline_fit(adult):
    X_train, X_test, y_train, _ = adult
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipe = mixed_pipeline(X_train, max_epochs=200, n_iter_no_change=2, tol=0.05)
        pipe.fit(X_train, y_train).predict(X_test)
