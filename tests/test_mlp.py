"""Behaviour of DeepMLPClassifier / DeepMLPRegressor: learning, inputs, training controls."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback
from threadpoolctl import threadpool_limits

from skdeep import DeepMLPClassifier, DeepMLPRegressor, TrainingDivergedError

FAST = dict(
    hidden_layer_sizes=(32,), learning_rate=1e-2, batch_size=50, max_epochs=30, random_state=0
)


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(
        n_samples=400, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def reg_data():
    X, y = make_regression(n_samples=300, n_features=6, n_targets=2, noise=1.0, random_state=0)
    return StandardScaler().fit_transform(X), y / y.std(axis=0)


# --- learning -------------------------------------------------------------------------


def test_classifier_learns_multiclass(clf_data):
    X, y = clf_data
    clf = DeepMLPClassifier(**FAST).fit(X, y)
    assert clf.score(X, y) > 0.9
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float64 and proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), atol=1e-6)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_regressor_learns_multioutput_and_1d(reg_data):
    X, Y = reg_data
    reg = DeepMLPRegressor(**FAST).fit(X, Y)
    assert reg.predict(X).shape == Y.shape and reg.n_outputs_ == 2
    assert reg.score(X, Y) > 0.9
    reg1 = DeepMLPRegressor(**FAST).fit(X, Y[:, 0])
    assert reg1.predict(X).shape == (len(X),)
    assert reg1.score(X, Y[:, 0]) > 0.9


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["spam", "ham", "eggs"]),
        np.array([3, -1, 7]),
        pd.Categorical(["b", "a", "c"]),
    ],
    ids=["str", "int", "categorical"],
)
def test_classes_keep_the_original_labels(clf_data, labels):
    X, y = clf_data
    y_labels = pd.Series(np.asarray(labels)[y]).astype(
        "category" if isinstance(labels, pd.Categorical) else np.asarray(labels).dtype
    )
    clf = DeepMLPClassifier(**FAST).fit(X, y_labels)
    np.testing.assert_array_equal(clf.classes_, np.unique(np.asarray(labels)))
    assert set(clf.predict(X)) <= set(np.asarray(labels))
    assert clf.score(X, y_labels) > 0.9


def test_bool_labels(clf_data):
    X, y = clf_data
    clf = DeepMLPClassifier(**FAST).fit(X, y == 1)
    np.testing.assert_array_equal(clf.classes_, [False, True])
    assert clf.predict(X).dtype == bool


def test_dataframe_input_keeps_and_checks_feature_names(clf_data):
    X, y = clf_data
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = DeepMLPClassifier(**FAST).fit(df, y)
    np.testing.assert_array_equal(clf.feature_names_in_, df.columns)
    np.testing.assert_array_equal(clf.predict(df), clf.predict(X))
    with pytest.raises(ValueError, match="Feature names unseen at fit time"):
        clf.predict(df.rename(columns={"f0": "oops"}))
    with pytest.raises(ValueError, match="same order"):
        clf.predict(df[df.columns[::-1]])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.uint8])
def test_any_real_dtype(dtype):
    rng = np.random.RandomState(0)
    X = rng.randint(0, 5, size=(60, 3)).astype(dtype)
    y = (X[:, 0] > 2).astype(int)
    clf = DeepMLPClassifier(**FAST).fit(X, y)
    assert clf.predict(X).shape == (60,)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_sparse_input_matches_dense_exactly(clf_data, fmt):
    X, y = clf_data
    X = np.where(np.abs(X) < 0.5, 0.0, X)
    dense = DeepMLPClassifier(**FAST).fit(X, y)
    sparse = DeepMLPClassifier(**FAST).fit(sp.csr_matrix(X).asformat(fmt), y)
    np.testing.assert_array_equal(sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X))


# --- sample and class weights ---------------------------------------------------------


def test_sample_weight_equals_repetition(clf_data):
    # Full-batch training: integer weights and repeated rows are the same objective.
    X, y = clf_data[0][:40], clf_data[1][:40]
    weights = np.random.RandomState(0).randint(0, 4, size=40)
    kw = dict(FAST, batch_size=1000)
    weighted = DeepMLPClassifier(**kw).fit(X, y, sample_weight=weights)
    repeated = DeepMLPClassifier(**kw).fit(np.repeat(X, weights, axis=0), np.repeat(y, weights))
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-4, atol=1e-5
    )


def test_class_weight_shifts_predictions_to_the_weighted_class():
    X, y = make_classification(
        n_samples=600, n_features=4, weights=[0.9, 0.1], flip_y=0.1, class_sep=0.5, random_state=0
    )
    plain = DeepMLPClassifier(**FAST).fit(X, y)
    balanced = DeepMLPClassifier(**FAST, class_weight="balanced").fit(X, y)
    favour = DeepMLPClassifier(**FAST, class_weight={0: 1.0, 1: 20.0}).fit(X, y)
    assert (balanced.predict(X) == 1).sum() > (plain.predict(X) == 1).sum()
    assert (favour.predict(X) == 1).sum() > (balanced.predict(X) == 1).sum()


def test_sample_weight_is_not_modified(clf_data):
    X, y = clf_data
    weights = np.linspace(0.5, 2.0, len(y))
    copy = weights.copy()
    DeepMLPClassifier(**FAST).fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(weights, copy)


# --- training controls ----------------------------------------------------------------


def test_same_random_state_gives_bit_identical_models(clf_data):
    X, y = clf_data
    kw = dict(FAST, dropout=0.2, early_stopping=True)
    a = DeepMLPClassifier(**kw).fit(X, y)
    b = DeepMLPClassifier(**kw).fit(X, y)
    for (name, pa), (_, pb) in zip(
        a.module_.state_dict().items(), b.module_.state_dict().items(), strict=True
    ):
        assert torch.equal(pa, pb), name
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = DeepMLPClassifier(**dict(kw, random_state=1)).fit(X, y)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


@pytest.mark.parametrize("random_state", [None, 0, np.random.RandomState(0)])
def test_fit_leaves_global_rng_state_alone(clf_data, random_state):
    X, y = clf_data
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()
    DeepMLPClassifier(**dict(FAST, max_epochs=2, dropout=0.3, random_state=random_state)).fit(X, y)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1])
    assert after[2:] == np_state[2:]


def test_random_state_none_differs_between_fits(clf_data):
    X, y = clf_data
    kw = dict(FAST, max_epochs=2, random_state=None)
    a = DeepMLPClassifier(**kw).fit(X, y).predict_proba(X)
    b = DeepMLPClassifier(**kw).fit(X, y).predict_proba(X)
    assert not np.array_equal(a, b)


def test_early_stopping_restores_best_epoch(clf_data):
    X, y = clf_data
    # A big network on few rows overfits: validation loss turns up, training stops.
    clf = DeepMLPClassifier(
        hidden_layer_sizes=(256, 256),
        learning_rate=1e-2,
        max_epochs=200,
        early_stopping=True,
        n_iter_no_change=5,
        random_state=0,
    ).fit(X[:150], y[:150])
    history = pd.DataFrame(clf.history_)
    assert clf.n_iter_ < 200
    assert {"train_loss", "valid_loss", "valid_score", "dur"} <= set(history.columns)
    best = history["best_epoch"].iloc[-1]
    assert best == history.loc[history["valid_loss"].idxmin(), "epoch"]
    assert best < clf.n_iter_


def test_stops_when_training_loss_stalls_and_warns_otherwise(clf_data):
    X, y = clf_data
    clf = DeepMLPClassifier(**dict(FAST, max_epochs=500, tol=0.01, n_iter_no_change=3))
    clf.fit(X, y)
    assert clf.n_iter_ < 500
    with pytest.warns(ConvergenceWarning, match="max_epochs=2"):
        DeepMLPClassifier(**dict(FAST, max_epochs=2)).fit(X, y)


def test_partial_fit_runs_one_epoch_per_call(clf_data):
    X, y = clf_data
    clf = DeepMLPClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:200], y[:200], classes=np.unique(y))
    clf.partial_fit(X[200:], y[200:])
    assert clf.n_iter_ == 2 and len(clf.history_) == 2
    for _ in range(20):
        clf.partial_fit(X, y)
    assert clf.score(X, y) > 0.85
    with pytest.raises(ValueError, match=r"label\(s\) \[7\] not in classes_"):
        clf.partial_fit(X[:3], [0, 7, 1])


def test_partial_fit_is_reproducible(reg_data):
    X, Y = reg_data

    def run():
        reg = DeepMLPRegressor(**dict(FAST, dropout=0.1))
        for _ in range(3):
            reg.partial_fit(X, Y)
        return reg.predict(X)

    np.testing.assert_array_equal(run(), run())


def test_warm_start_continues_training(clf_data):
    X, y = clf_data
    clf = DeepMLPClassifier(**dict(FAST, max_epochs=3, warm_start=True)).fit(X, y)
    first = clf.module_
    clf.fit(X, y)
    assert clf.n_iter_ == 6 and clf.module_ is first
    cold = DeepMLPClassifier(**dict(FAST, max_epochs=3)).fit(X, y)
    module = cold.module_
    cold.fit(X, y)
    assert cold.n_iter_ == 3 and cold.module_ is not module


def test_divergence_names_the_epoch_and_learning_rate():
    X, y = make_regression(n_samples=100, n_features=3, random_state=0)
    reg = DeepMLPRegressor(
        hidden_layer_sizes=(16,), optimizer="sgd", learning_rate=1e3, max_epochs=20, random_state=0
    )
    with pytest.raises(TrainingDivergedError, match=r"epoch \d+.*lower learning_rate"):
        reg.fit(X * 1e3, y * 1e3)


def test_l1_and_alpha_shrink_the_weights(clf_data):
    X, y = clf_data

    def weight_norm(**kw):
        clf = DeepMLPClassifier(**{**FAST, "alpha": 0.0, **kw}).fit(X, y)
        return sum(p.abs().sum().item() for p in clf.module_.parameters() if p.ndim == 2)

    plain = weight_norm()
    assert weight_norm(l1=1e-2) < 0.7 * plain
    assert weight_norm(alpha=0.1) < 0.9 * plain


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
@pytest.mark.parametrize("activation", ["relu", "gelu", "tanh", "silu"])
def test_optimizers_and_activations_learn(clf_data, optimizer, activation):
    X, y = clf_data
    clf = DeepMLPClassifier(
        **dict(FAST, optimizer=optimizer, activation=activation, max_epochs=60)
    )
    assert clf.fit(X, y).score(X, y) > 0.8


def test_dropout_and_batch_norm(clf_data):
    X, y = clf_data
    clf = DeepMLPClassifier(**dict(FAST, dropout=0.3, batch_norm=True)).fit(X, y)
    modules = [type(m).__name__ for m in clf.module_.modules()]
    assert "Dropout" in modules and "BatchNorm1d" in modules
    assert clf.score(X, y) > 0.85
    # prediction runs in eval mode: no dropout noise
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    # 201 rows with batch_size 200 would leave a 1-row batch, which batch norm rejects
    DeepMLPClassifier(**dict(FAST, batch_norm=True, batch_size=200)).fit(X[:201], y[:201])


# --- progress, callbacks, threads -------------------------------------------------------


def test_verbose_levels_write_to_stderr_only(clf_data, capsys):
    X, y = clf_data
    DeepMLPClassifier(**dict(FAST, max_epochs=3, verbose=0)).fit(X, y)
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    DeepMLPClassifier(**dict(FAST, max_epochs=3, verbose=1, early_stopping=True)).fit(X, y)
    out, err = capsys.readouterr()
    assert out == "" and "3/3" in err and "valid_score" in err
    DeepMLPClassifier(**dict(FAST, max_epochs=3, verbose=2)).fit(X, y)
    out, err = capsys.readouterr()
    assert out == "" and err.count("train_loss=") == 3


class RecordThreads(Callback):
    """Records torch's intra-op thread count into the history during training."""

    def on_epoch_end(self, net, **kwargs):
        net.history.record("torch_threads", torch.get_num_threads())


def test_user_callbacks_run_and_are_not_mutated(clf_data):
    X, y = clf_data
    callback = RecordThreads()
    clf = DeepMLPClassifier(**dict(FAST, max_epochs=2, callbacks=[callback])).fit(X, y)
    assert all("torch_threads" in row for row in clf.history_)
    assert clf.callbacks[0] is callback and not hasattr(callback, "initialized_")


def test_training_respects_threadpoolctl_limits(clf_data):
    X, y = clf_data
    with threadpool_limits(limits=1):
        clf = DeepMLPClassifier(**dict(FAST, max_epochs=1, callbacks=[RecordThreads()])).fit(X, y)
    assert clf.history_[0]["torch_threads"] == 1


def test_cross_validation_workers_do_not_oversubscribe(clf_data):
    from joblib import cpu_count
    from sklearn.model_selection import cross_validate

    X, y = clf_data
    clf = DeepMLPClassifier(**dict(FAST, max_epochs=1, callbacks=[RecordThreads()]))
    result = cross_validate(clf, X, y, cv=2, n_jobs=2, return_estimator=True)
    threads = [est.history_[0]["torch_threads"] for est in result["estimator"]]
    assert all(t <= max(1, cpu_count() // 2) for t in threads), threads


# --- device ---------------------------------------------------------------------------


def test_device_auto_resolves_and_bad_devices_are_named(clf_data):
    X, y = clf_data
    clf = DeepMLPClassifier(**dict(FAST, max_epochs=1, device="auto")).fit(X, y)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert next(clf.module_.parameters()).device.type == expected
    with pytest.raises(ValueError, match="device='tpu'"):
        DeepMLPClassifier(device="tpu").fit(X, y)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device='cuda'.*not available"):
            DeepMLPClassifier(device="cuda").fit(X, y)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_trains_on_cuda(clf_data):
    X, y = clf_data
    clf = DeepMLPClassifier(**dict(FAST, device="cuda")).fit(X, y)
    assert next(clf.module_.parameters()).is_cuda
    assert clf.score(X, y) > 0.9


# --- bad input ------------------------------------------------------------------------


def test_nan_and_inf_name_the_row_and_column(clf_data):
    X, y = clf_data
    df = pd.DataFrame(X.copy(), columns=[f"f{i}" for i in range(X.shape[1])])
    df.iloc[5, 2] = np.nan  # (a copy: pandas 2 would write through into the fixture)
    with pytest.raises(ValueError, match=r"NaN at row 5, column 'f2'"):
        DeepMLPClassifier(**FAST).fit(df, y)
    bad = X.copy()
    bad[7, 1] = np.inf
    with pytest.raises(ValueError, match=r"infinity at row 7, column 1"):
        DeepMLPClassifier(**FAST).fit(bad, y)
    clf = DeepMLPClassifier(**dict(FAST, max_epochs=1)).fit(X, y)
    with pytest.raises(ValueError, match=r"infinity at row 7"):
        clf.predict(bad)
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(sp.csr_matrix(np.where(bad == np.inf, np.nan, bad)))


def test_shape_and_emptiness_errors(clf_data):
    X, y = clf_data
    clf = DeepMLPClassifier(**dict(FAST, max_epochs=1)).fit(X, y)
    with pytest.raises(
        ValueError, match="X has 5 features, but DeepMLPClassifier is expecting 8 features"
    ):
        clf.predict(X[:, :5])
    with pytest.raises(ValueError, match="0 sample"):
        DeepMLPClassifier().fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="X has 400 rows, y has 399 values"):
        DeepMLPClassifier().fit(X, y[:-1])
    with pytest.raises(ValueError, match="only one class"):
        DeepMLPClassifier().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="Unknown label type"):
        DeepMLPClassifier().fit(X, np.linspace(0, 1, len(X)))
    with pytest.raises(ValueError, match="column\\(s\\) 'city' are not numeric"):
        DeepMLPClassifier().fit(pd.DataFrame({"a": [1.0, 2.0], "city": ["x", "y"]}), [0, 1])


@pytest.mark.parametrize(
    ("params", "match", "error"),
    [
        (
            {"activation": "foo"},
            "activation='foo' is not supported; expected one of 'relu'",
            ValueError,
        ),
        (
            {"hidden_layer_sizes": (0,)},
            r"hidden_layer_sizes=\(0,\) must contain only "
            "positive ints",
            ValueError,
        ),
        (
            {"hidden_layer_sizes": "wide"},
            "hidden_layer_sizes='wide' must contain only",
            ValueError,
        ),
        ({"dropout": 1.5}, r"dropout == 1.5, must be < 1.0", ValueError),
        ({"validation_fraction": 0}, r"validation_fraction == 0, must be > 0.0", ValueError),
        ({"learning_rate": -1}, "learning_rate == -1, must be > 0.0", ValueError),
        ({"batch_size": 0}, "batch_size == 0, must be >= 1", ValueError),
        ({"max_epochs": 2.5}, "max_epochs must be an instance of int", TypeError),
        ({"optimizer": "lbfgs"}, "optimizer='lbfgs' is not supported", ValueError),
        ({"alpha": -0.1}, "alpha == -0.1, must be >= 0.0", ValueError),
        ({"l1": float("nan")}, "l1=nan must be a finite number", ValueError),
        ({"early_stopping": "yes"}, "early_stopping='yes' must be a bool", TypeError),
        ({"class_weight": {0: 1.0, 9: 2.0}}, r"class_weight has label\(s\) \[9\]", ValueError),
        ({"class_weight": "even"}, "class_weight='even' is not supported", ValueError),
        ({"random_state": "seed"}, "random_state='seed' must be None, an int", ValueError),
    ],
)
def test_bad_parameters_name_the_parameter(clf_data, params, match, error):
    X, y = clf_data
    with pytest.raises(error, match=match):
        DeepMLPClassifier(**params).fit(X, y)


def test_validation_fraction_too_small_for_the_data():
    X = np.arange(6, dtype=float).reshape(3, 2)
    with pytest.raises(ValueError, match="validation_fraction=0.99 leaves 0 training"):
        DeepMLPClassifier(early_stopping=True, validation_fraction=0.99).fit(X, [0, 1, 0])


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
def test_predict_before_fit_raises_not_fitted(method):
    with pytest.raises(NotFittedError):
        getattr(DeepMLPClassifier(), method)(np.zeros((2, 3)))
    with pytest.raises(NotFittedError):
        DeepMLPRegressor().predict(np.zeros((2, 3)))


def test_prediction_in_row_chunks_matches_one_pass(clf_data, reg_data, monkeypatch):
    X, y = clf_data
    clf = DeepMLPClassifier(**dict(FAST, max_epochs=2)).fit(X, y)
    Xr, yr = reg_data
    reg = DeepMLPRegressor(**dict(FAST, max_epochs=2)).fit(Xr, yr)
    expected = [clf.predict_proba(X), clf.predict_proba(sp.csr_matrix(X)), reg.predict(Xr)]
    monkeypatch.setattr("skdeep._base.PREDICT_ROWS", 7)  # 400 rows: 58 passes
    chunked = [clf.predict_proba(X), clf.predict_proba(sp.csr_matrix(X)), reg.predict(Xr)]
    for a, b in zip(expected, chunked, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert chunked[0].dtype == np.float64 and chunked[2].shape == yr.shape
