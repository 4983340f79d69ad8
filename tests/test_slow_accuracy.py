"""Longer accuracy checks on real data (``pytest -m slow``, tox env ``slow``)."""

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor, make_column_transformer
from sklearn.datasets import load_diabetes
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skdeep import DeepMLPClassifier, DeepMLPRegressor
from skdeep.datasets import load_adult

pytestmark = pytest.mark.slow


def test_adult_test_accuracy_beats_logistic_regression():
    X_train, y_train = load_adult(as_frame=True, return_X_y=True)
    X_test, y_test = load_adult(split="test", as_frame=True, return_X_y=True)
    categorical = X_train.select_dtypes("category").columns

    def pipeline(model):
        return make_pipeline(
            make_column_transformer(
                (
                    make_pipeline(
                        SimpleImputer(strategy="most_frequent"),
                        OneHotEncoder(handle_unknown="ignore"),
                    ),
                    categorical,
                ),
                (StandardScaler(), X_train.columns.difference(categorical)),
            ),
            model,
        )

    baseline = pipeline(LogisticRegression(max_iter=2000)).fit(X_train, y_train)
    mlp = pipeline(
        DeepMLPClassifier(
            dropout=0.1, batch_size=256, early_stopping=True, n_iter_no_change=5, random_state=0
        )
    )
    mlp.fit(X_train, y_train)
    assert mlp.score(X_test, y_test) > 0.85
    assert mlp.score(X_test, y_test) >= baseline.score(X_test, y_test)


def test_diabetes_regression_matches_ridge():
    X, y = load_diabetes(return_X_y=True)
    ridge = cross_val_score(make_pipeline(StandardScaler(), RidgeCV()), X, y, cv=5)
    mlp = TransformedTargetRegressor(
        make_pipeline(
            StandardScaler(),
            DeepMLPRegressor(
                hidden_layer_sizes=(64,),
                alpha=1e-2,
                dropout=0.1,
                early_stopping=True,
                random_state=0,
            ),
        ),
        transformer=StandardScaler(),
    )
    scores = cross_val_score(mlp, X, y, cv=5)
    # A small, nearly linear problem: the MLP should come within 0.05 R^2 of ridge.
    assert np.mean(scores) > np.mean(ridge) - 0.05
