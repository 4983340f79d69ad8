"""Behaviour of DeepMLPClassifier / DeepMLPRegressor: learning, inputs, training controls."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback
from threadpoolctl import threadpool_limits

from skdeep import DeepMLPClassifier, DeepMLPRegressor

# Small, fast, and unregularised: these tests check mechanics on the data they train on,
# which the defaults' early stopping, alpha=1e-2 and dropout=0.1 would blur (the defaults
# themselves are checked in test_common.py and benchmarks/bench_defaults.py).
FAST = dict(
    hidden_layer_sizes=(32,),
    learning_rate=1e-2,
    batch_size=50,
    max_epochs=30,
    early_stopping=False,
    alpha=1e-4,
    dropout=0.0,
    random_state=0,
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


class RecordThreads(Callback):
    """Records torch's intra-op thread count into the history during training."""

    def on_epoch_end(self, net, **kwargs):
        net.history.record("torch_threads", torch.get_num_threads())


def test_training_respects_threadpoolctl_limits(clf_data):
    X, y = clf_data
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # the test run pins 1 (conftest): make the limit observable
    try:
        with threadpool_limits(limits=1):
            clf = DeepMLPClassifier(**dict(FAST, max_epochs=1, callbacks=[RecordThreads()]))
            clf.fit(X, y)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
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


@pytest.mark.parametrize(
    ("params", "match", "error"),
    [
        (
            {"activation": "foo"},
            "The 'activation' parameter of DeepMLPClassifier must be a str among",
            ValueError,
        ),
        (
            {"hidden_layer_sizes": (0,)},
            r"'hidden_layer_sizes' parameter .* must be a tuple of positive ints .* "
            r"Got \(0,\) instead",
            ValueError,
        ),
        (
            {"hidden_layer_sizes": "wide"},
            "'hidden_layer_sizes' parameter .* must be an array-like or an instance of 'int'",
            ValueError,
        ),
        ({"dropout": 1.5}, r"'dropout' parameter .* range \[0.0, 1.0\)", ValueError),
        ({"l1": float("nan")}, "'l1' parameter .* must be a finite float", ValueError),
        (
            {"batch_norm": "yes"},
            "'batch_norm' parameter .* must be an instance of 'bool'",
            ValueError,
        ),
        ({"class_weight": {0: 1.0, 9: 2.0}}, r"class_weight has label\(s\) \[9\]", ValueError),
        ({"class_weight": "even"}, "'class_weight' parameter .* Got 'even' instead", ValueError),
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


# --- what scikit-learn's MLP offers ---------------------------------------------------------


def test_multilabel_indicator_targets_as_mlpclassifier(clf_data):
    X, y = clf_data
    Y = np.stack([y == 0, y == 1, X[:, 0] > 0], axis=1).astype(int)
    clf = DeepMLPClassifier(**dict(FAST, max_epochs=60)).fit(X, Y)
    assert clf.out_activation_ == "logistic"
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and not np.allclose(proba.sum(axis=1), 1.0)
    predicted = clf.predict(X)
    assert predicted.shape == Y.shape and set(np.unique(predicted)) <= {0, 1}
    assert clf.score(X, Y) > 0.8  # subset accuracy, as MLPClassifier.score
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), atol=1e-6)
    with pytest.raises(ValueError, match="class_weight=.* multilabel"):
        DeepMLPClassifier(**dict(FAST, class_weight="balanced")).fit(X, Y)


def test_fitted_attributes_of_sklearns_mlp(clf_data):
    X, y = clf_data
    clf = DeepMLPClassifier(**dict(FAST, hidden_layer_sizes=(32, 16), max_epochs=5)).fit(X, y)
    assert clf.loss_curve_ == [row["train_loss"] for row in clf.history_]
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    assert [c.shape for c in clf.coefs_] == [(8, 32), (32, 16), (16, 3)]
    assert [b.shape for b in clf.intercepts_] == [(32,), (16,), (3,)]
    assert clf.n_layers_ == 4 and clf.out_activation_ == "softmax"
    # the weights are the model's: a numpy forward pass reproduces predict_proba
    h = X
    for W, b in zip(clf.coefs_[:-1], clf.intercepts_[:-1], strict=True):
        h = np.maximum(h @ W + b, 0)
    logits = h @ clf.coefs_[-1] + clf.intercepts_[-1]
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-5)
    early = DeepMLPClassifier(**dict(FAST, max_epochs=5, early_stopping=True)).fit(X, y)
    assert early.best_loss_ is None
    assert len(early.validation_scores_) == early.n_iter_
    assert early.best_validation_score_ == max(early.validation_scores_)
    assert DeepMLPRegressor(**dict(FAST, max_epochs=2)).fit(X, X[:, 0]).out_activation_ == (
        "identity"
    )
    with pytest.raises(AttributeError, match="coefs_ before fit"):
        DeepMLPClassifier().coefs_  # noqa: B018


def test_partial_fit_refuses_other_classes_on_a_later_call(clf_data):
    X, y = clf_data
    clf = DeepMLPClassifier(**FAST).partial_fit(X, y, classes=[0, 1, 2])
    clf.partial_fit(X, y, classes=[2, 1, 0])  # the same set, in another order: fine
    with pytest.raises(ValueError, match=r"classes=\[0, 1, 2, 3\] is not the same"):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3])


def test_messages_show_plain_values_not_numpy_reprs(clf_data):
    X, _ = clf_data
    with pytest.raises(ValueError, match=r"only one class \('a'\)"):
        DeepMLPClassifier(**FAST).fit(X, np.array(["a"] * len(X)))


def test_regressor_standardises_the_target_and_undoes_it(reg_data):
    X, Y = reg_data
    dollars = Y[:, 0] * 50_000 + 200_000  # a price-like target, far from unit scale
    reg = DeepMLPRegressor(**FAST).fit(X, dollars)
    assert reg.score(X, dollars) > 0.9
    np.testing.assert_allclose(reg._y_mean, [dollars.mean()])
    assert abs(reg.predict(X).mean() - dollars.mean()) < 0.05 * dollars.std()
    raw = DeepMLPRegressor(**dict(FAST, normalize_y=False)).fit(X, dollars)
    assert raw.score(X, dollars) < reg.score(X, dollars)
    constant = DeepMLPRegressor(**dict(FAST, max_epochs=20)).fit(X, np.full(len(X), 7.0))
    assert abs(constant.predict(X).mean() - 7.0) < 0.2


def test_glorot_initialisation_as_scikit_learn_and_torchs_on_request():
    X, y = np.random.RandomState(0).normal(size=(30, 8)), np.arange(30) % 3
    bounds = {
        "glorot": [np.sqrt(6 / (8 + 32)), np.sqrt(6 / (32 + 3))],  # sklearn's _init_coef
        "torch": [1 / np.sqrt(8), 1 / np.sqrt(32)],  # nn.Linear's default
    }
    for init, expected in bounds.items():
        clf = DeepMLPClassifier(hidden_layer_sizes=(32,), init=init, max_epochs=1)
        clf.set_params(learning_rate=1e-12, random_state=0).fit(X, y)  # weights barely move
        for layer, bound in zip(clf._linear_layers(), expected, strict=True):
            assert 0.9 * bound < layer.weight.abs().max() <= bound + 1e-6
    with pytest.raises(ValueError, match="'init' parameter of DeepMLPClassifier"):
        DeepMLPClassifier(init="he").fit(X, y)


# --- mixed DataFrames: categorical columns encoded inside ------------------------------


@pytest.fixture(scope="module")
def mixed_frame():
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "city": pd.Series(rng.choice(["oslo", "rome", "lima", None], n), dtype=object),
            "member": rng.random(n) < 0.3,
            "size": pd.Categorical(rng.choice(["S", "M", "L"], n), categories=["S", "M", "L"]),
        }
    )
    # The label needs the categories: a model that ignored them could not fit it.
    y = ((frame.city == "rome") | ((frame["size"] == "L") & (frame.age > 40))).astype(int)
    return frame, y.to_numpy()


def test_mixed_dataframe_goes_straight_in(mixed_frame):
    frame, y = mixed_frame
    clf = DeepMLPClassifier(**dict(FAST, max_epochs=60)).fit(frame, y)
    assert clf.score(frame, y) > 0.95
    assert list(clf.feature_names_in_) == ["age", "city", "member", "size"]
    # city: 3 categories + missing, member: 2, size: 3; one row of coefs_[0] per one-hot
    # column, as a linear layer on OneHotEncoder's output would have.
    assert clf.encoder_.categorical_columns_ == ["city", "member", "size"]
    assert clf.coefs_[0].shape == (1 + 4 + 2 + 3, 32)
    # An unseen category adds nothing (an all-zero one-hot row); it does not fail.
    unseen = frame.iloc[:5].assign(city="paris")
    assert np.isfinite(clf.predict_proba(unseen)).all()
    # As in scikit-learn, the columns must come in their fitted order; an array is refused
    # with the reason.
    with pytest.raises(ValueError, match="same order as they were in fit"):
        clf.predict(frame[frame.columns[::-1]])
    with pytest.raises(ValueError, match="fitted on a DataFrame with categorical columns"):
        clf.predict(frame.to_numpy())
    with pytest.raises(ValueError, match="has dtype object now|numeric during fit"):
        clf.predict(frame.assign(age=frame.age.astype(str)))


def test_mixed_dataframe_matches_one_hot_features_exactly(mixed_frame):
    """The embedded first layer is a linear layer on the one-hot encoding: the same
    network on OneHotEncoder + StandardScaler output, given the same weights, predicts
    the same probabilities."""
    frame, y = mixed_frame
    clf = DeepMLPClassifier(**dict(FAST, max_epochs=5)).fit(frame, y)
    x_num, x_cat = clf.encoder_.transform(frame)
    one_hot = [
        np.eye(n)[codes] for n, codes in zip(clf.encoder_.cardinalities_, x_cat.T, strict=True)
    ]
    dense = np.hstack([x_num, *one_hot])
    W, b = clf.coefs_[0], clf.intercepts_[0]
    hidden = np.maximum(dense @ W + b, 0)
    logits = hidden @ clf.coefs_[1] + clf.intercepts_[1]
    proba = np.exp(logits - logits.max(1, keepdims=True))
    proba /= proba.sum(1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(frame), proba, atol=1e-5)


def test_mixed_dataframe_regressor_and_refit_on_numbers(mixed_frame, reg_data):
    frame, _ = mixed_frame
    target = frame.age * 2.0 + (frame.city == "lima") * 40.0
    reg = DeepMLPRegressor(**dict(FAST, max_epochs=80)).fit(frame, target)
    assert reg.score(frame, target) > 0.95
    X, y = reg_data
    reg.fit(X, y)  # a later fit on numbers forgets the table encoder
    assert not hasattr(reg, "encoder_") and reg.predict(X).shape == y.shape


def test_mixed_dataframe_errors_name_the_column(mixed_frame):
    frame, y = mixed_frame
    with pytest.raises(ValueError, match="'age'"):
        DeepMLPClassifier(**FAST).fit(frame.assign(age=np.where(frame.age > 70, np.nan, 1)), y)
    with pytest.raises(ValueError, match="X has 300 rows, y has 299 values"):
        DeepMLPClassifier(**FAST).fit(frame, y[:-1])
    with pytest.raises(ValueError, match="0 sample"):
        DeepMLPClassifier(**FAST).fit(frame.iloc[:0], y[:0])


def test_early_stopping_auto_needs_enough_rows_for_a_validation_split(clf_data):
    X, y = clf_data
    auto = dict(FAST, early_stopping="auto", max_epochs=5)
    assert DeepMLPClassifier(**auto).fit(X, y).do_early_stopping_  # 40 validation rows
    small = DeepMLPClassifier(**auto).fit(X[:60], y[:60])  # 6 would be held out: none is
    assert not small.do_early_stopping_ and small.validation_scores_ is None
    assert not DeepMLPClassifier(**FAST).partial_fit(X, y, classes=[0, 1, 2]).do_early_stopping_
