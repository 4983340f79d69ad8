"""Tour step: DeepMLPClassifier on the Adult census table, beside LogisticRegression."""

from __future__ import annotations

import time

from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skdeep import DeepMLPClassifier
from skdeep.datasets import load_adult


def _tabular_preprocessor(X):
    categorical = X.select_dtypes("category").columns
    numeric = X.columns.difference(categorical)
    return make_column_transformer(
        (
            make_pipeline(
                SimpleImputer(strategy="constant", fill_value="missing"),
                OneHotEncoder(handle_unknown="ignore"),
            ),
            categorical,
        ),
        (StandardScaler(), numeric),
    )


def mlp_step(verbose=1):
    """DeepMLPClassifier on the Adult census table: income above $50K?"""
    X_train, y_train = load_adult(split="train", as_frame=True, return_X_y=True)
    X_test, y_test = load_adult(split="test", as_frame=True, return_X_y=True)
    print(
        f"Adult census income: {len(X_train):,} training and {len(X_test):,} test rows, "
        f"{X_train.shape[1]} columns (mixed numeric and categorical, with missing values)",
        flush=True,
    )

    results = {}
    for name, model in [
        (
            "LogisticRegression (sklearn)",
            make_pipeline(_tabular_preprocessor(X_train), LogisticRegression(max_iter=1000)),
        ),
        # The DataFrame goes straight in (categories are one-hot columns inside), with the
        # defaults: early stopping on a held-out tenth, alpha=1e-2, dropout=0.1.
        ("DeepMLPClassifier (skdeep)", DeepMLPClassifier(random_state=0, verbose=verbose)),
    ]:
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        proba = model.predict_proba(X_test)[:, 1]
        results[name] = (
            accuracy_score(y_test, model.predict(X_test)),
            roc_auc_score(y_test == ">50K", proba),
            seconds,
        )
        if isinstance(model, DeepMLPClassifier):
            print(
                f"  trained {model.n_iter_} epochs, best validation accuracy "
                f"{model.best_validation_score_:.4f}"
            )

    print(f"\n  {'model':<30} {'accuracy':>9} {'ROC AUC':>9} {'fit (s)':>8}")
    for name, (accuracy, auc, seconds) in results.items():
        print(f"  {name:<30} {accuracy:>9.4f} {auc:>9.4f} {seconds:>8.1f}")
    return results
