import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from skdeep.preprocessing.tabular import TabularEncoder

ADULT = Path("/work/shared/data/adult/adult.data.gz")
ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
]  # fmt: skip


# pandas >= 3 infers a dedicated "str" dtype for strings; pandas 2 keeps "object".
STR_DTYPE = str(pd.Series(["x"], dtype="str").dtype)


def mixed_frame():
    """One column of each supported dtype, 6 rows."""
    return pd.DataFrame(
        {
            "i64": np.array([3, -1, 7, 0, 12, 5], dtype=np.int64),
            "f64": [0.5, -1.25, 3.0, 2.5, 0.0, 10.0],
            "f32": np.array([1.5, 2.5, -0.5, 4.0, 0.25, 3.0], dtype=np.float32),
            "i32": np.array([1, 2, 3, 4, 5, 6], dtype=np.int32),
            "nullable": pd.array([10, 20, 30, 40, 50, 60], dtype="Int64"),
            "flag": [True, False, True, True, False, False],
            "size": pd.Categorical(
                ["lo", "hi", "lo", "mid", "hi", "lo"],
                categories=["lo", "mid", "hi", "huge"],  # "huge" is never used
                ordered=True,
            ),
            # pd.Series, not np.array: pandas 3 would infer str from an object array
            "obj": pd.Series(["a", None, "b", "a", None, "c"], dtype=object),
            "text": pd.array(["x", "y", "x", "z", "y", "x"], dtype="str"),
            "string": pd.array(["u", pd.NA, "v", "u", "v", "u"], dtype="string"),
            "maybe": pd.array([True, None, False, True, True, False], dtype="boolean"),
        }
    )


def assert_round_trip(df, encoder):
    # floats come back up to float32 precision of the standardised values: ~1e-7 * scale
    out = encoder.inverse_transform(*encoder.transform(df))
    pd.testing.assert_frame_equal(
        out, df.reset_index(drop=True), check_dtype=True, check_exact=False, rtol=1e-6, atol=1e-6
    )
    for name in df.columns:  # missing values come back as the very same object
        missing = df[name].isna().to_numpy()
        assert [type(v) for v in out[name][missing]] == [type(v) for v in df[name][missing]]


def test_mixed_frame_round_trip_is_exact():
    df = mixed_frame()
    assert [str(t) for t in df.dtypes] == [
        "int64", "float64", "float32", "int32", "Int64", "bool", "category", "object",
        STR_DTYPE, "string", "boolean",
    ]  # fmt: skip
    encoder = TabularEncoder().fit(df)
    assert encoder.numeric_columns_ == ["i64", "f64", "f32", "i32", "nullable"]
    assert encoder.categorical_columns_ == ["flag", "size", "obj", "text", "string", "maybe"]
    assert encoder.columns_ == list(df.columns)
    assert encoder.n_features_in_ == 11
    assert list(encoder.feature_names_in_) == list(df.columns)
    assert_round_trip(df, encoder)
    out = encoder.inverse_transform(*encoder.transform(df))
    assert out["size"].cat.categories.tolist() == ["lo", "mid", "hi", "huge"]
    assert out["size"].cat.ordered
    assert out.loc[1, "obj"] is None


def test_index_is_not_kept():
    df = mixed_frame().set_axis([10, 11, 12, 13, 14, 15])
    encoder = TabularEncoder().fit(df)
    out = encoder.inverse_transform(*encoder.transform(df))
    assert isinstance(out.index, pd.RangeIndex)
    assert_round_trip(df, encoder)


def test_numeric_array_round_trip_and_standardisation():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=5.0, scale=3.0, size=(50, 3))
    X[:, 2] = 7.0  # a constant column must round-trip too
    encoder = TabularEncoder().fit(X)
    X_num, X_cat = encoder.transform(X)
    assert X_num.dtype == np.float32 and X_num.shape == (50, 3)
    assert X_cat.dtype == np.int64 and X_cat.shape == (50, 0)
    np.testing.assert_allclose(X_num[:, :2].mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(X_num[:, :2].std(axis=0), 1, atol=1e-6)
    assert encoder.scales_[2] == 1.0 and not X_num[:, 2].any()
    assert encoder.columns_ == ["x0", "x1", "x2"]
    assert not hasattr(encoder, "feature_names_in_")
    back = encoder.inverse_transform(X_num, X_cat)
    assert isinstance(back, np.ndarray) and back.dtype == np.float64
    np.testing.assert_allclose(back, X, rtol=1e-6)
    X_int = rng.integers(-1000, 1000, size=(20, 2))
    encoder = TabularEncoder().fit(X_int)
    np.testing.assert_array_equal(encoder.inverse_transform(*encoder.transform(X_int)), X_int)


def test_object_array_is_typed_per_column():
    X = np.array([[1, "a", 0.5], [2, "b", 1.5], [3, "a", 2.5]], dtype=object)
    encoder = TabularEncoder().fit(X)
    assert encoder.numeric_columns_ == ["x0", "x2"]
    assert encoder.categorical_columns_ == ["x1"]
    back = encoder.inverse_transform(*encoder.transform(X))
    assert back.dtype == object
    assert back[:, :2].tolist() == X[:, :2].tolist()
    np.testing.assert_allclose(back[:, 2].astype(float), X[:, 2].astype(float), rtol=1e-6)


def test_codes_and_cardinalities():
    df = mixed_frame()
    encoder = TabularEncoder().fit(df)
    X_num, X_cat = encoder.transform(df)
    assert X_num.shape == (6, 5) and X_cat.shape == (6, 6)
    # flag: 2 values; size: 4 declared; obj: a, b, c + missing; text: 3; string, maybe: + missing
    assert encoder.cardinalities_ == [2, 4, 4, 3, 3, 3]
    assert encoder.has_missing_ == [False, False, True, False, True, True]
    assert (X_cat >= 0).all() and (X_cat < encoder.cardinalities_).all()
    assert encoder.categories_[1].tolist() == ["lo", "mid", "hi", "huge"]  # declared order
    assert encoder.categories_[2].tolist() == ["a", "b", "c"]  # sorted, without missing
    np.testing.assert_array_equal(X_cat[:, 1], [0, 2, 0, 1, 2, 0])
    np.testing.assert_array_equal(X_cat[:, 2], [0, 3, 1, 0, 3, 2])  # missing has the last code


def test_forced_categorical_int_codes():
    df = pd.DataFrame({"code": [3, 1, 3, 2], "x": [0.1, 0.2, 0.3, 0.4]})
    encoder = TabularEncoder(categorical_columns=["code"]).fit(df)
    assert encoder.categorical_columns_ == ["code"]
    assert encoder.categories_[0].tolist() == [1, 2, 3]
    assert_round_trip(df, encoder)
    X = df.to_numpy()
    encoder = TabularEncoder(categorical_columns=[0]).fit(X)
    assert encoder.categorical_columns_ == ["x0"]
    np.testing.assert_allclose(encoder.inverse_transform(*encoder.transform(X)), X, rtol=1e-6)


def test_missing_category_level_round_trips():
    df = pd.DataFrame(
        {"obj_nan": pd.Series(["a", np.nan, "b"], dtype=object), "num": [1.0, np.nan, 2.0]}
    )
    assert df["obj_nan"].dtype == object
    encoder = TabularEncoder(categorical_columns=["num"]).fit(df)
    assert encoder.cardinalities_ == [3, 3]
    assert_round_trip(df, encoder)
    # unseen missing value: its column had none at fit
    clean = pd.DataFrame({"c": ["a", "b"]})
    encoder = TabularEncoder().fit(clean)
    with pytest.raises(ValueError, match=r"Column 'c' has 1 values not seen during fit"):
        encoder.transform(pd.DataFrame({"c": ["a", None]}))


def test_handle_unknown_ignore_gives_minus_one():
    df = pd.DataFrame({"c": ["a", "b", "a"]})
    encoder = TabularEncoder(handle_unknown="ignore").fit(df)
    _, X_cat = encoder.transform(pd.DataFrame({"c": ["b", "zzz", None]}))
    np.testing.assert_array_equal(X_cat[:, 0], [1, -1, -1])
    with pytest.raises(ValueError, match=r"X_cat column 0 \('c'\) must hold codes 0\.\.1"):
        encoder.inverse_transform(np.empty((3, 0)), X_cat)


def test_integers_are_rounded_and_clipped():
    df = pd.DataFrame({"small": np.array([0, 100], dtype=np.int8), "big": [0, 1]})
    encoder = TabularEncoder().fit(df)
    X_num = np.array([[1e6, 1e30], [-1e6, -1e30], [0.02, 0.02]])  # std is 50 and 0.5
    out = encoder.inverse_transform(X_num, np.empty((3, 0)))
    assert out["small"].tolist() == [127, -128, 51]
    assert out["big"].tolist()[2] == 1
    assert out["big"].tolist()[:2] == [np.iinfo(np.int64).max - 1023, np.iinfo(np.int64).min]
    assert out.dtypes.tolist() == [np.int8, np.int64]


def test_logit_helpers():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", None], "d": [True, False, True]})
    encoder = TabularEncoder().fit(df)
    X_num, X_cat = encoder.transform(df)
    assert encoder.cardinalities_ == [3, 2]
    # logits that put the highest score on the true codes
    flat = np.zeros((3, 5))
    flat[np.arange(3), X_cat[:, 0]] = 5.0
    flat[np.arange(3), 3 + X_cat[:, 1]] = 5.0
    blocks = encoder.split_logits(flat)
    assert [b.shape for b in blocks] == [(3, 3), (3, 2)]
    np.testing.assert_array_equal(encoder.logits_to_codes(blocks), X_cat)
    np.testing.assert_array_equal(encoder.logits_to_codes(flat), X_cat)
    pd.testing.assert_frame_equal(encoder.inverse_transform_logits(X_num, flat), df)
    with pytest.raises(ValueError, match=r"shape \(n_samples, 5\)"):
        encoder.split_logits(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"Logits of column 'd' must have shape \(3, 2\)"):
        encoder.logits_to_codes([blocks[0], np.zeros((3, 3))])
    with pytest.raises(ValueError, match="Logits of column 'c' contain NaN"):
        encoder.logits_to_codes(np.full((3, 5), np.nan))
    numeric_only = TabularEncoder().fit(df[["x"]])
    out = numeric_only.inverse_transform_logits(X_num[:, :1], np.empty((3, 0)))
    pd.testing.assert_frame_equal(out, df[["x"]])


def test_state_json_round_trip():
    df = mixed_frame()
    encoder = TabularEncoder(categorical_columns=["i32"], handle_unknown="ignore").fit(df)
    state = json.loads(json.dumps(encoder.get_state()))
    restored = TabularEncoder.from_state(state)
    assert restored.get_params() == encoder.get_params()
    X_num, X_cat = encoder.transform(df)
    X_num2, X_cat2 = restored.transform(df)
    np.testing.assert_array_equal(X_num, X_num2)
    np.testing.assert_array_equal(X_cat, X_cat2)
    pd.testing.assert_frame_equal(
        restored.inverse_transform(X_num, X_cat), encoder.inverse_transform(X_num, X_cat)
    )
    assert_round_trip(df, restored)
    assert restored.categories_[0].dtype == np.int32  # i32 codes stay ints
    # array-fitted encoders restore arrays
    X = np.arange(6.0).reshape(3, 2)
    restored = TabularEncoder.from_state(
        json.loads(json.dumps(TabularEncoder().fit(X).get_state()))
    )
    np.testing.assert_allclose(restored.inverse_transform(*restored.transform(X)), X, atol=1e-6)
    with pytest.raises(ValueError, match="Not a TabularEncoder state"):
        TabularEncoder.from_state({"format": "other"})


def test_fit_errors():
    df = pd.DataFrame({"age": [1.0, np.nan, 3.0, np.inf], "c": ["a", "b", "a", "b"]})
    with pytest.raises(ValueError, match=r"Column 'age' has 2 missing or infinite .*row 1\)"):
        TabularEncoder().fit(df)
    with pytest.raises(ValueError, match="at least one row"):
        TabularEncoder().fit(df.iloc[:0])
    with pytest.raises(ValueError, match="categorical_columns names 'nope'"):
        TabularEncoder(categorical_columns=["nope"]).fit(df)
    with pytest.raises(ValueError, match="categorical_columns must be 'auto' or a list"):
        TabularEncoder(categorical_columns="c").fit(df)
    with pytest.raises(ValueError, match="categorical_columns has position 5"):
        TabularEncoder(categorical_columns=[5]).fit(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="handle_unknown must be 'error' or 'ignore'"):
        TabularEncoder(handle_unknown="skip").fit(df)
    how_long = pd.DataFrame({"how_long": pd.to_timedelta([1, 2], unit="s")})
    with pytest.raises(TypeError, match=r"Column 'how_long' has dtype timedelta64"):
        TabularEncoder().fit(how_long)
    with pytest.raises(TypeError, match=r"Column 'z' has dtype complex128"):
        TabularEncoder().fit(pd.DataFrame({"z": [1j, 2j]}))
    with pytest.raises(TypeError, match="Column 'm' mixes values that cannot be sorted"):
        TabularEncoder().fit(pd.DataFrame({"m": np.array(["a", 1], dtype=object)}))
    with pytest.raises(ValueError, match="duplicate column names"):
        TabularEncoder().fit(pd.DataFrame([[1, 2]], columns=["a", "a"]))
    with pytest.raises(ValueError, match="got a pandas Series"):
        TabularEncoder().fit(df["c"])
    with pytest.raises(ValueError, match=r"got an array of shape \(3,\)"):
        TabularEncoder().fit(np.zeros(3))


def test_transform_errors():
    df = pd.DataFrame({"age": [20, 30, 40], "c": ["a", "b", "a"]})
    with pytest.raises(NotFittedError):
        TabularEncoder().transform(df)
    encoder = TabularEncoder().fit(df)
    with pytest.raises(ValueError, match=r"unseen at fit time: \['extra'\].*missing: \['c'\]"):
        encoder.transform(df.rename(columns={"c": "extra"}))
    with pytest.raises(ValueError, match="X has 1 columns, but TabularEncoder was fitted with 2"):
        TabularEncoder().fit(df.to_numpy()).transform(np.zeros((2, 1)))
    unseen = pd.DataFrame({"age": [1, 2, 3, 4], "c": ["a", "q", "r", "q"]})
    with pytest.raises(
        ValueError, match=r"Column 'c' has 3 values not seen .*row 1\): \['q', 'r'\]"
    ):
        encoder.transform(unseen)
    with pytest.raises(ValueError, match=r"Column 'age' has 1 missing or infinite .*row 2\)"):
        encoder.transform(pd.DataFrame({"age": [1.0, 2.0, np.nan], "c": ["a"] * 3}))
    with pytest.raises(
        ValueError, match=f"Column 'age' was numeric during fit but has dtype {STR_DTYPE}"
    ):
        encoder.transform(pd.DataFrame({"age": ["1", "2"], "c": ["a", "b"]}))
    # reordered DataFrame columns are matched by name
    np.testing.assert_array_equal(encoder.transform(df[["c", "age"]])[1], encoder.transform(df)[1])
    with pytest.warns(UserWarning, match="matched by position"):
        encoder.transform(df.to_numpy(dtype=object))


def test_inverse_transform_errors():
    df = pd.DataFrame({"age": [20, 30, 40], "c": ["a", "b", "a"]})
    encoder = TabularEncoder().fit(df)
    X_num, X_cat = encoder.transform(df)
    with pytest.raises(ValueError, match=r"X_num must have shape \(n_samples, 1\)"):
        encoder.inverse_transform(np.zeros((3, 2)), X_cat)
    with pytest.raises(ValueError, match="same number of rows"):
        encoder.inverse_transform(X_num[:2], X_cat)
    with pytest.raises(ValueError, match=r"X_num column 0 \('age'\) has 1 NaN"):
        encoder.inverse_transform(np.array([[np.nan], [0], [0]]), X_cat)
    with pytest.raises(ValueError, match=r"X_cat column 0 \('c'\) must hold codes 0\.\.1, got 2"):
        encoder.inverse_transform(X_num, X_cat + 1)
    with pytest.raises(ValueError, match="X_cat must hold integer codes"):
        encoder.inverse_transform(X_num, X_cat + 0.5)


@pytest.mark.skipif(not ADULT.exists(), reason="adult census data not available")
def test_adult_round_trip():
    df = pd.read_csv(
        ADULT, header=None, names=ADULT_COLUMNS, skipinitialspace=True, na_values="?", nrows=2000
    )
    encoder = TabularEncoder().fit(df)
    assert len(encoder.numeric_columns_) == 6 and len(encoder.categorical_columns_) == 9
    assert encoder.has_missing_[encoder.categorical_columns_.index("workclass")]
    assert_round_trip(df, encoder)
    restored = TabularEncoder.from_state(json.loads(json.dumps(encoder.get_state())))
    assert_round_trip(df, restored)


def test_split_logits_without_categorical_columns():
    encoder = TabularEncoder().fit(np.arange(6.0).reshape(3, 2))
    assert encoder.split_logits(np.zeros((3, 0))) == []
    assert encoder.logits_to_codes(np.zeros((3, 0))).shape == (3, 0)


# -- mode-specific normalisation (numeric_encoding="mode") -----------------------------------


def mode_frame(n=3000, seed=0):
    """Bimodal floats with a point mass at 0 and missing values, ints, a 2-decimal price."""
    rng = np.random.default_rng(seed)
    bimodal = np.where(rng.random(n) < 0.5, rng.normal(-5, 1, n), rng.normal(20, 3, n))
    bimodal[rng.random(n) < 0.4] = 0.0
    bimodal[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "bimodal": bimodal,
            "age": rng.integers(18, 90, n),
            "price": rng.lognormal(3, 1, n).round(2),
            "color": rng.choice(["red", "blue", "green"], n),
        }
    )


def mode_encoder(**params):
    return TabularEncoder(numeric_encoding="mode", random_state=0, **params)


def test_mode_round_trip_of_discrete_columns_is_exact():
    # 6 rows: every numeric column has at most n_modes values, so each value is a point mass.
    df = mixed_frame()
    encoder = mode_encoder().fit(df)
    assert all(len(m.means) == 0 for m in encoder.numeric_modes_)
    assert encoder.cardinalities_ == [2, 4, 4, 3, 3, 3] + [6] * 5
    X_num, X_cat = encoder.transform(df)
    assert X_cat.shape == (6, 11) and not X_num.any()
    pd.testing.assert_frame_equal(encoder.inverse_transform(X_num, X_cat), df)


def test_mode_encoding_learns_modes_point_masses_and_missing():
    df = mode_frame()
    encoder = mode_encoder().fit(df)
    bimodal, age, price = encoder.numeric_modes_
    assert bimodal.point_masses.tolist() == [0.0] and bimodal.has_missing
    # the two Gaussians are found: a mode near each centre
    assert np.abs(bimodal.means[:, None] - [-5, 20]).min(axis=0).max() < 2
    assert bimodal.weights.sum() == pytest.approx(1) and (bimodal.weights > 0.005).all()
    assert (age.decimals, price.decimals, bimodal.decimals) == (0, 2, None)
    thousands = mode_encoder().fit(pd.DataFrame({"pay": np.arange(1, 40) * 1000}))
    assert thousands.numeric_modes_[0].decimals == -3
    assert (age.min, age.max) == (df["age"].min(), df["age"].max())
    assert encoder.cardinalities_[1:] == [m.n_components for m in encoder.numeric_modes_]
    X_num, X_cat = encoder.transform(df)
    assert X_num.dtype == np.float32 and X_cat.shape == (3000, 4)
    assert np.mean(np.abs(X_num) <= 1) > 0.99  # alpha = (x - mean_k) / (4 std_k)
    n_modes = len(bimodal.means)
    codes = X_cat[:, 1]
    np.testing.assert_array_equal(codes == n_modes, df["bimodal"].to_numpy() == 0)
    np.testing.assert_array_equal(codes == n_modes + 1, df["bimodal"].isna())
    out = encoder.inverse_transform(X_num, X_cat)
    pd.testing.assert_frame_equal(out, df, check_exact=False, rtol=1e-5, atol=1e-4)
    assert (out["bimodal"] == 0).sum() == (df["bimodal"] == 0).sum()  # exactly, not nearly
    np.testing.assert_array_equal(out["age"], df["age"])


def test_mode_decoding_of_model_outputs_respects_the_data():
    """What a generator may produce: any alpha in [-1, 1], any component."""
    df = mode_frame()
    encoder = mode_encoder().fit(df)
    rng = np.random.default_rng(1)
    n = 5000
    X_num = rng.uniform(-1, 1, (n, 3))
    X_cat = np.column_stack([rng.integers(0, k, n) for k in encoder.cardinalities_])
    out = encoder.inverse_transform(X_num, X_cat)
    assert out.dtypes.equals(df.dtypes)
    for name, modes in zip(encoder.numeric_columns_, encoder.numeric_modes_, strict=True):
        values = out[name].dropna()
        assert values.between(modes.min, modes.max).all(), name  # within the seen range
    np.testing.assert_array_equal(out["price"], out["price"].round(2))  # 2 decimals, as seen
    # the missing component and only it gives NaN; the point mass gives exactly 0
    codes = X_cat[:, 1]
    n_modes = len(encoder.numeric_modes_[0].means)
    np.testing.assert_array_equal(out["bimodal"].isna(), codes == n_modes + 1)
    assert (out["bimodal"][codes == n_modes] == 0.0).all()


def test_flat_layout_round_trip():
    df = mode_frame(n=500)
    encoder = mode_encoder().fit(df)
    spans = encoder.flat_spans()
    n_components = [m.n_components for m in encoder.numeric_modes_]
    assert [(s.column, s.role, s.width, s.kind) for s in spans] == [
        ("bimodal", "value", 1, "tanh"),
        ("bimodal", "component", n_components[0], "softmax"),
        ("age", "value", 1, "tanh"),
        ("age", "component", n_components[1], "softmax"),
        ("price", "value", 1, "tanh"),
        ("price", "component", n_components[2], "softmax"),
        ("color", "category", 3, "softmax"),
    ]
    assert [s.start for s in spans[1:]] == [s.start + s.width for s in spans[:-1]]
    flat = encoder.transform_flat(df)
    assert flat.dtype == np.float32 and flat.shape == (500, spans[-1].start + spans[-1].width)
    for span in [*spans[1::2], spans[-1]]:  # each softmax block is one-hot
        np.testing.assert_array_equal(flat[:, span.start : span.start + span.width].sum(1), 1)
    pd.testing.assert_frame_equal(
        encoder.inverse_transform_flat(flat), df, check_exact=False, rtol=1e-5, atol=1e-4
    )
    # scores instead of one-hots decode by argmax
    noisy = flat + np.random.default_rng(0).uniform(0, 0.5, flat.shape)
    for span in spans[::2][:3]:
        noisy[:, span.start] = flat[:, span.start]
    pd.testing.assert_frame_equal(
        encoder.inverse_transform_flat(noisy), df, check_exact=False, rtol=1e-5, atol=1e-4
    )
    with pytest.raises(ValueError, match=r"flat must have shape \(n_samples, \d+\)"):
        encoder.inverse_transform_flat(flat[:, 1:])
    bad = flat.copy()
    bad[0, spans[-1].start] = np.nan
    with pytest.raises(ValueError, match="NaN or inf in the category of 'color'"):
        encoder.flat_to_codes(bad)
    with pytest.raises(ValueError, match="flat layout needs numeric_encoding='mode'"):
        TabularEncoder().fit(df.dropna()).flat_spans()


def test_datetime_columns_round_trip():
    when = pd.Series(pd.date_range("2020-01-01", periods=400, freq="7h"))
    when[::17] = pd.NaT
    df = pd.DataFrame(
        {
            "naive": when,
            "aware": when.dt.tz_localize("UTC").dt.tz_convert("Europe/Paris"),
            "day": pd.Series(pd.date_range("2021-03-01", periods=400, freq="D")).astype(
                "datetime64[s]"
            ),
        }
    )
    encoder = mode_encoder().fit(df)
    assert encoder.numeric_columns_ == ["naive", "aware", "day"]
    out = encoder.inverse_transform(*encoder.transform(df))
    assert out.dtypes.equals(df.dtypes)
    # decoded values are rounded to the grid of the data (multiples of hours, of days), so
    # the float32 error of the alphas vanishes
    pd.testing.assert_frame_equal(out, df)
    assert all(m.decimals < 0 for m in encoder.numeric_modes_)
    standard = TabularEncoder().fit(df[["day"]])
    back = standard.inverse_transform(*standard.transform(df[["day"]]))
    assert back["day"].dtype == df["day"].dtype
    assert (back["day"] - df["day"]).abs().max() <= pd.Timedelta("1s")
    with pytest.raises(ValueError, match="Column 'naive' has 24 missing or infinite values"):
        TabularEncoder().fit(df)
    with pytest.raises(TypeError, match="datetime column 'day'; datetimes are numeric"):
        TabularEncoder(categorical_columns=["day"]).fit(df)
    with pytest.raises(ValueError, match="Column 'day' was datetime during fit"):
        standard.transform(pd.DataFrame({"day": [1, 2]}))


def test_mode_edge_columns():
    df = pd.DataFrame(
        {
            "constant": [3.5] * 40,
            "all_nan": [np.nan] * 40,
            "nullable": pd.array([1, None, 3, 4] * 10, dtype="Int64"),
            "spread": np.arange(40.0) ** 2,
        }
    )
    encoder = mode_encoder(n_modes=3).fit(df)
    constant, all_nan, nullable, spread = encoder.numeric_modes_
    assert constant.point_masses.tolist() == [3.5] and constant.n_components == 1
    assert all_nan.n_components == 1 and all_nan.has_missing and np.isnan(all_nan.min)
    assert nullable.has_missing and nullable.point_masses.tolist() == [1.0, 3.0, 4.0]
    assert len(spread.means) >= 1 and len(spread.point_masses) == 0
    out = encoder.inverse_transform(*encoder.transform(df))
    pd.testing.assert_frame_equal(out, df, check_exact=False, rtol=1e-5, atol=1e-3)
    state = json.loads(json.dumps(encoder.get_state(), allow_nan=False))  # no NaN in JSON
    out = TabularEncoder.from_state(state).inverse_transform(*encoder.transform(df))
    pd.testing.assert_frame_equal(out, df, check_exact=False, rtol=1e-5, atol=1e-3)


def test_mode_unknown_values():
    df = pd.DataFrame({"x": np.arange(50.0), "few": [1, 2] * 25})
    encoder = mode_encoder().fit(df)
    new = pd.DataFrame({"x": [1.0, np.nan], "few": [7, 1]})
    with pytest.raises(ValueError, match=r"Column 'x' has 1 missing values \(first at row 1\)"):
        encoder.transform(new)
    with pytest.raises(ValueError, match="Column 'x' has 2 infinite values"):
        encoder.transform(pd.DataFrame({"x": [np.inf, -np.inf], "few": [1, 2]}))
    ignoring = mode_encoder(handle_unknown="ignore").fit(df)
    X_num, X_cat = ignoring.transform(new)
    np.testing.assert_array_equal(X_cat[:, 1], [-1, 0])  # 'few' at 7: not one of its values
    assert X_cat[1, 0] == -1
    flat = ignoring.codes_to_flat(X_num, X_cat)
    assert flat[1].sum() == 1  # the unknowns are all-zero blocks; only few=1 is set
    with pytest.raises(ValueError, match=r"X_cat column 0 \('x'\) must hold codes"):
        ignoring.inverse_transform(X_num, X_cat)


def test_mode_params_are_checked():
    df = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(ValueError, match="numeric_encoding must be 'standard' or 'mode'"):
        TabularEncoder(numeric_encoding="gmm").fit(df)
    with pytest.raises(ValueError, match="n_modes == 0, must be >= 1"):
        TabularEncoder(n_modes=0).fit(df)
    with pytest.raises(ValueError, match="point_mass_threshold == 0"):
        TabularEncoder(point_mass_threshold=0).fit(df)
    with pytest.raises(ValueError, match="mode_weight_threshold == 1"):
        TabularEncoder(mode_weight_threshold=1).fit(df)
    with pytest.raises(TypeError, match="max_mixture_samples must be an instance of int"):
        TabularEncoder(max_mixture_samples=1e4).fit(df)


def test_mode_subsampled_mixture_and_reproducibility():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": np.concatenate([rng.normal(0, 1, 30000), rng.normal(10, 1, 30000)])})
    encoder = mode_encoder(max_mixture_samples=500).fit(df)
    means = encoder.numeric_modes_[0].means
    assert np.abs(means[:, None] - [0, 10]).min(axis=0).max() < 1
    pd.testing.assert_frame_equal(
        encoder.inverse_transform(*encoder.transform(df)), df, check_exact=False, rtol=1e-5
    )
    again = mode_encoder(max_mixture_samples=500).fit(df)
    assert again.get_state() == encoder.get_state()


def test_mode_state_json_round_trip_and_version_1_states():
    df = mode_frame(n=500)
    encoder = mode_encoder(n_modes=5).fit(df)
    restored = TabularEncoder.from_state(json.loads(json.dumps(encoder.get_state())))
    assert restored.get_params() == encoder.get_params()
    X_num, X_cat = encoder.transform(df)
    for a, b in zip(restored.transform(df), (X_num, X_cat), strict=True):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(
        restored.inverse_transform(X_num, X_cat), encoder.inverse_transform(X_num, X_cat)
    )
    # a state written by version 1 (standardisation only) still loads
    standard = TabularEncoder().fit(mixed_frame())
    state = standard.get_state()
    state["version"] = 1
    del state["numeric_modes"]
    state["params"] = {"categorical_columns": "auto", "handle_unknown": "error"}
    old = TabularEncoder.from_state(json.loads(json.dumps(state)))
    assert old.numeric_encoding == "standard" and old.numeric_modes_ == []
    assert_round_trip(mixed_frame(), old)
    with pytest.raises(ValueError, match="Not a TabularEncoder state of version 1 or 2"):
        TabularEncoder.from_state({**state, "version": 3})


@pytest.mark.skipif(not ADULT.exists(), reason="adult census data not available")
def test_adult_mode_round_trip():
    df = pd.read_csv(
        ADULT, header=None, names=ADULT_COLUMNS, skipinitialspace=True, na_values="?", nrows=2000
    )
    encoder = mode_encoder().fit(df)
    modes = dict(zip(encoder.numeric_columns_, encoder.numeric_modes_, strict=True))
    assert 0.0 in modes["capital-gain"].point_masses
    assert 0.0 in modes["capital-loss"].point_masses
    assert 40.0 in modes["hours-per-week"].point_masses
    out = encoder.inverse_transform(*encoder.transform(df))
    pd.testing.assert_frame_equal(out, df)  # all int columns: exact
    restored = TabularEncoder.from_state(json.loads(json.dumps(encoder.get_state())))
    pd.testing.assert_frame_equal(restored.inverse_transform_flat(encoder.transform_flat(df)), df)


def test_category_codes():
    df = pd.DataFrame({"c": pd.Series(["a", None, "b"], dtype=object), "n": [1, 2, 3], "d": "x"})
    encoder = TabularEncoder().fit(df)
    np.testing.assert_array_equal(encoder.category_codes("c", ["b", None, "a"]), [1, 2, 0])
    with pytest.raises(ValueError, match=r"Column 'c' has no category \['z'\]"):
        encoder.category_codes("c", ["a", "z"])
    with pytest.raises(ValueError, match=r"Column 'd' has no category \[None\]"):
        encoder.category_codes("d", [None])  # d had no missing values
    with pytest.raises(ValueError, match="'n' is numeric, not one of the categorical columns"):
        encoder.category_codes("n", [1])
    with pytest.raises(ValueError, match="'q' is not a column"):
        encoder.category_codes("q", [1])
