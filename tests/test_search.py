"""skdeep.search.OptunaSearchCV: GridSearchCV's contract over an Optuna study.

Pruning is tested in test_search_pruning.py, storage, resume and parallel trials in
test_search_storage.py, Dask in test_search_dask.py.
"""

import contextlib
import importlib
import warnings

import numpy as np
import optuna
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from skdeep import DeepMLPClassifier, DeepMLPRegressor, LSTMTextClassifier, VAEEncoder
from skdeep.search import (
    SEARCH_SPACES,
    FloatDistribution,
    IntDistribution,
    OptunaSearchCV,
    default_search_space,
)

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


def pipeline(max_epochs=15):
    return make_pipeline(
        StandardScaler(), DeepMLPClassifier(max_epochs=max_epochs, random_state=0)
    )


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
    # The study was told each trial's mean test score, in trial order.
    values = [t.value for t in s.study_.trials]
    np.testing.assert_allclose(values, results["mean_test_score"])
    np.testing.assert_array_equal(results["trial_number"], np.arange(5))
    assert list(results["state"]) == ["COMPLETE"] * 5
    # Fitted with fit (no pruner): the epochs each fold's fit ran, summed over the folds.
    assert all(2 <= n <= 2 * 15 for n in results["n_epochs"])
    for params in results["params"]:
        assert params["deepmlpclassifier__hidden_layer_sizes"] in [(4,), (16,)]
        assert 1e-3 <= params["deepmlpclassifier__learning_rate"] <= 1e-1
        assert params["deepmlpclassifier__batch_size"] in (16, 32, 48, 64)
    # Tuples are stored in the study by their repr, and mapped back.
    assert {t.params["deepmlpclassifier__hidden_layer_sizes"] for t in s.study_.trials} <= {
        "(4,)",
        "(16,)",
    }
    best = s.best_estimator_[-1]
    assert best.learning_rate == s.best_params_["deepmlpclassifier__learning_rate"]
    assert s.predict(X).shape == (200,) and s.predict_proba(X).shape == (200, 2)
    assert s.score(X, y) > 0.75
    np.testing.assert_array_equal(s.classes_, [0, 1])
    assert s.n_splits_ == 2 and s.refit_time_ > 0


def test_same_random_state_same_search(data):
    X, y = data
    a, b = search(n_trials=3, refit=False).fit(X, y), search(n_trials=3, refit=False).fit(X, y)
    assert a.cv_results_["params"] == b.cv_results_["params"]
    np.testing.assert_array_equal(
        a.cv_results_["mean_test_score"], b.cv_results_["mean_test_score"]
    )
    c = search(n_trials=3, refit=False, random_state=1).fit(X, y)
    assert c.cv_results_["params"] != a.cv_results_["params"]


def test_a_given_sampler_is_copied_not_advanced(data):
    X, y = data
    sampler = optuna.samplers.RandomSampler(seed=3)
    first = search(sampler=sampler, n_trials=3, refit=False).fit(X, y)
    again = search(sampler=sampler, n_trials=3, refit=False).fit(X, y)
    assert first.cv_results_["params"] == again.cv_results_["params"]
    assert isinstance(first.study_.sampler, optuna.samplers.RandomSampler)


def test_multimetric_scoring_maximises_the_refit_metric(data):
    X, y = data
    s = search(scoring={"acc": "accuracy", "auc": "roc_auc"}, refit="auc", n_trials=3).fit(X, y)
    np.testing.assert_allclose([t.value for t in s.study_.trials], s.cv_results_["mean_test_auc"])
    assert s.best_index_ == int(np.argmax(s.cv_results_["mean_test_auc"]))
    assert s.multimetric_ and set(s.scorer_) == {"acc", "auc"}
    assert "rank_test_acc" in s.cv_results_
    with pytest.raises(ValueError, match="refit must name the one to maximise"):
        search(scoring=["accuracy", "roc_auc"], refit=True).fit(X, y)


def test_a_callable_scoring_several_metrics_needs_refit(data):
    X, y = data

    def two(estimator, X, y):
        return {"acc": estimator.score(X, y), "half": estimator.score(X, y) / 2}

    s = search(scoring=two, refit="half", n_trials=2).fit(X, y)
    np.testing.assert_allclose(s.cv_results_["mean_test_half"] * 2, s.cv_results_["mean_test_acc"])
    with pytest.raises(ValueError, match=r"scoring returned the metrics \['acc', 'half'\]"):
        search(scoring=two, n_trials=1).fit(X, y)


def test_failed_fits_are_failed_trials_with_rows(data):
    X, y = data
    space = {"deepmlpclassifier__dropout": [0.0, 1.5]}  # 1.5 makes every fit raise
    with pytest.warns(Warning, match="fits failed"):
        s = OptunaSearchCV(pipeline(), space, n_trials=6, cv=2, random_state=0).fit(X, y)
    states = {t.number: t.state for t in s.study_.trials}
    failed = [n for n, state in states.items() if state == optuna.trial.TrialState.FAIL]
    done = [n for n, state in states.items() if state == optuna.trial.TrialState.COMPLETE]
    assert failed and done and len(failed) + len(done) == 6
    assert all("dropout" in s.study_.trials[n].user_attrs["error"] for n in failed)
    # Every trial has its row, as GridSearchCV keeps one for a candidate whose fits failed;
    # the failed ones have NaN scores and rank last.
    results = s.cv_results_
    assert list(results["state"]) == [states[n].name for n in range(6)]
    assert np.isnan(results["mean_test_score"][failed]).all()
    assert (results["rank_test_score"][failed] > results["rank_test_score"][done].max()).all()
    assert s.best_params_ == {"deepmlpclassifier__dropout": 0.0}
    with pytest.raises(ValueError, match=r"Every fit of all 2 trials failed.*dropout"):
        OptunaSearchCV(pipeline(), {"deepmlpclassifier__dropout": [1.5]}, n_trials=2, cv=2).fit(
            X, y
        )
    with pytest.raises(ValueError, match="dropout"):
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


def test_works_nested_in_cross_val_score(data):
    X, y = data
    inner = search(n_trials=2)
    scores = cross_val_score(inner, X, y, cv=2)
    assert scores.shape == (2,) and (scores > 0.6).all()


def test_tunes_an_unsupervised_vae_by_its_elbo(data):
    X, _ = data
    vae = VAEEncoder(n_components=2, hidden_layer_sizes=(16,), max_epochs=5, random_state=0)
    s = OptunaSearchCV(vae, {"beta": FloatDistribution(0.1, 1.0)}, n_trials=3, cv=2).fit(X)
    assert np.isfinite(s.cv_results_["mean_test_score"]).all()  # ELBO per row, from score
    assert s.transform(X[:5]).shape == (5, 2)


# --- feedback ---------------------------------------------------------------------------


def test_verbose_shows_a_progress_bar_then_one_line_per_trial(data, capsys):
    X, y = data
    search(n_trials=2, verbose=0, refit=False).fit(X, y)
    assert capsys.readouterr().err == ""
    search(n_trials=2, verbose=1, refit=False).fit(X, y)
    err = capsys.readouterr().err
    assert "OptunaSearchCV" in err and "2/2" in err and "best" in err
    assert "trial 0 complete" not in err
    search(n_trials=2, verbose=2, refit=False).fit(X, y)
    err = capsys.readouterr().err
    assert "trial 0 complete: score" in err and "trial 1 complete: score" in err
    assert "deepmlpclassifier__learning_rate" in err


# --- default search spaces --------------------------------------------------------------


def _later_families():
    """The families being written: checked as soon as they can be imported."""
    found = []
    for module, name in (("skdeep.lm", "TransformerLMGenerator"), ("skdeep.gan", "GANSampler")):
        with contextlib.suppress(ImportError, AttributeError):
            found.append(getattr(importlib.import_module(module), name))
    return found


ESTIMATORS = [DeepMLPClassifier, DeepMLPRegressor, LSTMTextClassifier, VAEEncoder]


@pytest.mark.parametrize("klass", ESTIMATORS + _later_families())
def test_every_default_space_names_parameters_of_its_estimator(klass):
    space = default_search_space(klass())
    assert space and set(space) <= set(klass().get_params())
    assert set(space) == set(SEARCH_SPACES[klass.__name__])
    # A fresh copy each time: editing it changes nothing for the next caller.
    space.clear()
    assert default_search_space(klass())


def test_default_space_is_prefixed_for_a_pipeline_step():
    pipe = make_pipeline(StandardScaler(), DeepMLPRegressor())
    space = default_search_space(pipe)
    assert set(space) == {f"deepmlpregressor__{n}" for n in SEARCH_SPACES["DeepMLPRegressor"]}
    nested = Pipeline([("outer", Pipeline([("scale", StandardScaler()), ("net", VAEEncoder())]))])
    assert "outer__net__beta" in default_search_space(nested)


def test_the_default_space_is_used_when_none_is_given(data):
    X, y = data
    s = OptunaSearchCV(pipeline(max_epochs=5), n_trials=2, cv=2, random_state=0).fit(X, y)
    assert set(s.best_params_) == set(default_search_space(pipeline()))
    assert (
        s.cv_results_["params"][0]["deepmlpclassifier__hidden_layer_sizes"]
        in (SEARCH_SPACES["DeepMLPClassifier"]["hidden_layer_sizes"])
    )


def test_no_default_space_for_another_estimator(data):
    X, y = data
    with pytest.raises(ValueError, match="no default search space for LogisticRegression"):
        OptunaSearchCV(LogisticRegression(), n_trials=2).fit(X, y)


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("space", "error", "message"),
    [
        (
            {"deepmlpclassifier__lr": [0.1]},
            ValueError,
            r"no parameter 'deepmlpclassifier__lr'\. Did you mean "
            r"'deepmlpclassifier__l1'.*under 'deepmlpclassifier__': .*deepmlpclassifier__alpha",
        ),
        ({"deepmlpclassifier__dropout": []}, ValueError, "expected at least one choice"),
        ({"deepmlpclassifier__dropout": 0.2}, TypeError, "expected an Optuna distribution"),
        ({}, ValueError, "param_distributions is empty"),
        (
            {"deepmlpclassifier__learning_rate": (1e-4, 1e-1)},
            TypeError,
            r"a tuple is ambiguous.*FloatDistribution\(0\.0001, 0\.1\).*\[0\.0001, 0\.1\]",
        ),
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
        (dict(pruner="median"), "'pruner' parameter"),
        (dict(storage=3), "'storage' parameter"),
    ],
)
def test_bad_parameters_are_named(data, params, message):
    X, y = data
    with pytest.raises(InvalidParameterError, match=message):
        search(**params).fit(X, y)


def test_refit_naming_a_metric_not_in_scoring(data):
    X, y = data
    with pytest.raises(
        ValueError, match=r"refit='f1' is not a metric of scoring.*\['acc', 'auc'\]"
    ):
        search(scoring={"acc": "accuracy", "auc": "roc_auc"}, refit="f1").fit(X, y)


# --- scikit-learn's checks for a meta-estimator -----------------------------------------


# As scikit-learn checks its own searches (error_score="raise"); check_supervised_y_2d is
# expected to fail for a regressor inside, as for GridSearchCV (a classifier passes it).
@parametrize_with_checks(
    [
        OptunaSearchCV(
            LogisticRegression(),
            {"C": FloatDistribution(0.1, 10.0, log=True)},
            n_trials=2,
            cv=2,
            error_score="raise",
            random_state=0,
        )
    ]
)
def test_sklearn_checks_as_for_gridsearchcv(estimator, check):
    check(estimator)
