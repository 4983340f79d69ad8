"""Data-parallel training (skdeep.distributed): 2 CPU processes with the gloo backend.

One Accelerate ``debug_launcher`` run (two forked processes, as ``accelerate launch
--num_processes 2`` would start them) fits every scenario; each process writes what it saw
to a file, and the tests compare the processes with each other and with fits in this
single process. Skipped where Accelerate is not installed.
"""

import os
import pickle
import threading
import warnings

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

import skdeep
from skdeep import DeepMLPClassifier, LSTMTextClassifier
from skdeep.distributed import _launched, _n_rows, _rows, data_parallel, session_for

accelerate = pytest.importorskip(
    "accelerate",
    reason="data-parallel training needs accelerate: pip install 'skdeep[accelerate]'",
)

WORLD = 2
# The MLP of the tests: no dropout, so that one process and two run the same arithmetic
# (up to the order of float sums): each batch's gradient is the mean over all its rows.
# Every parameter that matters is given: the tests must not move with the defaults.
MLP = dict(
    hidden_layer_sizes=(16,),
    learning_rate=1e-2,
    batch_size=64,
    dropout=0.0,
    alpha=1e-4,
    early_stopping=False,
    random_state=0,
)
EPOCHS = 6


def classification():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(301, 5))  # 301: the last batch of 45 splits unevenly (23 + 22)
    y = (X[:, 0] + X[:, 1] ** 2 - X[:, 2] > 0.5).astype(int)
    return X, y


def texts():
    rng = np.random.RandomState(0)
    good, bad = ["good", "great", "fine"], ["bad", "awful", "poor"]
    y = rng.randint(0, 2, 120)
    X = [" ".join(rng.choice(good if label else bad, 4)) + " movie" for label in y]
    return X, y


class RowRecorder(Callback):
    """Records the input rows of every training batch this process trained on."""

    def on_train_begin(self, net, **kwargs):
        self.epochs_ = []

    def on_epoch_begin(self, net, **kwargs):
        self.epochs_.append([])

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if training:
            self.epochs_[-1].append(batch[0].numpy().copy())


def _rank_work(out_dir):
    """What each launched process runs: every scenario, results to ``out_dir``."""
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    X, y = classification()
    result = {}

    # 1. A plain fit(X, y): data-parallel because the process was launched.
    clf = DeepMLPClassifier(**MLP, max_epochs=EPOCHS, callbacks=[RowRecorder()]).fit(X, y)
    rank = torch.distributed.get_rank()
    recorder = next(cb for _, cb in clf.net_.callbacks_ if isinstance(cb, RowRecorder))
    result["rows"] = recorder.epochs_
    result["history"] = clf.history_
    result["state"] = {k: v.clone() for k, v in clf.module_.state_dict().items()}
    result["proba"] = clf.predict_proba(X)
    result["net_class"] = type(clf.net_).__name__
    skdeep.save(clf, os.path.join(out_dir, f"model-{rank}.skdeep"))
    result["pickle"] = pickle.dumps(clf)

    # 2. A continuation (partial_fit) stays data-parallel and in step.
    clf.partial_fit(X, y)
    result["continued"] = {k: v.clone() for k, v in clf.module_.state_dict().items()}

    # 3. Early stopping: every process stops at the same epoch.
    # random_state=None: the main process's seed is used everywhere (the same split).
    early = {**MLP, "random_state": None, "early_stopping": True, "dropout": 0.2}
    stopper = DeepMLPClassifier(
        **early, max_epochs=60, n_iter_no_change=3, callbacks=[RowRecorder()]
    ).fit(X, y)
    recorder = next(cb for _, cb in stopper.net_.callbacks_ if isinstance(cb, RowRecorder))
    result["early"] = (stopper.n_iter_, stopper.history_, recorder.epochs_[-1])

    # 4. Switched off: each process trains its own model alone.
    with data_parallel(False):
        alone = DeepMLPClassifier(**MLP, max_epochs=EPOCHS).fit(X, y)
    result["alone"] = alone.predict_proba(X)

    # 5. Another family through the same base: the text classifier.
    T, z = texts()
    text = LSTMTextClassifier(
        embedding_dim=8,
        hidden_size=8,
        dropout=0.0,
        learning_rate=2e-2,
        batch_size=16,
        max_epochs=8,
        early_stopping=False,
    ).fit(T, z)
    result["text"] = (
        {k: v.clone() for k, v in text.module_.state_dict().items()},
        text.score(T, z),
    )

    # 6. A loss that overflows in one process's slice only (one huge row): the batch's
    # loss is the processes' mean, so every process raises at the same batch.
    X_big = X.copy()
    X_big[7] = 3e38
    try:
        DeepMLPClassifier(**MLP, max_epochs=3).fit(X_big, y)
    except skdeep.TrainingDivergedError as exc:
        result["diverged"] = str(exc)

    # 7. What is refused, with errors every process raises alike (no deadlock).
    try:
        DeepMLPClassifier(**MLP, max_epochs=2).fit(X[: 100 + 10 * rank], y[: 100 + 10 * rank])
    except ValueError as exc:
        result["unequal_data"] = str(exc)
    try:
        skdeep.GANSampler(generator_dim=(8,), discriminator_dim=(8,), max_epochs=1).fit(
            __import__("pandas").DataFrame({"a": X[:, 0]})
        )
    except ValueError as exc:
        result["gan"] = str(exc)

    with open(os.path.join(out_dir, f"rank-{rank}.pkl"), "wb") as f:
        pickle.dump(result, f)


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("data_parallel")
    accelerate.debug_launcher(_rank_work, args=(str(out_dir),), num_processes=WORLD)
    results = []
    for rank in range(WORLD):
        with open(out_dir / f"rank-{rank}.pkl", "rb") as f:
            results.append(pickle.load(f))
    return out_dir, results


@pytest.fixture(scope="module")
def one_process():
    X, y = classification()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DeepMLPClassifier(**MLP, max_epochs=EPOCHS).fit(X, y)


def test_each_process_sees_its_share_of_every_batch(ranks):
    _, results = ranks
    X, _ = classification()
    index = {row.astype(np.float32).tobytes(): i for i, row in enumerate(X)}
    n_epochs = len(results[0]["rows"])
    assert n_epochs == EPOCHS
    for epoch in range(n_epochs):
        batches = [r["rows"][epoch] for r in results]
        assert len({len(b) for b in batches}) == 1  # the same number of steps everywhere
        seen = []
        for step in zip(*batches, strict=True):
            sizes = [len(part) for part in step]
            assert max(sizes) - min(sizes) <= 1  # an even split of the batch's rows
            assert sum(sizes) in (64, 301 % 64)
            seen.extend(index[row.tobytes()] for part in step for row in part)
        # Together the processes trained on every row once per epoch.
        assert sorted(seen) == list(range(len(X)))
    # and each on a different half
    first = [{index[r.tobytes()] for b in res["rows"][0] for r in b} for res in results]
    assert not first[0] & first[1]


def test_parameters_identical_across_processes(ranks):
    _, (r0, r1) = ranks
    for key in ("state", "continued"):
        assert r0[key].keys() == r1[key].keys()
        for name in r0[key]:
            assert torch.equal(r0[key][name], r1[key][name]), (key, name)
    assert r0["history"] == r1["history"]
    np.testing.assert_array_equal(r0["proba"], r1["proba"])
    # after the fit the net is the family's own class again, not the wrapped one
    assert r0["net_class"] == "TrainingNet"


def test_same_training_as_one_process(ranks, one_process):
    """Same batches, each batch's gradient the mean over its rows: the two-process fit
    follows the one-process fit up to float rounding."""
    _, (r0, _) = ranks
    X, y = classification()
    losses_2 = [row["train_loss"] for row in r0["history"]]
    losses_1 = [row["train_loss"] for row in one_process.history_]
    np.testing.assert_allclose(losses_2, losses_1, rtol=1e-3)
    accuracy_2 = np.mean(r0["proba"].argmax(1) == y)
    accuracy_1 = one_process.score(X, y)
    assert accuracy_1 > 0.8  # it learned something
    assert abs(accuracy_2 - accuracy_1) <= 0.01
    np.testing.assert_allclose(r0["proba"], one_process.predict_proba(X), atol=1e-3)


def test_early_stopping_stops_every_process_at_the_same_epoch(ranks):
    _, (r0, r1) = ranks
    (n0, history0, rows0), (n1, history1, rows1) = r0["early"], r1["early"]
    assert n0 == n1 < 60
    assert history0 == history1  # the same validation scores, the same best epoch
    assert "valid_loss" in history0[-1] and "best_epoch" in history0[-1]
    # One validation split for all (random_state=None: the main process's seed): in its
    # last epoch, the processes trained on the 270 training rows once, between them.
    X, _ = classification()
    index = {row.astype(np.float32).tobytes(): i for i, row in enumerate(X)}
    seen = [index[row.tobytes()] for batches in (rows0, rows1) for b in batches for row in b]
    assert len(seen) == len(set(seen)) == len(X) - 31


def test_saved_model_loads_in_one_process(ranks):
    out_dir, (r0, r1) = ranks
    X, _ = classification()
    # written once, by the main process
    assert sorted(p.name for p in out_dir.glob("*.skdeep")) == ["model-0.skdeep"]
    loaded = skdeep.load(out_dir / "model-0.skdeep")
    np.testing.assert_array_equal(loaded.predict_proba(X), r0["proba"])
    unpickled = pickle.loads(r1["pickle"])
    np.testing.assert_array_equal(unpickled.predict_proba(X), r1["proba"])
    with pytest.warns(UserWarning, match="callbacks"):  # the test's recorder
        skdeep.save(unpickled, out_dir / "from-pickle.skdeep")  # in this process: writes
    assert (out_dir / "from-pickle.skdeep").exists()


def test_switched_off_each_process_trains_alone(ranks, one_process):
    _, (r0, r1) = ranks
    X, _ = classification()
    expected = one_process.predict_proba(X)
    np.testing.assert_array_equal(r0["alone"], expected)
    np.testing.assert_array_equal(r1["alone"], expected)


def test_text_classifier_trains_data_parallel(ranks):
    _, (r0, r1) = ranks
    (state0, score0), (state1, score1) = r0["text"], r1["text"]
    for name in state0:
        assert torch.equal(state0[name], state1[name]), name
    assert score0 == score1 > 0.9


def test_divergence_stops_every_process_at_the_same_batch(ranks):
    _, (r0, r1) = ranks
    assert "training diverged" in r0["diverged"]
    assert r0["diverged"] == r1["diverged"]  # the same epoch and batch


def test_refused_with_the_same_error_in_every_process(ranks):
    _, (r0, r1) = ranks
    for result in (r0, r1):
        assert "same data in every process" in result["unequal_data"]
        assert "[100, 110] rows" in result["unequal_data"]
        assert "GANSampler runs its own training step" in result["gan"]
        assert "data_parallel(False)" in result["gan"]


# --- in one process: no launcher -----------------------------------------------------


def test_one_process_is_not_data_parallel(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not _launched()
    assert session_for(DeepMLPClassifier()) is None
    with data_parallel(True):  # nothing to share the work with: an ordinary fit
        assert session_for(DeepMLPClassifier()) is None


def test_launched_ranks_only(monkeypatch):
    """Worker processes a launched rank starts (joblib, Dask) inherit WORLD_SIZE but are
    not ranks; nor is another thread of a rank."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("SKDEEP_DATA_PARALLEL_PID", str(os.getpid()))
    assert _launched()
    seen = []
    thread = threading.Thread(target=lambda: seen.append(_launched()))
    thread.start()
    thread.join()
    assert seen == [False]
    monkeypatch.setenv("SKDEEP_DATA_PARALLEL_PID", str(os.getpid() + 1))  # the parent's
    assert not _launched()
    with data_parallel(False):
        assert session_for(DeepMLPClassifier()) is None


def test_data_parallel_arguments():
    with (
        pytest.raises(ValueError, match="enabled must be True, False or 'auto'"),
        data_parallel("yes"),
    ):
        pass

    class Placing:
        device_placement = True

    placing = data_parallel(accelerator=Placing())
    with pytest.raises(ValueError, match="device_placement=False"), placing:
        pass


def test_batch_slices():
    X = {"ids": torch.arange(10).reshape(5, 2), "lengths": torch.arange(5)}
    y = (torch.arange(5), torch.ones(5))
    assert _n_rows((X, y)) == 5
    part_X, part_y = _rows((X, y), 1, 3)
    assert part_X["ids"].tolist() == [[2, 3], [4, 5]]
    assert part_y[0].tolist() == [1, 2] and part_y[1].tolist() == [1.0, 1.0]
    assert _rows((torch.zeros(4, 3), None), 0, 2)[1] is None
