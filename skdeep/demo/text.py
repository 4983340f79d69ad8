"""Tour step: LSTMTextClassifier on the SMS Spam Collection, beside TF-IDF + LogisticRegression."""

from __future__ import annotations

import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skdeep.datasets import load_sms_spam
from skdeep.text import LSTMTextClassifier


def text_step(verbose=1):
    """LSTMTextClassifier on raw SMS texts: spam or ham?"""
    X, y = load_sms_spam(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )
    print(
        f"SMS Spam Collection: {len(X_train):,} training and {len(X_test):,} test messages, "
        f"raw text in ({(y == 'spam').mean():.0%} spam)",
        flush=True,
    )

    results = {}
    for name, model in [
        (
            "TF-IDF + LogisticRegression",
            # C=100 is what 5-fold GridSearchCV picks on this training split (spam F1),
            # see benchmarks/bench_text.py.
            make_pipeline(TfidfVectorizer(), LogisticRegression(C=100.0)),
        ),
        (
            "LSTMTextClassifier (skdeep)",
            # The defaults, chosen by cross-validation on two text sets (benchmarks/
            # RESULTS.md): a biLSTM 64 with dropout and word dropout, digits read as 0,
            # early stopping on a held-out tenth of the messages.
            LSTMTextClassifier(random_state=0, verbose=verbose),
        ),
    ]:
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        predicted = model.predict(X_test)
        results[name] = (
            accuracy_score(y_test, predicted),
            f1_score(y_test, predicted, pos_label="spam"),
            seconds,
        )
        if isinstance(model, LSTMTextClassifier):
            best = model.history_[-1].get("best_epoch", model.n_iter_)
            print(
                f"  trained {model.n_iter_} epochs on a vocabulary of "
                f"{len(model.vocabulary_):,} tokens, kept epoch {best} (validation "
                f"accuracy {model.history_[best - 1]['valid_score']:.4f})"
            )

    print(f"\n  {'model':<30} {'accuracy':>9} {'spam F1':>9} {'fit (s)':>8}")
    for name, (accuracy, f1, seconds) in results.items():
        print(f"  {name:<30} {accuracy:>9.4f} {f1:>9.4f} {seconds:>8.1f}")
    return results
