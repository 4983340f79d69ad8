"""GANSampler: what is particular to the GAN family (the shared contract is in test_common)."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

import skdeep
import skdeep.gan as gan_module
from skdeep.gan import GANSampler
from skdeep.metrics import similarity_score

TINY = dict(
    generator_dim=(16,),
    discriminator_dim=(16,),
    embedding_dim=8,
    pac=5,
    batch_size=50,
    max_epochs=2,
    random_state=0,
)


def table(n=200, seed=0):
    rng = np.random.default_rng(seed)
    pet = rng.choice(["cat", "dog", "fish"], n, p=[0.6, 0.3, 0.1])
    weight = np.where(pet == "fish", 0.1, np.where(pet == "cat", 4.0, 20.0))
    return pd.DataFrame(
        {
            "age": rng.integers(1, 15, n).astype(np.int32),
            "weight": weight * rng.lognormal(0, 0.1, n),
            "pet": pd.Categorical(pet, categories=["cat", "dog", "fish", "bird"]),
            "owner": pd.Series(rng.choice(["ann", "bob", None], n), dtype=object),
            "indoor": rng.random(n) < 0.5,
        }
    )


@pytest.fixture(scope="module")
def fitted():
    return GANSampler(**TINY).fit(table())


def test_sample_is_a_frame_like_the_training_one(fitted):
    df = table()
    rows = fitted.sample(300, random_state=0)
    assert isinstance(rows, pd.DataFrame) and isinstance(rows.index, pd.RangeIndex)
    assert list(rows.columns) == list(df.columns) and rows.dtypes.equals(df.dtypes)
    assert rows["pet"].cat.categories.tolist() == ["cat", "dog", "fish", "bird"]
    assert rows["age"].between(df["age"].min(), df["age"].max()).all()
    assert rows["weight"].between(df["weight"].min(), df["weight"].max()).all()
    assert set(rows["owner"]) <= {"ann", "bob", None}
    assert len(fitted.sample(random_state=0)) == 1


def test_history_has_both_losses_and_all_epochs():
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        gan = GANSampler(**{**TINY, "max_epochs": 3}).fit(table())
    # a GAN's losses never settle: it runs every epoch, and no ConvergenceWarning says so
    assert not [w for w in record if issubclass(w.category, ConvergenceWarning)]
    assert gan.n_iter_ == 3 and len(gan.history_) == 3
    for record in gan.history_:
        assert {"generator_loss", "discriminator_loss", "train_loss", "dur"} <= set(record)
        assert record["train_loss"] == record["generator_loss"]
    # both networks and both optimisers are registered with skorch (so saved and loaded)
    assert gan.net_._modules == ["module", "discriminator"]
    assert gan.net_._optimizers == ["optimizer", "optimizer_discriminator"]
    assert isinstance(gan.module_, gan_module.Generator)
    assert isinstance(gan.discriminator_, gan_module.Discriminator)


def test_reproducible_and_isolated():
    np.random.seed(123)
    torch.manual_seed(123)
    state = (np.random.get_state()[1].copy(), torch.get_rng_state().clone())
    a = GANSampler(**TINY).fit(table())
    rows = a.sample(100, random_state=1)
    assert np.array_equal(np.random.get_state()[1], state[0])
    assert torch.equal(torch.get_rng_state(), state[1])
    b = GANSampler(**TINY).fit(table())
    pd.testing.assert_frame_equal(b.sample(100, random_state=1), rows)
    pd.testing.assert_frame_equal(a.sample(100, random_state=1), rows)
    assert not a.sample(100, random_state=2).equals(rows)
    with_conditions = a.sample(50, conditions={"pet": "fish"}, random_state=3)
    pd.testing.assert_frame_equal(
        b.sample(50, conditions={"pet": "fish"}, random_state=3), with_conditions
    )


def test_conditions_are_guaranteed(fitted):
    rows, draws = fitted.sample(
        120, conditions={"pet": "fish", "indoor": True}, random_state=0, return_n_draws=True
    )
    assert len(rows) == 120 and draws >= 120
    assert (rows["pet"] == "fish").all() and rows["indoor"].all()
    assert rows.dtypes.equals(table().dtypes)
    missing_owner = fitted.sample(30, conditions={"owner": None}, random_state=0)
    assert missing_owner["owner"].isna().all()
    # a DataFrame: one row of conditions per wanted row, in order; a missing cell is free
    wanted = pd.DataFrame(
        {
            "pet": ["dog", "cat", None, "dog", "fish"],
            "owner": ["ann", None, "bob", "ann", None],
        }
    )
    rows = fitted.sample(conditions=wanted, random_state=0)
    assert len(rows) == 5
    for i, row in wanted.iterrows():
        for name, value in row.items():
            if pd.notna(value):
                assert rows.loc[i, name] == value, (i, name)
    _, draws = fitted.sample(40, random_state=0, return_n_draws=True)
    assert draws == 40


def test_bad_conditions_are_named(fitted):
    with pytest.raises(ValueError, match=r"unknown columns \['colour'\]"):
        fitted.sample(5, conditions={"colour": "red"})
    with pytest.raises(ValueError, match=r"numeric columns \['age'\]; only discrete columns"):
        fitted.sample(5, conditions={"age": 3})
    with pytest.raises(ValueError, match=r"Column 'pet' has no category \['horse'\]"):
        fitted.sample(5, conditions={"pet": "horse"})
    with pytest.raises(ValueError, match=r"Column 'pet' has no category \[None\]"):
        fitted.sample(5, conditions={"pet": None})  # pet had no missing values
    with pytest.raises(ValueError, match="n_samples=3 but conditions has 2 rows"):
        fitted.sample(3, conditions=pd.DataFrame({"pet": ["cat", "dog"]}))
    with pytest.raises(ValueError, match="conditions is empty"):
        fitted.sample(3, conditions={})
    with pytest.raises(TypeError, match="conditions must be a dict or a DataFrame, got list"):
        fitted.sample(3, conditions=[("pet", "cat")])
    with pytest.raises(ValueError, match="n_samples must be an int >= 1, got 0"):
        fitted.sample(0)
    numeric = GANSampler(**TINY).fit(np.random.default_rng(0).normal(size=(60, 2)))
    with pytest.raises(ValueError, match="conditions need discrete columns"):
        numeric.sample(3, conditions={0: 1.0})


def test_conditions_out_of_reach_give_up(fitted, monkeypatch):
    # the bound on draws, made tiny: no row can be drawn before giving up
    monkeypatch.setattr(gan_module, "MAX_DRAWS_PER_ROW", 0)
    with pytest.raises(
        ValueError, match=r"Only 0 of 10 rows met the conditions \{'pet': 'bird'\} after 0"
    ):
        fitted.sample(10, conditions={"pet": "bird"}, random_state=0)


def test_sampling_in_chunks(fitted, monkeypatch):
    monkeypatch.setattr(gan_module, "SAMPLE_ROWS", 7)
    rows = fitted.sample(50, random_state=0)
    assert len(rows) == 50 and rows.dtypes.equals(table().dtypes)
    rows = fitted.sample(20, conditions={"pet": "dog"}, random_state=0)
    assert len(rows) == 20 and (rows["pet"] == "dog").all()


def test_bad_input_is_handled_or_named():
    df = table(100)
    with pytest.raises(ValueError, match="0 sample"):
        GANSampler(**TINY).fit(df.iloc[:0])
    with pytest.raises(TypeError, match="Column 'mixed' mixes values that cannot be sorted"):
        GANSampler(**TINY).fit(df.assign(mixed=pd.Series(["a", 1] * 50, dtype=object)))
    with pytest.raises(
        ValueError, match=r"Column 'weight' has 1 infinite values \(first at row 3"
    ):
        GANSampler(**TINY).fit(df.assign(weight=df["weight"].where(df.index != 3, np.inf)))
    # documented handling: an all-missing column comes back all missing, a constant column
    # constant, a category with a single row is a category like any other, missing numbers
    # are a component of their own
    odd = df.assign(
        empty=np.nan,
        constant=7,
        rare=pd.Categorical(["x"] * 99 + ["y"]),
        gappy=df["weight"].where(df.index % 3 != 0),
    )
    gan = GANSampler(**TINY).fit(odd)
    rows = gan.sample(200, random_state=0)
    assert rows.dtypes.equals(odd.dtypes)
    assert rows["empty"].isna().all() and (rows["constant"] == 7).all()
    assert set(rows["rare"]) <= {"x", "y"}
    assert (gan.sample(5, conditions={"rare": "y"}, random_state=0)["rare"] == "y").all()
    modes = dict(zip(gan.encoder_.numeric_columns_, gan.encoder_.numeric_modes_, strict=True))
    assert modes["gappy"].has_missing


def test_parameters_are_checked():
    with pytest.raises(ValueError, match=r"'batch_size' parameter .* a multiple of pac=5"):
        GANSampler(**{**TINY, "batch_size": 52}).fit(table())
    with pytest.raises(ValueError, match="'generator_dim' parameter of GANSampler must be"):
        GANSampler(**{**TINY, "generator_dim": (16, 0)}).fit(table())
    with pytest.raises(ValueError, match="'pac' parameter of GANSampler must be"):
        GANSampler(**{**TINY, "pac": 0}).fit(table())
    with pytest.raises(ValueError, match="'gradient_penalty' parameter of GANSampler must be"):
        GANSampler(**{**TINY, "gradient_penalty": -1.0}).fit(table())
    with pytest.raises(ValueError, match="categorical_columns names 'nope'"):
        GANSampler(**{**TINY, "discrete_columns": ["nope"]}).fit(table())


def test_arrays_in_arrays_out():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=100), rng.integers(0, 3, 100)])
    gan = GANSampler(**{**TINY, "discrete_columns": [1]}).fit(X)
    rows = gan.sample(40, random_state=0)
    assert isinstance(rows, np.ndarray) and rows.shape == (40, 2) and rows.dtype == X.dtype
    assert set(np.unique(rows[:, 1])) <= {0.0, 1.0, 2.0}
    assert (gan.sample(10, conditions={1: 2.0}, random_state=0)[:, 1] == 2.0).all()
    assert gan.n_features_in_ == 2 and not hasattr(gan, "feature_names_in_")


def test_save_load_keeps_both_networks(fitted, tmp_path):
    path = tmp_path / "gan.skdeep"
    skdeep.save(fitted, path)
    loaded = skdeep.load(path)
    for a, b in (
        (fitted.module_, loaded.module_),
        (fitted.discriminator_, loaded.discriminator_),
    ):
        for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
            assert torch.equal(x, y), name
    for name in ("optimizer_", "optimizer_discriminator_"):
        assert getattr(loaded.net_, name).state_dict()["state"]  # Adam moments restored
    pd.testing.assert_frame_equal(
        loaded.sample(50, random_state=0), fitted.sample(50, random_state=0)
    )
    pd.testing.assert_frame_equal(
        loaded.sample(20, conditions={"pet": "dog"}, random_state=0),
        fitted.sample(20, conditions={"pet": "dog"}, random_state=0),
    )


def test_warm_start_continues():
    gan = GANSampler(**{**TINY, "warm_start": True}).fit(table())
    generator = gan.module_
    gan.set_params(discriminator_lr=1e-3).fit(table())
    assert gan.n_iter_ == 4 and gan.module_ is generator
    assert gan.net_.optimizer_discriminator_.param_groups[0]["lr"] == 1e-3


def test_progress_shows_both_losses(capsys):
    GANSampler(**{**TINY, "verbose": 2}).fit(table())
    err = capsys.readouterr().err
    assert "generator_loss=" in err and "discriminator_loss=" in err


def test_the_marginals_are_learned():
    df = table(600)
    params = dict(TINY, generator_dim=(64,), discriminator_dim=(64,), embedding_dim=16)
    params.update(batch_size=100, max_epochs=30)
    trained = GANSampler(**params).fit(df).sample(2000, random_state=0)
    untrained = GANSampler(**{**params, "max_epochs": 1}).fit(df).sample(2000, random_state=0)
    # 1 - mean KS / TV distance: measured 0.90 after 30 epochs, 0.84 after 1
    assert similarity_score(df, trained) > similarity_score(df, untrained) + 0.03
