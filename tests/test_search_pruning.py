"""Pruning under cross-validation: folds trained side by side, one epoch at a time.

A small recording estimator shows exactly what each fold trains on and is scored on;
DeepMLPClassifier shows the same on a real skdeep estimator.
"""

import copy
import warnings

import numpy as np
import optuna
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from skorch.callbacks import Callback
from threadpoolctl import threadpool_limits

from skdeep import DeepMLPClassifier, LSTMTextClassifier, VAEEncoder
from skdeep.search import FloatDistribution, OptunaSearchCV, PruningCallback

LOG = []


class EpochLog(ClassifierMixin, BaseEstimator):
    """Records every call; column 0 of X is the row id. Scores ``lr * epochs / 10`` plus
    a little that depends on the rows scored, so that folds differ."""

    def __init__(self, lr=1.0, max_epochs=4, fail_without_row=None):
        self.lr = lr
        self.max_epochs = max_epochs
        self.fail_without_row = fail_without_row

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        rows = X[:, 0].astype(int).tolist()
        if self.fail_without_row is not None and self.fail_without_row not in rows:
            raise ValueError("asked to fail")
        if not hasattr(self, "epochs_"):
            self.epochs_, self.classes_ = 0, np.asarray(classes)
        self.epochs_ += 1
        weights = None if sample_weight is None else np.asarray(sample_weight).tolist()
        LOG.append(("fit", id(self), self.epochs_, rows, weights, classes))
        return self

    def fit(self, X, y, sample_weight=None):
        for _ in range(self.max_epochs):
            self.partial_fit(X, y, classes=np.unique(y), sample_weight=sample_weight)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def score(self, X, y, sample_weight=None):
        rows = X[:, 0].astype(int)
        LOG.append(("score", id(self), self.epochs_, rows.tolist()))
        return self.lr * self.epochs_ / 10 + rows.mean() / 1e4


@pytest.fixture(autouse=True)
def _fresh_log_one_thread():
    LOG.clear()
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def rows():
    rng = np.random.RandomState(0)
    X = np.column_stack([np.arange(30), rng.normal(size=30)])
    y = np.tile([0, 1], 15)
    return X, y


NEVER = optuna.pruners.MedianPruner(n_startup_trials=1000)  # reports, never prunes


def fits():
    return [e for e in LOG if e[0] == "fit"]


def test_each_epoch_reports_the_mean_of_all_folds_on_folds_split_once(rows):
    X, y = rows
    # A shuffling splitter without a seed: re-splitting per epoch would change the folds.
    cv = KFold(3, shuffle=True)
    s = OptunaSearchCV(
        EpochLog(), {"lr": FloatDistribution(0.5, 2.0)}, n_trials=1, cv=cv, pruner=NEVER
    )
    s.set_params(refit=False).fit(X, y)
    folds = {}
    for event in LOG:
        fold = folds.setdefault(event[1], {"train": [], "test": {}})
        if event[0] == "fit":
            fold["train"].append(event[3])
        else:
            fold["test"][event[2]] = event[3]
    assert len(folds) == 3
    trial = s.study_.trials[0]
    lr = trial.params["lr"]
    assert sorted(trial.intermediate_values) == [1, 2, 3, 4]
    for epoch in (1, 2, 3, 4):
        expected = np.mean(
            [lr * epoch / 10 + np.mean(f["test"][epoch]) / 1e4 for f in folds.values()]
        )
        assert trial.intermediate_values[epoch] == pytest.approx(expected)
    tested = []
    for fold in folds.values():
        # One partial_fit per epoch on the same rows, never the rows it is scored on.
        assert len(fold["train"]) == 4 and all(r == fold["train"][0] for r in fold["train"])
        assert all(t == fold["test"][1] for t in fold["test"].values())
        assert not set(fold["train"][0]) & set(fold["test"][1])
        tested += fold["test"][1]
    assert sorted(tested) == list(range(30))
    # The trial's score is the mean of the folds after the last epoch.
    assert s.cv_results_["mean_test_score"][0] == pytest.approx(trial.intermediate_values[4])
    assert trial.value == pytest.approx(trial.intermediate_values[4])
    assert s.cv_results_["n_epochs"][0] == 3 * 4


def test_the_folds_are_the_same_for_every_trial(rows):
    X, y = rows
    space = {"lr": FloatDistribution(0.5, 2.0)}
    OptunaSearchCV(
        EpochLog(max_epochs=2), space, n_trials=3, cv=KFold(3, shuffle=True), pruner=NEVER
    ).fit(X, y)
    train_sets = {}
    for event in fits():
        if event[2] == 1 and len(event[3]) == 20:  # first epoch of a fold (not the refit)
            train_sets.setdefault(tuple(event[3]), 0)
            train_sets[tuple(event[3])] += 1
    assert len(train_sets) == 3 and set(train_sets.values()) == {3}


@pytest.mark.parametrize("pruner", [None, NEVER], ids=["by-fits", "by-epochs"])
def test_sample_weight_is_sliced_per_fold_and_classes_given_first(rows, pruner):
    X, y = rows
    weight = np.arange(30) + 0.5
    s = OptunaSearchCV(
        EpochLog(max_epochs=3), {"lr": [1.0]}, n_trials=1, cv=3, pruner=pruner, refit=False
    )
    s.fit(X, y, sample_weight=weight)
    events = fits()
    assert len(events) == 3 * 3
    for _, _, epoch, rows_, weights, classes in events:
        assert weights == [r + 0.5 for r in rows_]
        if pruner is not None:  # partial_fit by the search: classes on the first call only
            assert (classes is not None) == (epoch == 1)
        if classes is not None:
            np.testing.assert_array_equal(classes, [0, 1])


def test_sample_weight_reaches_a_pipeline_step_by_epochs(rows):
    X, y = rows
    pipe = make_pipeline(FunctionTransformer(), EpochLog(max_epochs=2))
    weight = np.arange(30) * 2.0
    OptunaSearchCV(pipe, {"epochlog__lr": [1.0]}, n_trials=1, cv=2, pruner=NEVER).fit(
        X, y, epochlog__sample_weight=weight
    )
    assert all(w == [2.0 * r for r in rows_] for _, _, _, rows_, w, _ in fits())


def test_sample_weight_with_metadata_routing(rows):
    X, y = rows
    weight = np.arange(30) + 1.0
    with sklearn.config_context(enable_metadata_routing=True):
        model = EpochLog(max_epochs=2).set_fit_request(sample_weight=True)
        model.set_score_request(sample_weight=False)
        OptunaSearchCV(model, {"lr": [1.0]}, n_trials=1, cv=2, pruner=NEVER).fit(
            X, y, sample_weight=weight
        )
    assert all(w == [r + 1.0 for r in rows_] for _, _, _, rows_, w, _ in fits())


def test_a_pruned_trial_keeps_its_row_state_and_epochs(rows):
    X, y = rows
    # lr=1 scores 0.1 after epoch 1, below the threshold: pruned; lr=3 scores 0.3: kept.
    sampler = optuna.samplers.GridSampler({"lr": [1.0, 3.0]}, seed=0)
    s = OptunaSearchCV(
        EpochLog(max_epochs=4),
        {"lr": [1.0, 3.0]},
        n_trials=2,
        cv=3,
        sampler=sampler,
        pruner=optuna.pruners.ThresholdPruner(lower=0.15),
    ).fit(X, y)
    results = s.cv_results_
    by_lr = {p["lr"]: i for i, p in enumerate(results["params"])}
    pruned, kept = by_lr[1.0], by_lr[3.0]
    assert results["state"][pruned] == "PRUNED" and results["state"][kept] == "COMPLETE"
    assert results["n_epochs"][pruned] == 3 * 1 and results["n_epochs"][kept] == 3 * 4
    # Its score is that of the epoch it stopped at; complete trials rank first.
    assert results["mean_test_score"][pruned] == pytest.approx(0.1, abs=1e-2)
    assert results["rank_test_score"][kept] == 1 and results["rank_test_score"][pruned] == 2
    assert s.best_params_ == {"lr": 3.0}
    trial = s.study_.trials[results["trial_number"][pruned]]
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert sorted(trial.intermediate_values) == [1]


def test_a_pruned_trial_ranks_after_complete_ones_even_with_a_higher_score(rows):
    X, y = rows
    # Pruned as soon as it reports (upper bound 0): both trials are pruned but the first,
    # which the pruner never sees (n_warmup_steps), so they can be compared.
    sampler = optuna.samplers.GridSampler({"lr": [1.0, 5.0]}, seed=0)
    s = OptunaSearchCV(
        EpochLog(max_epochs=3),
        {"lr": [1.0, 5.0]},
        n_trials=2,
        cv=2,
        sampler=sampler,
        pruner=optuna.pruners.ThresholdPruner(upper=0.35),
    ).fit(X, y)
    results = s.cv_results_
    states = dict(zip([p["lr"] for p in results["params"]], results["state"], strict=True))
    assert states == {1.0: "COMPLETE", 5.0: "PRUNED"}  # 0.5 after one epoch > 0.35
    high = [p["lr"] for p in results["params"]].index(5.0)
    assert results["mean_test_score"][high] > results["mean_test_score"][1 - high]
    assert results["rank_test_score"][high] == 2 and s.best_params_ == {"lr": 1.0}


def test_an_estimator_without_partial_fit_is_searched_without_pruning(rows):
    X, y = rows
    with pytest.warns(UserWarning, match="LogisticRegression cannot train by epochs"):
        s = OptunaSearchCV(
            LogisticRegression(), {"C": [0.1, 1.0]}, n_trials=2, cv=2, pruner=NEVER
        ).fit(X, y)
    assert all(not t.intermediate_values for t in s.study_.trials)
    assert list(s.cv_results_["state"]) == ["COMPLETE"] * 2


def test_a_scikit_learn_sgd_model_trains_by_epochs_of_max_iter(rows):
    X, y = rows
    s = OptunaSearchCV(
        make_pipeline(StandardScaler(), SGDClassifier(max_iter=3, random_state=0)),
        {"sgdclassifier__alpha": FloatDistribution(1e-4, 1e-1, log=True)},
        n_trials=2,
        cv=2,
        pruner=NEVER,
    ).fit(X, y)
    assert all(sorted(t.intermediate_values) == [1, 2, 3] for t in s.study_.trials)
    assert list(s.cv_results_["n_epochs"]) == [6, 6]


def test_a_failing_fold_by_epochs_scores_error_score(rows):
    X, y = rows
    model = EpochLog(max_epochs=2, fail_without_row=0)  # the fold testing row 0 fails
    space = {"lr": [1.0]}
    with pytest.warns(FitFailedWarning, match="1 of 3 fits failed.*asked to fail"):
        s = OptunaSearchCV(
            model, space, n_trials=1, cv=3, pruner=NEVER, error_score=-1.0, refit=False
        ).fit(X, y)
    splits = [s.cv_results_[f"split{i}_test_score"][0] for i in range(3)]
    assert sorted(splits)[0] == -1.0 and sorted(splits)[1] > 0
    assert s.cv_results_["state"][0] == "COMPLETE"
    with pytest.warns(FitFailedWarning):
        s = OptunaSearchCV(model, space, n_trials=2, cv=3, pruner=NEVER, refit=False)
        with pytest.raises(ValueError, match="Every fit of all 2 trials failed"):
            s.fit(X, y)
    with pytest.raises(ValueError, match="asked to fail"):
        OptunaSearchCV(model, space, n_trials=1, cv=3, pruner=NEVER, error_score="raise").fit(X, y)


def test_deep_mlp_in_a_pipeline_with_sample_weight_and_balanced_classes():
    X, y = make_classification(120, 5, n_informative=3, weights=[0.7], random_state=0)
    pipe = make_pipeline(
        StandardScaler(),
        DeepMLPClassifier(
            hidden_layer_sizes=(8,), max_epochs=5, class_weight="balanced", random_state=0
        ),
    )
    s = OptunaSearchCV(
        pipe,
        {"deepmlpclassifier__learning_rate": FloatDistribution(1e-3, 1e-1, log=True)},
        n_trials=4,
        cv=2,
        scoring="roc_auc",
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2),
        random_state=0,
    ).fit(X, y, deepmlpclassifier__sample_weight=np.ones(len(y)))
    results = s.cv_results_
    assert set(results["state"]) <= {"COMPLETE", "PRUNED"}
    for i, trial in enumerate(s.study_.trials):
        epochs = sorted(trial.intermediate_values)
        assert epochs == list(range(1, len(epochs) + 1))
        assert results["n_epochs"][i] == 2 * len(epochs)
        if results["state"][i] == "COMPLETE":
            assert epochs == [1, 2, 3, 4, 5]
            assert trial.value == pytest.approx(trial.intermediate_values[5])
    assert s.best_score_ > 0.6 and s.predict_proba(X).shape == (120, 2)


def test_optunas_plots_draw_the_study(rows):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from optuna.visualization import matplotlib as plots

    X, y = rows
    space = {"lr": FloatDistribution(0.5, 2.0), "max_epochs": [2, 3]}
    s = OptunaSearchCV(EpochLog(), space, n_trials=4, cv=2, pruner=NEVER, refit=False)
    s.fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        for plot in (
            plots.plot_optimization_history,
            plots.plot_param_importances,
            plots.plot_intermediate_values,
        ):
            assert plot(s.study_) is not None
    matplotlib.pyplot.close("all")


def test_raw_text_trains_by_epochs():
    X = ["good movie", "great film", "loved it", "bad movie", "awful film", "hated it"] * 6
    y = ["pos", "pos", "pos", "neg", "neg", "neg"] * 6
    clf = LSTMTextClassifier(embedding_dim=8, hidden_size=8, max_epochs=3, random_state=0)
    s = OptunaSearchCV(
        clf, {"learning_rate": [1e-2, 3e-2]}, n_trials=2, cv=2, pruner=NEVER, random_state=0
    ).fit(X, y)
    assert all(sorted(t.intermediate_values) == [1, 2, 3] for t in s.study_.trials)
    assert s.predict(["a great film"]).shape == (1,)


@pytest.mark.skipif(
    not hasattr(VAEEncoder, "partial_fit"), reason="this VAEEncoder has no partial_fit yet"
)
def test_an_unsupervised_vae_trains_by_epochs():
    X, _ = make_classification(80, 4, random_state=0)
    vae = VAEEncoder(n_components=2, hidden_layer_sizes=(8,), max_epochs=3, random_state=0)
    s = OptunaSearchCV(
        vae, {"beta": FloatDistribution(0.1, 1.0)}, n_trials=2, cv=2, pruner=NEVER
    ).fit(X)
    assert all(sorted(t.intermediate_values) == [1, 2, 3] for t in s.study_.trials)
    assert np.isfinite(s.cv_results_["mean_test_score"]).all()  # the ELBO, from score


# --- a hand-written objective ----------------------------------------------------------


@pytest.fixture(scope="module")
def blobs():
    return make_classification(120, 5, n_informative=3, random_state=0)


def objective_with(callback_factory, X, y):
    def objective(trial):
        clf = DeepMLPClassifier(
            hidden_layer_sizes=(8,),
            learning_rate=trial.suggest_float("learning_rate", 1e-3, 1e-1, log=True),
            early_stopping=True,
            n_iter_no_change=100,
            max_epochs=4,
            random_state=0,
            callbacks=[callback_factory(trial)],
        )
        clf.fit(X, y)
        return clf.history_[-1]["valid_loss"]

    return objective


def test_pruning_callback_reports_to_the_trial_and_prunes(blobs):
    X, y = blobs
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", pruner=optuna.pruners.NopPruner())
    study.optimize(objective_with(PruningCallback, X, y), n_trials=2)
    assert all(sorted(t.intermediate_values) == [1, 2, 3, 4] for t in study.trials)
    # A loss is always above 0: this pruner prunes at the first report.
    study = optuna.create_study(
        direction="minimize", pruner=optuna.pruners.ThresholdPruner(upper=0.0)
    )
    study.optimize(objective_with(PruningCallback, X, y), n_trials=2)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.PRUNED] * 2
    assert all(sorted(t.intermediate_values) == [1] for t in study.trials)


def test_pruning_callback_copies_share_the_trial():
    trial = optuna.create_study().ask()
    callback = PruningCallback(trial, "valid_score")
    assert copy.deepcopy(callback).trial is trial
    assert copy.deepcopy([callback])[0].trial is trial
    model = DeepMLPClassifier(callbacks=[callback])
    cloned = clone(model).callbacks[0]
    assert cloned is not callback and cloned.trial is trial and cloned.monitor == "valid_score"


def test_pruning_callback_names_a_missing_monitor(blobs):
    X, y = blobs
    trial = optuna.create_study().ask()
    clf = DeepMLPClassifier(
        max_epochs=2, early_stopping=False, callbacks=[PruningCallback(trial, "valid_loss")]
    )
    with pytest.raises(ValueError, match=r"monitor='valid_loss' is not in.*early_stopping=True"):
        clf.fit(X, y)


class NaiveReport(Callback):
    """optuna-integration's SkorchPruningCallback pattern: holds the trial, reports."""

    def __init__(self, trial):
        self.trial = trial

    def on_epoch_end(self, net, **kwargs):
        self.trial.report(float(net.history[-1, "valid_loss"]), int(net.history[-1, "epoch"]))


def test_a_third_party_trial_callback_reports_to_the_study(blobs):
    # The base deep-copies callbacks at fit but shares the Optuna trials they hold.
    X, y = blobs
    study = optuna.create_study(direction="minimize")
    study.optimize(objective_with(NaiveReport, X, y), n_trials=1)
    assert study.trials[0].intermediate_values
