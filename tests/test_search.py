"""skdeep.search.OptunaSearchCV: GridSearchCV's contract, driven by an Optuna sampler."""

import warnings

import numpy as np
import optuna
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skdeep import DeepMLPClassifier, LSTMTextClassifier
from skdeep.search import FloatDistribution, IntDistribution, OptunaSearchCV

SPACE = {
    "deepmlpclassifier__learning_rate": FloatDistribution(1e-3, 1e-1, log=True),
    "deepmlpclassifier__hidden_layer_sizes": [(4,), (16,)],
    "deepmlpclassifier__batch_size": IntDistribution(16, 64, step=16),
}


@pytest.fixture(autouse=True)
def _quiet_and_one_thread():
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tiny epoch budgets on purpose
        yield


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=200, n_features=6, n_informative=4, random_state=0)


def pipeline():
    return make_pipeline(StandardScaler(), DeepMLPClassifier(max_epochs=15, random_state=0))


def search(**kwargs):
    params = dict(n_trials=5, cv=2, random_state=0)
    return OptunaSearchCV(pipeline(), SPACE, **{**params, **kwargs})


def test_search_records_every_trial_and_refits_the_best(data):
    X, y = data
    s = search().fit(X, y)
    results = s.cv_results_
    assert len(results["params"]) == 5 and len(s.study_.trials) == 5
    assert s.best_index_ == int(np.argmax(results["mean_test_score"]))
    assert s.best_params_ == results["params"][s.best_index_]
    assert s.best_score_ == results["mean_test_score"][s.best_index_]
    assert results["rank_test_score"][s.best_index_] == 1
    # The sampler was told each trial's mean test score, in trial order.
    values = [t.value for t in s.study_.trials]
    np.testing.assert_allclose(values, results["mean_test_score"])
    for params in results["params"]:
        assert params["deepmlpclassifier__hidden_layer_sizes"] in [(4,), (16,)]
        assert 1e-3 <= params["deepmlpclassifier__learning_rate"] <= 1e-1
        assert params["deepmlpclassifier__batch_size"] in (16, 32, 48, 64)
    best = s.best_estimator_[-1]
    assert best.learning_rate == s.best_params_["deepmlpclassifier__learning_rate"]
    assert s.predict(X).shape == (200,) and s.predict_proba(X).shape == (200, 2)
    assert s.score(X, y) > 0.8
    np.testing.assert_array_equal(s.classes_, [0, 1])


def test_same_random_state_same_search(data):
    X, y = data
    a, b = search().fit(X, y), search().fit(X, y)
    assert a.cv_results_["params"] == b.cv_results_["params"]
    np.testing.assert_array_equal(
        a.cv_results_["mean_test_score"], b.cv_results_["mean_test_score"]
    )
    c = search(random_state=1).fit(X, y)
    assert c.cv_results_["params"] != a.cv_results_["params"]


def test_a_given_sampler_is_copied_not_advanced(data):
    X, y = data
    sampler = optuna.samplers.RandomSampler(seed=3)
    first = search(sampler=sampler, n_trials=3).fit(X, y)
    again = search(sampler=sampler, n_trials=3).fit(X, y)
    assert first.cv_results_["params"] == again.cv_results_["params"]
    assert isinstance(first.study_.sampler, optuna.samplers.RandomSampler)


def test_multimetric_scoring_maximises_the_refit_metric(data):
    X, y = data
    s = search(scoring={"acc": "accuracy", "auc": "roc_auc"}, refit="auc").fit(X, y)
    np.testing.assert_allclose([t.value for t in s.study_.trials], s.cv_results_["mean_test_auc"])
    assert s.best_index_ == int(np.argmax(s.cv_results_["mean_test_auc"]))
    with pytest.raises(ValueError, match="refit"):
        search(scoring=["accuracy", "roc_auc"], refit=True).fit(X, y)


def test_failed_fits_are_failed_trials(data):
    X, y = data
    space = {"deepmlpclassifier__dropout": [0.0, 1.5]}  # 1.5 makes every fit raise
    s = OptunaSearchCV(pipeline(), space, n_trials=6, cv=2, random_state=0).fit(X, y)
    failed = [t for t in s.study_.trials if t.state == optuna.trial.TrialState.FAIL]
    done = [t for t in s.study_.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert failed and done and len(failed) + len(done) == 6
    assert all("'dropout' parameter" in t.user_attrs["error"] for t in failed)
    # Only the trials that fitted have rows, and they say which.
    assert [t.user_attrs["cv_results_index"] for t in done] == list(range(len(done)))
    assert len(s.cv_results_["params"]) == len(done)
    assert s.best_params_ == {"deepmlpclassifier__dropout": 0.0}
    with pytest.raises(ValueError, match=r"Every fit of all 2 trials failed.*'dropout' parameter"):
        OptunaSearchCV(pipeline(), {"deepmlpclassifier__dropout": [1.5]}, n_trials=2, cv=2).fit(
            X, y
        )
    with pytest.raises(ValueError, match="'dropout' parameter"):
        OptunaSearchCV(
            pipeline(), {"deepmlpclassifier__dropout": [1.5]}, cv=2, error_score="raise"
        ).fit(X, y)


def test_tunes_raw_text_in_a_pipeline():
    X = ["good movie", "great film", "loved it", "bad movie", "awful film", "hated it"] * 6
    y = ["pos", "pos", "pos", "neg", "neg", "neg"] * 6
    clf = LSTMTextClassifier(embedding_dim=8, hidden_size=8, max_epochs=6, random_state=0)
    space = {"learning_rate": FloatDistribution(3e-3, 3e-2, log=True), "pooling": ["max", "mean"]}
    s = OptunaSearchCV(clf, space, n_trials=3, cv=2, random_state=0).fit(X, y)
    assert s.best_params_["pooling"] in ("max", "mean")
    assert s.predict(["a great film"]).tolist() == ["pos"]


def test_timeout_stops_starting_trials(data):
    X, y = data
    s = search(n_trials=50, timeout=1e-9).fit(X, y)
    assert len(s.cv_results_["params"]) == 1


def test_clone_and_params():
    s = search(n_trials=7)
    copy = clone(s)
    assert copy.get_params()["n_trials"] == 7
    assert "estimator__deepmlpclassifier__learning_rate" in copy.get_params()


@pytest.mark.parametrize(
    ("space", "error", "message"),
    [
        ({"deepmlpclassifier__lr": [0.1]}, ValueError, "has no parameter 'deepmlpclassifier__lr'"),
        ({"deepmlpclassifier__dropout": []}, ValueError, "expected at least one choice"),
        ({"deepmlpclassifier__dropout": 0.2}, TypeError, "expected an Optuna distribution"),
    ],
)
def test_bad_distributions_name_the_parameter(data, space, error, message):
    X, y = data
    with pytest.raises(error, match=message):
        OptunaSearchCV(pipeline(), space, n_trials=2, cv=2).fit(X, y)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (dict(n_trials=0), "'n_trials' parameter of OptunaSearchCV must be an int"),
        (dict(timeout=-1), "'timeout' parameter"),
        (dict(sampler="tpe"), "'sampler' parameter"),
    ],
)
def test_bad_parameters_are_named(data, params, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        search(**params).fit(X, y)


def test_tunes_an_unsupervised_vae_by_its_elbo(data):
    from skdeep import VAEEncoder

    X, _ = data
    vae = VAEEncoder(n_components=2, hidden_layer_sizes=(16,), max_epochs=5, random_state=0)
    s = OptunaSearchCV(vae, {"beta": FloatDistribution(0.1, 1.0)}, n_trials=3, cv=2).fit(X)
    assert np.isfinite(s.cv_results_["mean_test_score"]).all()  # ELBO per row, from score
    assert s.transform(X[:5]).shape == (5, 2)
