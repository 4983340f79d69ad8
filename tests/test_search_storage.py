"""Storage, resume and parallel trials: a journal file, PostgreSQL, worker processes.

The PostgreSQL tests start their own server (``initdb`` / ``pg_ctl`` from the system's
PostgreSQL, as an unprivileged user, on a unix socket in a temporary folder) and remove it
at the end; they are skipped where PostgreSQL or psycopg is not installed.
"""

import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings

import _search_helpers as helpers
import joblib
import numpy as np
import optuna
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skdeep import DeepMLPClassifier
from skdeep.search import FloatDistribution, OptunaSearchCV
from skdeep.search._storage import WORKER_ATTR

COMPLETE, FAIL = optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL


@pytest.fixture(autouse=True)
def _quiet_and_one_thread():
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=120, n_features=5, n_informative=3, random_state=0)


SPACE = {"deepmlpclassifier__learning_rate": FloatDistribution(1e-3, 1e-1, log=True)}


def search(max_epochs=5, space=SPACE, **kwargs):
    pipe = make_pipeline(
        StandardScaler(),
        DeepMLPClassifier(hidden_layer_sizes=(8,), max_epochs=max_epochs, random_state=0),
    )
    return OptunaSearchCV(pipe, space, **{"n_trials": 2, "cv": 2, "random_state": 0, **kwargs})


def pids(study):
    return [t.user_attrs[WORKER_ATTR]["pid"] for t in study.trials]


# --- a journal file ---------------------------------------------------------------------


def test_a_journal_file_resumes_the_study(data, tmp_path):
    X, y = data
    path = tmp_path / "study.log"
    first = search(storage=str(path), study_name="mlp").fit(X, y)
    again = search(storage=path, study_name="mlp").fit(X, y)  # a path-like works too
    # n_trials counts new trials; the earlier ones are kept, in cv_results_ too.
    assert len(again.study_.trials) == 4
    np.testing.assert_array_equal(again.cv_results_["trial_number"], [0, 1, 2, 3])
    assert again.cv_results_["params"][:2] == first.cv_results_["params"]
    np.testing.assert_array_equal(
        again.cv_results_["mean_test_score"][:2], first.cv_results_["mean_test_score"]
    )
    # The resumed run drew new candidates, not the first run's again.
    assert again.cv_results_["params"][2] not in first.cv_results_["params"]
    assert again.best_score_ == np.max(again.cv_results_["mean_test_score"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(space={"deepmlpclassifier__alpha": [1e-4]}), r"the search space \(deepmlp"),
        (dict(max_epochs=6), r"estimator\.steps\[1\]\[1\]\.max_epochs: 5 before, 6 now"),
        (dict(scoring="roc_auc"), "the scoring"),
        (dict(cv=3), "the data, fit parameters or CV folds"),
    ],
)
def test_a_study_created_for_another_search_is_refused(data, tmp_path, change, message):
    X, y = data
    path = str(tmp_path / "study.log")
    search(storage=path, study_name="mlp", n_trials=1).fit(X, y)
    with pytest.raises(
        ValueError, match=rf"study_name='mlp' in storage=.* another search.*{message}"
    ):
        search(storage=path, study_name="mlp", n_trials=1, **change).fit(X, y)
    # Nothing was added to it.
    assert len(optuna.load_study(study_name="mlp", storage=_journal(path)).trials) == 1


def test_a_study_not_made_by_the_search_is_refused(data, tmp_path):
    X, y = data
    path = str(tmp_path / "study.log")
    other = optuna.create_study(study_name="mine", storage=_journal(path), direction="maximize")
    other.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    with pytest.raises(ValueError, match="already has 1 trials that OptunaSearchCV did not make"):
        search(storage=path, study_name="mine").fit(X, y)
    optuna.create_study(study_name="empty", storage=_journal(path), direction="maximize")
    assert len(search(storage=path, study_name="empty").fit(X, y).study_.trials) == 2


def _journal(path):
    from skdeep.search._storage import JournalFileBackend  # by its Optuna 3.x name there

    return optuna.storages.JournalStorage(JournalFileBackend(path))


def test_parallel_trials_share_the_study(data, tmp_path):
    # The parallel path (tasks, shared storage, progress, the temporary journal of an
    # in-memory study) with joblib's threads, which start at once; worker processes are
    # tested below (slow: each imports torch).
    X, y = data
    path = str(tmp_path / "study.log")
    with joblib.parallel_config(backend="threading"):
        s = search(storage=path, study_name="mlp", n_trials=4, n_jobs=2, verbose=2).fit(X, y)
        assert len(s.study_.trials) == 4 and all(t.state == COMPLETE for t in s.study_.trials)
        assert len(s.cv_results_["params"]) == 4
        before = set(glob.glob(os.path.join(tempfile.gettempdir(), "skdeep-search-*")))
        s = search(n_trials=3, n_jobs=2).fit(X, y)
    assert isinstance(s.study_._storage, optuna.storages.InMemoryStorage)
    assert len(s.cv_results_["params"]) == 3
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "skdeep-search-*"))) == before


@pytest.mark.slow
def test_parallel_trials_in_worker_processes_share_a_journal_file(data, tmp_path):
    X, y = data
    path = str(tmp_path / "study.log")
    s = search(storage=path, study_name="mlp", n_trials=4, n_jobs=2).fit(X, y)
    assert len(s.study_.trials) == 4 and all(t.state == COMPLETE for t in s.study_.trials)
    assert len(s.cv_results_["params"]) == 4
    assert os.getpid() not in pids(s.study_)  # run by worker processes
    # Each worker trains with its share of the cores.
    expected = max(1, (os.cpu_count() or 1) // 2)
    assert {t.user_attrs[WORKER_ATTR]["threads"] for t in s.study_.trials} == {expected}
    # In memory by default: a temporary journal file while the workers run, then removed.
    s = search(n_trials=3, n_jobs=2).fit(X, y)
    assert isinstance(s.study_._storage, optuna.storages.InMemoryStorage)
    assert len(s.cv_results_["params"]) == 3


def _run_helper(storage, study, n_trials, *extra):
    code = "import sys, _search_helpers as h; h.main(sys.argv[1:])"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        "OMP_NUM_THREADS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-c", code, storage, study, str(n_trials), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _kill_when_running(process, storage, study_name, timeout=120):
    """Kill ``process`` (SIGKILL: no cleanup) once its trial is running in the study."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the worker exited early: {process.stdout.read().decode()[-2000:]}")
        try:
            study = optuna.load_study(study_name=study_name, storage=storage)
            if any(t.state == optuna.trial.TrialState.RUNNING for t in study.trials):
                break
        except KeyError:  # not created yet
            pass
        time.sleep(0.2)
    else:
        pytest.fail("the worker never started a trial")
    process.send_signal(signal.SIGKILL)
    process.wait()


def _assert_retried(study):
    killed, retry = study.trials
    assert killed.state == FAIL and retry.state == COMPLETE
    assert retry.system_attrs["failed_trial"] == killed.number
    # Optuna < 4 caches a running trial's parameters in its worker (an RDB storage): a
    # killed worker's never reach the database, and the retry draws new ones.
    if killed.params or int(optuna.__version__.split(".")[0]) >= 4:
        assert retry.params == killed.params


@pytest.mark.slow
def test_a_killed_workers_trial_is_retried_from_a_journal_file(tmp_path):
    path = str(tmp_path / "study.log")
    block = tmp_path / "block"
    block.touch()
    worker = _run_helper(path, "s", 1, str(block))
    _kill_when_running(worker, _journal(path), "s")
    block.unlink()
    # The next search on the study finds the trial of a dead process of this machine
    # still running, fails it and runs its parameters again, as one of its trials.
    s = helpers.search(path, "s", n_trials=1, block=str(block)).fit(*helpers.data())
    _assert_retried(s.study_)
    np.testing.assert_array_equal(s.cv_results_["trial_number"], [1])


# --- bad storages -------------------------------------------------------------------------


def test_a_storage_needs_a_study_name(data, tmp_path):
    X, y = data
    with pytest.raises(ValueError, match="study_name: required with a storage"):
        search(storage=str(tmp_path / "s.log")).fit(X, y)


def test_a_database_that_cannot_be_reached_is_a_clear_error(data, tmp_path):
    X, y = data
    pytest.importorskip("psycopg")
    url = f"postgresql+psycopg://me:secret@/optuna?host={tmp_path}"  # no server there
    with pytest.raises(ValueError, match=r"storage='postgresql\+psycopg://me:\*\*\*@/optuna") as e:
        search(storage=url, study_name="s").fit(X, y)
    assert "cannot connect to the database" in str(e.value) and "secret" not in str(e.value)
    with pytest.raises(ValueError, match="cannot connect"):
        search(storage="postgresql+psycopg://me@127.0.0.1:9/optuna", study_name="s").fit(X, y)


def test_other_bad_storages(data, tmp_path):
    X, y = data
    missing = tmp_path / "no-such-folder" / "s.log"
    with pytest.raises(ValueError, match="the folder .*no-such-folder' does not exist"):
        search(storage=str(missing), study_name="s").fit(X, y)
    assert not missing.parent.exists()  # nothing half-written
    with pytest.raises(ValueError, match="SQLite locks up under several processes"):
        search(storage=f"sqlite:///{tmp_path}/s.db", study_name="s", n_jobs=2).fit(X, y)
    with pytest.raises(ValueError, match="an InMemoryStorage cannot be shared"):
        search(storage=optuna.storages.InMemoryStorage(), study_name="s", n_jobs=2).fit(X, y)


# --- PostgreSQL ---------------------------------------------------------------------------


def _postgres_bin():
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if shutil.which("initdb"):
        folders.append(os.path.dirname(shutil.which("initdb")))
    for folder in folders:
        if all(os.path.exists(os.path.join(folder, tool)) for tool in ("initdb", "pg_ctl")):
            return folder
    return None


@pytest.fixture(scope="module")
def postgres_url():
    """A throwaway PostgreSQL server on a unix socket; its URL."""
    folder = _postgres_bin()
    if folder is None:
        pytest.skip("PostgreSQL is not installed (no initdb / pg_ctl found)")
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install psycopg)")
    as_user = []
    base = tempfile.mkdtemp(prefix="skdeep-pg-")
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        if shutil.which("runuser") is None:
            pytest.skip("running as root and runuser is not available to drop privileges")
        nobody = pwd.getpwnam("nobody")
        os.chown(base, nobody.pw_uid, nobody.pw_gid)
        as_user = ["runuser", "-u", "nobody", "--"]
    data = os.path.join(base, "data")
    run = dict(check=True, capture_output=True, timeout=120)
    pg_ctl = [*as_user, os.path.join(folder, "pg_ctl"), "-D", data, "-w", "-t", "60"]
    started = False
    try:
        subprocess.run(
            [*as_user, os.path.join(folder, "initdb"), "-D", data, "-U", "postgres",
             "-A", "trust", "--no-sync", "-E", "UTF8"],
            **run,
        )  # fmt: skip
        options = f"-k {base} -h '' -F"  # a unix socket only, no fsync
        subprocess.run([*pg_ctl, "-l", os.path.join(base, "log"), "-o", options, "start"], **run)
        started = True
        yield f"postgresql+psycopg://postgres@/postgres?host={base}"
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"could not start PostgreSQL: {exc.stderr.decode()[-2000:]}")
    finally:
        if started:
            subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_two_processes_divide_the_trials_of_one_postgres_study(postgres_url):
    workers = [_run_helper(postgres_url, "shared", 3) for _ in range(2)]
    for worker in workers:
        out, _ = worker.communicate(timeout=300)
        assert worker.returncode == 0, out.decode()[-3000:]
    study = optuna.load_study(study_name="shared", storage=postgres_url)
    assert len(study.trials) == 6 and all(t.state == COMPLETE for t in study.trials)
    ran = pids(study)
    assert sorted(ran.count(w.pid) for w in workers) == [3, 3]
    # A third search on the study sees all of them.
    s = helpers.search(postgres_url, "shared", n_trials=1).fit(*helpers.data())
    assert len(s.cv_results_["params"]) == 7


@pytest.mark.slow
def test_a_killed_workers_trial_is_retried_through_postgres_heartbeats(postgres_url, tmp_path):
    block = tmp_path / "block"
    block.touch()
    worker = _run_helper(postgres_url, "beats", 1, str(block), "--heartbeat")
    _kill_when_running(worker, postgres_url, "beats")
    block.unlink()
    time.sleep(3)  # past the grace period (2 s) of the helper's storage
    storage = helpers.heartbeat_storage(postgres_url)
    s = helpers.search(storage, "beats", n_trials=1, block=str(block)).fit(*helpers.data())
    _assert_retried(s.study_)
