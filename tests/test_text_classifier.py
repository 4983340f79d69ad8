"""LSTMTextClassifier: sklearn contract, learning, inputs, bad input, persistence, composition."""

import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from threadpoolctl import threadpool_limits

import skdeep
from skdeep._data import TextData
from skdeep.preprocessing.text import PAD_ID, UNK_ID
from skdeep.text import LSTMTextClassifier

# A tiny model, and the training settings these tests were written for (the defaults
# before issue 13, set explicitly): no dropout, every row trains, fixed epochs.
FAST = dict(
    embedding_dim=16,
    hidden_size=16,
    learning_rate=1e-2,
    batch_size=32,
    max_epochs=10,
    dropout=0.0,
    word_dropout=0.0,
    normalize_digits=False,
    early_stopping=False,
    n_iter_no_change=3,
    random_state=0,
    device="cpu",
)

FILLER = ["the", "a", "movie", "film", "plot", "actor", "scene", "story", "music", "and", "is"]
KEYWORDS = {
    "pos": ["great", "superb", "loved"],
    "neg": ["awful", "boring", "hated"],
    "meh": ["okay", "fine", "average"],
}


@pytest.fixture(autouse=True)
def _one_thread():
    # The test machine's 2 cores are shared: two OpenMP threads then wait on each other
    # far longer than the tiny models compute. Training results do not depend on it.
    with threadpool_limits(limits=1):
        yield


def make_texts(n, seed):
    """Filler words plus one keyword that decides the class (3 classes)."""
    rng = np.random.RandomState(seed)
    labels = rng.choice(sorted(KEYWORDS), n)
    texts = []
    for label in labels:
        words = list(rng.choice(FILLER, rng.randint(2, 15)))
        words.insert(rng.randint(len(words) + 1), rng.choice(KEYWORDS[label]))
        texts.append(" ".join(words))
    return texts, labels


@pytest.fixture(scope="module")
def data():
    return make_texts(300, 0), make_texts(200, 1)


@pytest.fixture(scope="module")
def fitted(data):
    (X, y), _ = data
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LSTMTextClassifier(**FAST).fit(X, y)


# --- learning and outputs --------------------------------------------------------------


def test_learns_multiclass_keywords_and_returns_labels_as_given(data, fitted):
    _, (X_test, y_test) = data
    assert fitted.score(X_test, y_test) > 0.95  # chance is 1/3
    np.testing.assert_array_equal(fitted.classes_, ["meh", "neg", "pos"])
    proba = fitted.predict_proba(X_test)
    assert proba.dtype == np.float64 and proba.shape == (len(X_test), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(fitted.predict_log_proba(X_test), np.log(proba), atol=1e-6)
    np.testing.assert_array_equal(fitted.predict(X_test), fitted.classes_[proba.argmax(1)])


@pytest.mark.parametrize(
    "params",
    [
        dict(pooling="last", bidirectional=False),
        dict(pooling="mean", n_layers=2, dropout=0.1),
        dict(pooling="last+max", optimizer="adamw"),
    ],
    ids=["last-unidirectional", "mean-2-layers-dropout", "last+max-adamw"],
)
def test_architectures_learn_a_binary_problem(data, params):
    (X, y), (X_test, y_test) = data
    binary = np.where(y == "pos", 1, 0)
    clf = LSTMTextClassifier(**{**FAST, **params}).fit(X, binary)
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    assert clf.score(X_test, np.where(y_test == "pos", 1, 0)) > 0.95


def test_containers_give_identical_predictions(data, fitted):
    _, (X_test, _) = data
    expected = fitted.predict_proba(X_test)
    for container in (
        tuple(X_test),
        np.array(X_test, dtype=object),
        np.array(X_test),  # fixed-width unicode dtype
        pd.Series(X_test, index=np.arange(len(X_test)) + 100),
        pd.DataFrame({"review": X_test}),
    ):
        np.testing.assert_array_equal(fitted.predict_proba(container), expected)


@pytest.mark.parametrize("scoring", ["accuracy", "loss"])
def test_early_stopping_records_validation_and_restores_best(data, scoring):
    (X, y), _ = data
    clf = LSTMTextClassifier(
        **dict(FAST, max_epochs=30, early_stopping=True, n_iter_no_change=2, scoring=scoring)
    ).fit(X, y)
    history = pd.DataFrame(clf.history_)
    assert {"train_loss", "valid_loss", "valid_score"} <= set(history.columns)
    assert clf.n_iter_ < 30 and history["valid_score"].max() > 0.9
    # The restored epoch is the first best one of what early stopping watched.
    watched = (1 - history["valid_score"]) if scoring == "accuracy" else history["valid_loss"]
    assert history["best_epoch"].iloc[-1] == history.loc[watched.idxmin(), "epoch"]
    assert ("valid_error" in history) == (scoring == "accuracy")


# The defaults chosen by cross-validation in issue 13 (benchmarks/RESULTS.md, "Defaults").
CHOSEN = dict(
    embedding_dim=64,
    hidden_size=64,
    learning_rate=5e-3,
    dropout=0.2,
    word_dropout=0.25,
    normalize_digits=True,
    early_stopping="auto",
    scoring="accuracy",
    n_iter_no_change=8,
    max_epochs=50,
)


def test_defaults_stop_early_on_enough_texts_and_keep_every_text_when_tiny(data):
    params = LSTMTextClassifier().get_params()
    assert {name: params[name] for name in CHOSEN} == CHOSEN
    (X, y), _ = data
    small = dict(embedding_dim=8, hidden_size=8, max_epochs=2, random_state=0, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        enough = LSTMTextClassifier(**small).fit(X, y)  # 300 texts: 30 held out
        tiny = LSTMTextClassifier(**small).fit(X[:60], y[:60])  # 6 would be too few
        before = LSTMTextClassifier(**small, early_stopping=False).fit(X, y)
    assert enough.do_early_stopping_ and "valid_loss" in enough.history_[0]
    assert not tiny.do_early_stopping_ and "valid_loss" not in tiny.history_[0]
    assert not before.do_early_stopping_ and "valid_loss" not in before.history_[0]


# --- weights ---------------------------------------------------------------------------


def permutation_texts(n, seed):
    """Every text is an ordering of the same 5 words; the label is "a before b".

    Every word then occurs once per text, so repeating or dropping texts leaves the
    vocabulary (ids ordered by count, ties alphabetically) unchanged.
    """
    rng = np.random.RandomState(seed)
    texts = [" ".join(rng.permutation(list("abcde"))) for _ in range(n)]
    labels = [int(t.index("a") < t.index("b")) for t in texts]
    return texts, np.array(labels)


def test_sample_weight_equals_repetition():
    X, y = permutation_texts(40, 0)
    weights = np.random.RandomState(0).randint(0, 4, size=40)
    kw = dict(FAST, batch_size=1000, max_epochs=5)  # one batch: the same objective
    weighted = LSTMTextClassifier(**kw).fit(X, y, sample_weight=weights)
    repeated = LSTMTextClassifier(**kw).fit(np.repeat(X, weights), np.repeat(y, weights))
    assert weighted.vocabulary_.tokens_ == repeated.vocabulary_.tokens_
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-4, atol=1e-5
    )


def test_class_weight_shifts_predictions_to_the_weighted_class(data):
    (X, y), _ = data
    rare = np.where(y == "pos", "pos", "other")
    # Flip some labels so that the classes overlap and the weights have something to move.
    rare[::7] = "other"
    kw = dict(FAST, max_epochs=4)
    plain = LSTMTextClassifier(**kw).fit(X, rare)
    favour = LSTMTextClassifier(**kw, class_weight={"pos": 10.0}).fit(X, rare)
    pos = list(plain.classes_).index("pos")
    assert (favour.predict(X) == "pos").sum() >= (plain.predict(X) == "pos").sum()
    assert favour.predict_proba(X)[:, pos].mean() > plain.predict_proba(X)[:, pos].mean() + 0.05


# --- odd and bad input ----------------------------------------------------------------


def test_empty_unknown_whitespace_and_unicode_texts_get_predictions(fitted):
    odd = ["", "   \n\t", "zzzz qqqq xyzzy", "🙂🙂", "日本語のテキスト", "café naïve"]
    proba = fitted.predict_proba(odd)
    assert np.all(np.isfinite(proba))
    assert set(fitted.predict(odd)) <= set(fitted.classes_)
    # Empty and all-unknown texts are both the single out-of-vocabulary step.
    np.testing.assert_array_equal(proba[0], proba[1])
    # (alone, in a batch of 1, it may differ by float32 rounding)
    np.testing.assert_allclose(proba[0], fitted.predict_proba(["qqqq"])[0], rtol=1e-6)


def test_long_texts_are_truncated_to_max_length():
    X, y = make_texts(60, 2)
    clf = LSTMTextClassifier(**dict(FAST, max_epochs=1, max_length=8)).fit(X, y)
    head = "great movie and the plot was fine ok "
    long_text = head + "story " * 200_000  # 1.2 MB, 200k tokens after the first 8
    np.testing.assert_array_equal(
        clf.predict_proba([long_text]), clf.predict_proba([" ".join(head.split()[:8])])
    )
    data = TextData.from_sequences(clf.vocabulary_.transform([long_text] * 3))
    assert data.lengths.tolist() == [8, 8, 8]


@pytest.mark.parametrize(
    ("X", "error", "message"),
    [
        (["good", None, "bad"], ValueError, r"X\[1\] is missing"),
        (["good", "bad", np.nan], ValueError, r"X\[2\] is missing"),
        (["good", 3, "bad"], TypeError, r"X\[1\] must be a str, got int"),
        (["good", b"bytes", "bad"], TypeError, r"X\[1\] must be a str, got bytes"),
        ([], ValueError, "expected at least one text"),
        ("just one string", TypeError, "single string; wrap it in a list"),
        (pd.DataFrame({"a": ["x"] * 3, "b": ["y"] * 3}), ValueError, "2 columns"),
    ],
    ids=["None", "NaN", "int", "bytes", "empty", "str", "two-columns"],
)
def test_bad_texts_name_the_position(fitted, X, error, message):
    y = ["pos", "neg", "pos"][: len(X)] if not isinstance(X, str) else ["pos"]
    with pytest.raises(error, match=message):
        LSTMTextClassifier(**FAST).fit(X, y)
    with pytest.raises(error, match=message):
        fitted.predict(X)


def test_series_errors_name_the_index_label(fitted):
    with pytest.raises(ValueError, match=r"X\[1\] \(index label 'b'\) is missing"):
        fitted.predict(pd.Series(["ok", None], index=["a", "b"]))


def test_bad_targets(data):
    (X, y), _ = data
    with pytest.raises(ValueError, match="X has 300 texts, y has 299 values"):
        LSTMTextClassifier(**FAST).fit(X, y[:-1])
    with pytest.raises(ValueError, match="requires y to be passed"):
        LSTMTextClassifier(**FAST).fit(X, None)
    with pytest.raises(ValueError, match="only one class"):
        LSTMTextClassifier(**FAST).fit(X, ["pos"] * len(X))
    with pytest.raises(ValueError, match="Unknown label type"):
        LSTMTextClassifier(**FAST).fit(X, np.linspace(0, 1, len(X)))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (dict(pooling="min"), "The 'pooling' parameter of LSTMTextClassifier must be 'last'"),
        (dict(embedding_dim=0), "'embedding_dim' parameter of LSTMTextClassifier must be an int"),
        (dict(n_layers=1.5), "'n_layers' parameter of LSTMTextClassifier must be an int"),
        (dict(bidirectional="yes"), "'bidirectional' parameter of LSTMTextClassifier must be"),
        (dict(dropout=1.0), "'dropout' parameter of LSTMTextClassifier must be a finite float"),
        (dict(word_dropout=-0.1), "'word_dropout' parameter of LSTMTextClassifier must be"),
        (dict(tokenizer="char"), "'tokenizer' parameter of LSTMTextClassifier must be a str"),
        (dict(max_vocab_size=0), "'max_vocab_size' parameter of LSTMTextClassifier must be"),
        (dict(min_freq=0), "'min_freq' parameter of LSTMTextClassifier must be an int"),
        (dict(max_length=-1), "'max_length' parameter of LSTMTextClassifier must be an int"),
        (dict(lowercase=1), "'lowercase' parameter of LSTMTextClassifier must be an instance"),
        (dict(normalize_digits="no"), "'normalize_digits' parameter of LSTMTextClassifier"),
        (dict(scoring="f1"), "'scoring' parameter of LSTMTextClassifier must be a str among"),
        (dict(pretrained_embeddings=[1, 2]), "'pretrained_embeddings' parameter of"),
        (dict(pretrained_embeddings={"great": [1.0]}), "pretrained_embeddings['great'] must"),
    ],
)
def test_bad_parameters_are_named(data, params, message):
    (X, y), _ = data
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        LSTMTextClassifier(**{**FAST, **params}).fit(X, y)


# --- tokenizer, vocabulary, embeddings -------------------------------------------------


def test_vocabulary_options_reach_the_vocabulary(data):
    (X, y), _ = data
    clf = LSTMTextClassifier(**dict(FAST, max_epochs=1, max_vocab_size=5, lowercase=False))
    clf.fit([t.replace("great", "Great") for t in X], y)
    assert len(clf.vocabulary_) == 5 + 2 and clf.module_.embedding.num_embeddings == 7
    assert clf.vocabulary_.tokens_[:2] == ["<pad>", "<unk>"]
    clf = LSTMTextClassifier(**dict(FAST, max_epochs=1, min_freq=1000)).fit(X, y)
    assert clf.vocabulary_.tokens_ == ["<pad>", "<unk>"]  # everything unknown, still trains
    clf = LSTMTextClassifier(**dict(FAST, max_epochs=1, normalize_digits=True))
    clf.fit([f"{t} {i}" for i, t in enumerate(X)], y)
    assert clf.vocabulary_.normalize_digits
    assert {"0", "00"} <= set(clf.vocabulary_.tokens_)
    assert not any(c in "123456789" for tok in clf.vocabulary_.tokens_ for c in tok)


def test_word_dropout_trains_the_unknown_token(data):
    (X, y), (X_test, _) = data
    unknown = {}
    for rate in (0.0, 0.3):
        rows = []
        for epochs in (1, 3):
            kw = dict(FAST, max_epochs=epochs, alpha=0.0, word_dropout=rate)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf = LSTMTextClassifier(**kw).fit(X, y)
            rows.append(clf.module_.embedding.weight[UNK_ID].detach().clone())
        unknown[rate] = rows
    # Every training word is in the vocabulary: without word dropout <unk> is never seen
    # and keeps its initial vector; with it, <unk> is learned like any word.
    torch.testing.assert_close(unknown[0.0][0], unknown[0.0][1])
    assert not torch.equal(unknown[0.3][0], unknown[0.3][1])
    assert clf.score(X_test, data[1][1]) > 0.8  # still learns with 30% of words dropped


def split_on_dashes(text):
    return text.split("-")


def test_callable_tokenizer_trains_pickles_but_cannot_be_saved(tmp_path):
    X = ["great-movie", "awful-film", "loved-it", "hated-it"] * 10
    y = ["pos", "neg", "pos", "neg"] * 10
    clf = LSTMTextClassifier(**dict(FAST, tokenizer=split_on_dashes)).fit(X, y)
    assert "great" in clf.vocabulary_.vocabulary_ and clf.score(X, y) == 1.0
    clone_ = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone_.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(TypeError, match="callable tokenizer cannot be saved by skdeep.save"):
        skdeep.save(clf, tmp_path / "model.skdeep")


def test_pretrained_embeddings_initialise_the_known_rows(data):
    (X, y), _ = data
    rng = np.random.RandomState(0)
    vectors = {"great": rng.normal(size=16), "awful": rng.normal(size=16), "absent": [0.0] * 16}
    # A step of 1e-12 leaves the initial embedding visible after fit.
    clf = LSTMTextClassifier(
        **dict(FAST, max_epochs=1, learning_rate=1e-12, alpha=0.0, pretrained_embeddings=vectors)
    ).fit(X, y)
    weight = clf.module_.embedding.weight.detach().numpy()
    for token in ("great", "awful"):
        row = weight[clf.vocabulary_.vocabulary_[token]]
        np.testing.assert_allclose(row, vectors[token], atol=1e-6)
    assert np.count_nonzero(weight[PAD_ID]) == 0 and np.count_nonzero(weight[UNK_ID]) > 0


# --- training controls -----------------------------------------------------------------


def test_partial_fit_learns_the_vocabulary_on_the_first_call_only(data):
    (X, y), _ = data
    clf = LSTMTextClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:150], y[:150], classes=np.unique(y))
    tokens = list(clf.vocabulary_.tokens_)
    clf.partial_fit(["brand new words here"] * 3, ["pos"] * 3)
    assert clf.vocabulary_.tokens_ == tokens and "brand" not in clf.vocabulary_.vocabulary_
    for _ in range(8):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 10 and clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match=r"label\(s\) \['spam'\] not in classes_"):
        clf.partial_fit(X[:2], ["pos", "spam"])


def test_warm_start_keeps_vocabulary_and_continues(data):
    (X, y), _ = data
    clf = LSTMTextClassifier(**dict(FAST, max_epochs=2, warm_start=True)).fit(X, y)
    module, vocabulary = clf.module_, clf.vocabulary_
    clf.fit(X[:50], y[:50])
    assert clf.n_iter_ == 4 and clf.module_ is module and clf.vocabulary_ is vocabulary


def test_a_failed_fit_leaves_the_fitted_model_intact(data, fitted):
    (X, _), _ = data
    clf = pickle.loads(pickle.dumps(fitted))
    before = clf.predict_proba(X[:5])
    clf.set_params(warm_start=True)
    with pytest.raises(ValueError, match=r"X\[0\] is missing"):
        clf.fit([None, "x"], ["pos", "neg"])
    np.testing.assert_array_equal(clf.predict_proba(X[:5]), before)


# --- persistence -----------------------------------------------------------------------


def test_save_load_and_pickle_round_trips_predict_identically(data, fitted, tmp_path):
    (X, y), (X_test, _) = data
    unicode = ["café 🙂 日本語", "naïve résumé", ""]
    clf = LSTMTextClassifier(**dict(FAST, max_epochs=2)).fit(
        list(X) + unicode, [*y, "pos", "neg", "meh"]
    )
    assert {"café", "🙂", "日本語", "résumé"} <= set(clf.vocabulary_.vocabulary_)
    path = tmp_path / "text.skdeep"
    skdeep.save(clf, path)
    loaded = skdeep.load(path)
    assert type(loaded) is LSTMTextClassifier and loaded.get_params() == clf.get_params()
    assert loaded.vocabulary_.tokens_ == clf.vocabulary_.tokens_
    for texts in (X_test, unicode):
        np.testing.assert_array_equal(loaded.predict_proba(texts), clf.predict_proba(texts))
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    unpickled = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(unpickled.predict_proba(X_test), clf.predict_proba(X_test))
    # Training resumes exactly: weights, optimiser moments and the shuffling stream.
    for model in (clf, loaded):
        model.partial_fit(X, y)
    np.testing.assert_array_equal(loaded.predict_proba(X_test), clf.predict_proba(X_test))


# --- composition ---------------------------------------------------------------------


def strip_urls(texts):
    return [re.sub(r"https?://\S+", " ", t) for t in texts]


def test_pipeline_with_text_cleaning_step(data):
    (X, y), (X_test, y_test) = data
    X_urls = [f"{t} http://spam.example/{i}" for i, t in enumerate(X)]
    pipe = make_pipeline(FunctionTransformer(strip_urls), LSTMTextClassifier(**FAST))
    pipe.fit(pd.Series(X_urls), y)
    assert "http" not in pipe[-1].vocabulary_.vocabulary_
    assert pipe.score(X_test, y_test) > 0.95


def test_grid_search_in_parallel_and_cross_validation(data):
    (X, y), _ = data
    X, y = X[:200], y[:200]
    pipe = make_pipeline(FunctionTransformer(strip_urls), LSTMTextClassifier(**FAST))
    search = GridSearchCV(
        pipe,
        {"lstmtextclassifier__pooling": ["max", "last"]},
        cv=2,
        n_jobs=2,
    ).fit(np.array(X, dtype=object), y)
    assert search.best_score_ > 0.9
    assert search.best_estimator_[-1].pooling in ("max", "last")
    scores = cross_val_score(LSTMTextClassifier(**FAST), pd.Series(X), y, cv=3)
    assert scores.min() > 0.9


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_trains_and_predicts_on_cuda_in_input_order(data, tmp_path):
    (X, y), (X_test, _) = data
    clf = LSTMTextClassifier(**dict(FAST, device="cuda", word_dropout=0.1)).fit(X, y)
    assert next(clf.module_.parameters()).device.type == "cuda"
    # Prediction sorts texts by length on the way in: rows must come back in input order.
    texts = list(X_test[:40])
    proba = clf.predict_proba(texts)
    alone = np.vstack([clf.predict_proba([t]) for t in texts])
    np.testing.assert_allclose(proba, alone, rtol=1e-4, atol=1e-5)
    assert proba.dtype == np.float64
    # A model trained on the GPU loads on the CPU and predicts the same.
    skdeep.save(clf, tmp_path / "gpu.skdeep")
    on_cpu = skdeep.load(tmp_path / "gpu.skdeep", device="cpu")
    np.testing.assert_allclose(on_cpu.predict_proba(texts), proba, rtol=1e-4, atol=1e-5)


# --- real data (slow) ------------------------------------------------------------------


@pytest.mark.slow
def test_sms_spam_is_learned():
    from sklearn.metrics import f1_score
    from sklearn.model_selection import train_test_split

    from skdeep.datasets import load_sms_spam

    X, y = load_sms_spam(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )
    clf = LSTMTextClassifier(random_state=0).fit(X_train, y_train)  # the defaults
    assert clf.do_early_stopping_ and clf.n_iter_ < clf.max_epochs
    # Always predicting "ham" scores 0.866 accuracy and 0 spam F1; TF-IDF +
    # LogisticRegression (C tuned) 0.9155 F1 (benchmarks/RESULTS.md).
    assert clf.score(X_test, y_test) > 0.97
    assert f1_score(y_test, clf.predict(X_test), pos_label="spam") > 0.9


@pytest.mark.slow
def test_demo_text_step_reports_both_models(capsys):
    from skdeep.demo.text import text_step

    results = text_step(verbose=0)
    assert set(results) == {"TF-IDF + LogisticRegression", "LSTMTextClassifier (skdeep)"}
    accuracy, f1, _ = results["LSTMTextClassifier (skdeep)"]
    assert accuracy > 0.95 and f1 > 0.85  # always "ham": 0.866 and 0
    assert "spam F1" in capsys.readouterr().out


def test_optuna_study_tunes_raw_text_with_cross_validation(data):
    """The Optuna path: a plain study whose objective cross-validates the estimator."""
    import optuna
    from sklearn.model_selection import cross_val_score

    (X, y), _ = data

    def objective(trial):
        clf = LSTMTextClassifier(
            **dict(
                FAST,
                max_epochs=4,
                hidden_size=trial.suggest_categorical("hidden_size", [8, 16]),
                learning_rate=trial.suggest_float("learning_rate", 1e-3, 3e-2, log=True),
                pooling=trial.suggest_categorical("pooling", ["max", "mean"]),
            )
        )
        return cross_val_score(clf, X, y, cv=2).mean()

    def run():
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(
            direction="maximize", sampler=optuna.samplers.TPESampler(seed=0)
        )
        study.optimize(objective, n_trials=3)
        return study

    study = run()
    assert set(study.best_params) == {"hidden_size", "learning_rate", "pooling"}
    assert study.best_value > 0.6  # 3 balanced classes: chance is 1/3
    # fixed sampler seed + fixed random_state: the same study twice
    assert [t.value for t in run().trials] == [t.value for t in study.trials]
