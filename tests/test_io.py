"""skdeep.save / skdeep.load: exact round trips, no pickle, refusal of foreign files."""

import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import save_file
from skorch.callbacks import EpochTimer

import skdeep
import skdeep._base
import skdeep._training
from skdeep import DeepMLPClassifier, DeepMLPRegressor, ModelFileError

FAST = dict(hidden_layer_sizes=(16, 8), learning_rate=1e-2, max_epochs=5, random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(120, 4)), columns=["age", "income", "x", "y"])
    labels = np.where(X["age"] + X["x"] > 0, "yes", "no")
    return X, labels


@pytest.fixture
def saved(data, tmp_path):
    X, y = data
    clf = DeepMLPClassifier(**FAST, batch_norm=True, dropout=0.1, class_weight={"yes": 2.0}).fit(
        X, y
    )
    path = tmp_path / "clf.skdeep"
    skdeep.save(clf, path)
    return clf, path


def test_classifier_round_trip_predicts_identically(data, saved):
    X, _ = data
    clf, path = saved
    loaded = skdeep.load(path)
    assert type(loaded) is DeepMLPClassifier
    assert loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    np.testing.assert_array_equal(loaded.feature_names_in_, clf.feature_names_in_)
    assert loaded.history_ == clf.history_ and loaded.n_iter_ == clf.n_iter_
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    with pytest.raises(ValueError, match="Feature names"):
        loaded.predict(X.rename(columns={"age": "AGE"}))


def test_training_resumes_exactly_after_loading(data, saved):
    X, y = data
    clf, path = saved
    loaded = skdeep.load(path)
    for model in (clf, loaded):
        model.partial_fit(X, y)
        model.partial_fit(X, y)
    assert loaded.n_iter_ == clf.n_iter_
    # same weights, optimiser moments and RNG stream: bit-identical continuation
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_regressor_multioutput_round_trip(tmp_path):
    rng = np.random.RandomState(1)
    X, Y = rng.normal(size=(60, 3)), rng.normal(size=(60, 2))
    reg = DeepMLPRegressor(**FAST).fit(X, Y)
    skdeep.save(reg, tmp_path / "reg.skdeep")
    np.testing.assert_array_equal(skdeep.load(tmp_path / "reg.skdeep").predict(X), reg.predict(X))


def test_loading_never_unpickles(saved, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle used while loading")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    skdeep.load(saved[1])


def test_tampered_weights_are_refused(saved):
    _, path = saved
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0xFF  # the last bytes are tensor data
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="modified after it was saved"):
        skdeep.load(path)


def test_tampered_header_is_refused(saved):
    _, path = saved
    raw = path.read_bytes()
    # Swap the stored class labels inside the JSON header, keeping its length.
    tampered = raw.replace(b'\\"yes\\"', b'\\"yez\\"', 1)
    assert tampered != raw
    path.write_bytes(tampered)
    with pytest.raises(ModelFileError, match="modified after it was saved"):
        skdeep.load(path)


def test_foreign_files_are_refused(tmp_path):
    junk = tmp_path / "junk.skdeep"
    junk.write_bytes(b"definitely not a model")
    with pytest.raises(ModelFileError, match="is not a skdeep model file"):
        skdeep.load(junk)
    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(plain))
    with pytest.raises(ModelFileError, match="not a skdeep model"):
        skdeep.load(plain)
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ModelFileError):
        skdeep.load(pickled)
    with pytest.raises(FileNotFoundError):
        skdeep.load(tmp_path / "missing.skdeep")


def test_unknown_estimator_class_is_refused(saved, tmp_path):
    from safetensors import safe_open

    from skdeep.io import _digest

    with safe_open(str(saved[1]), framework="pt") as f:
        meta, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    header = json.loads(meta["skdeep"])
    header["estimator"] = "os.system"
    header_json = json.dumps(header, sort_keys=True)
    path = tmp_path / "evil.skdeep"
    save_file(
        tensors,
        str(path),
        metadata={"skdeep": header_json, "skdeep_sha256": _digest(header_json, tensors)},
    )
    with pytest.raises(ModelFileError, match="'os.system', which this skdeep"):
        skdeep.load(path)


def test_unsaveable_parameters_warn_and_fall_back(data, tmp_path):
    X, y = data
    clf = DeepMLPClassifier(
        **dict(FAST, random_state=np.random.RandomState(0), callbacks=[EpochTimer()])
    ).fit(X, y)
    with pytest.warns(UserWarning) as record:
        skdeep.save(clf, tmp_path / "m.skdeep")
    messages = " ".join(str(w.message) for w in record)
    assert "callbacks=" in messages and "random_state=RandomState" in messages
    assert "cannot be saved without pickle" in messages
    loaded = skdeep.load(tmp_path / "m.skdeep")
    assert loaded.callbacks is None and loaded.random_state is None
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_cuda_saved_model_loads_on_cpu(data, saved, tmp_path):
    """The mechanism: a file whose device parameter says CUDA loads here on the CPU."""
    X, _ = data
    clf, _ = saved
    clf.set_params(device="cuda")  # as if it had been trained on a GPU
    skdeep.save(clf, tmp_path / "gpu.skdeep")
    if torch.cuda.is_available():
        loaded = skdeep.load(tmp_path / "gpu.skdeep")
        assert next(loaded.module_.parameters()).is_cuda
    else:
        with pytest.warns(UserWarning, match="loading it on the CPU"):
            loaded = skdeep.load(tmp_path / "gpu.skdeep")
        assert loaded.device == "cpu"
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), rtol=1e-6)
    explicit = skdeep.load(tmp_path / "gpu.skdeep", device="cpu")
    assert next(explicit.module_.parameters()).device.type == "cpu"


def test_save_refuses_unfitted_and_foreign_estimators(tmp_path):
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(NotFittedError):
        skdeep.save(DeepMLPClassifier(), tmp_path / "x.skdeep")
    with pytest.raises(TypeError, match="takes a skdeep estimator, got LogisticRegression"):
        skdeep.save(LogisticRegression(), tmp_path / "x.skdeep")
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    with pytest.raises(TypeError, match=r"got Pipeline\. Save the skdeep step .* pipe\[-1\]"):
        skdeep.save(make_pipeline(DeepMLPClassifier()), tmp_path / "x.skdeep")
    search = GridSearchCV(DeepMLPClassifier(), {"alpha": [1e-4]})
    search.best_estimator_ = DeepMLPClassifier()  # as after fit; save looks no further
    with pytest.raises(TypeError, match=r"search\.best_estimator_"):
        skdeep.save(search, tmp_path / "x.skdeep")


def rewrite_header(path, out, change):
    """A copy of the model file at ``path`` with its JSON header changed and re-signed."""
    from safetensors import safe_open

    from skdeep.io import _digest

    with safe_open(str(path), framework="pt") as f:
        meta, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    header = json.loads(meta["skdeep"])
    change(header)
    header_json = json.dumps(header, sort_keys=True)
    save_file(
        tensors,
        str(out),
        metadata={"skdeep": header_json, "skdeep_sha256": _digest(header_json, tensors)},
    )
    return out


def test_a_file_from_another_version_loads_with_a_warning(data, saved, tmp_path):
    X, _ = data
    clf, path = saved

    def older(header):
        header["skdeep_version"] = "0.0.1"

    other = rewrite_header(path, tmp_path / "old.skdeep", older)
    with pytest.warns(skdeep.InconsistentVersionWarning, match="saved by skdeep 0.0.1") as w:
        loaded = skdeep.load(other)
    assert w[0].message.original_version == "0.0.1"
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    with warnings.catch_warnings():
        warnings.simplefilter("error", skdeep.InconsistentVersionWarning)
        skdeep.load(path)  # the same version: silent


def test_an_unknown_parameter_is_refused_naming_both_versions(saved, tmp_path):
    _, path = saved

    def newer(header):
        header["skdeep_version"] = "9.0"
        header["params"]["__dict__"]["flash_attention"] = True

    other = rewrite_header(path, tmp_path / "new.skdeep", newer)
    with (
        pytest.warns(skdeep.InconsistentVersionWarning),
        pytest.raises(ModelFileError, match=r"\['flash_attention'\] that skdeep .* skdeep 9.0"),
    ):
        skdeep.load(other)


def test_a_renamed_parameter_of_an_older_file_is_mapped(tmp_path):
    from skdeep import LSTMTextClassifier

    X, y = ["good film", "bad film", "great", "awful"] * 3, ["p", "n", "p", "n"] * 3
    clf = LSTMTextClassifier(embedding_dim=4, hidden_size=4, max_epochs=1, random_state=0)
    clf.fit(X, y)
    skdeep.save(clf, tmp_path / "text.skdeep")

    def rename(header):
        params = header["params"]["__dict__"]
        params["num_layers"] = params.pop("n_layers")

    old = rewrite_header(tmp_path / "text.skdeep", tmp_path / "old.skdeep", rename)
    np.testing.assert_array_equal(skdeep.load(old).predict_proba(X), clf.predict_proba(X))


class _TwoModuleNet(skdeep._training.TrainingNet):
    """A net with a second module and optimiser, as a GAN has (a critic beside the model)."""

    def initialize_module(self):
        super().initialize_module()
        self.critic_ = torch.nn.Linear(3, 1)
        return self

    def initialize_optimizer(self, *args, **kwargs):
        super().initialize_optimizer(*args, **kwargs)
        self.critic_optimizer_ = torch.optim.Adam(self.critic_.parameters(), lr=1e-3)
        return self

    def train_step(self, batch, **fit_params):
        step = super().train_step(batch, **fit_params)
        loss = self.critic_(torch.ones(2, 3)).pow(2).mean()
        self.critic_optimizer_.zero_grad()
        loss.backward()
        self.critic_optimizer_.step()
        return step


class _TwoModuleRegressor(DeepMLPRegressor):
    _net_class = _TwoModuleNet


def test_every_registered_module_and_optimizer_is_saved(tmp_path, monkeypatch):
    monkeypatch.setitem(
        skdeep._base.DeepEstimator.registry, "test_io._TwoModuleRegressor", _TwoModuleRegressor
    )
    monkeypatch.setattr(_TwoModuleRegressor, "__module__", "test_io")
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=40)
    reg = _TwoModuleRegressor(**FAST).fit(X, y)
    assert reg.net_._modules == ["module", "critic"]
    assert reg.net_._optimizers == ["optimizer", "critic_optimizer"]
    skdeep.save(reg, tmp_path / "two.skdeep")
    loaded = skdeep.load(tmp_path / "two.skdeep")
    for name in ("module_", "critic_"):
        for key, value in getattr(reg.net_, name).state_dict().items():
            assert torch.equal(getattr(loaded.net_, name).state_dict()[key], value), key
    saved = reg.net_.critic_optimizer_.state_dict()["state"]
    restored = loaded.net_.critic_optimizer_.state_dict()["state"]
    assert saved.keys() == restored.keys() and saved
    for index in saved:
        assert torch.equal(saved[index]["exp_avg"], restored[index]["exp_avg"])
