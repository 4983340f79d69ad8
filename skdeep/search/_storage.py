"""Where a search keeps its study: storage resolution, study fingerprints, dead workers.

* ``storage=None``: Optuna's in-memory storage (a temporary journal file while worker
  processes share it, copied back into memory at the end).
* a path: Optuna's ``JournalStorage`` on a ``JournalFileBackend`` (an append-only log with
  file locks: safe for several processes on one machine; not SQLite, which locks up
  under several writers).
* an RDB URL (PostgreSQL, MySQL): ``RDBStorage`` with heartbeats, so that the trial of a
  killed worker is failed and retried by the next trial any worker starts.
* an Optuna storage object, used as it is.
"""

from __future__ import annotations

import json
import os
import socket
import time
import warnings
from pathlib import Path

import joblib
import optuna
from optuna.distributions import distribution_to_json
from optuna.trial import TrialState

# Optuna >= 4.0 has the journal backends in optuna.storages.journal; 3.x names them
# JournalFileStorage.
try:
    from optuna.storages.journal import JournalFileBackend
except ImportError:  # pragma: no cover - Optuna 3.x
    from optuna.storages import JournalFileStorage as JournalFileBackend

try:  # Optuna >= 4.9 renamed the retry callback
    from optuna.storages import RetryHeartbeatStaleTrialCallback as RetryCallback

    _RETRY_KWARG = "heartbeat_stale_trial_callback"
except ImportError:  # pragma: no cover - older Optuna
    from optuna.storages import RetryFailedTrialCallback as RetryCallback

    _RETRY_KWARG = "failed_trial_callback"

#: Heartbeat settings of the RDB storages made from a URL: a worker's running trial is
#: stamped every HEARTBEAT seconds; one not stamped for GRACE seconds is failed and
#: retried (at most MAX_RETRY times) when any worker starts its next trial.
HEARTBEAT, GRACE, MAX_RETRY = 60, 180, 3

#: Names of the study's and trials' attributes written by the search.
FINGERPRINT_ATTR = "skdeep:search"
RECORD_ATTR = "skdeep:cv"
WORKER_ATTR = "skdeep:worker"

# Parameters that change how a fit runs but not what it computes: a study may be resumed
# with other values.
_NOT_FINGERPRINTED = {
    "verbose",
    "n_jobs",
    "device",
    "memory",
    "callbacks",
    "warm_start",
    "pre_dispatch",
    "copy",
}


def safe_url(url):
    """``url`` with its password hidden, for messages."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a message helper never fails
        return "<the storage URL>"


def is_url(storage):
    return isinstance(storage, str) and "://" in storage


def open_storage(storage, *, parallel):
    """An Optuna storage object for the ``storage`` parameter (None: in memory).

    Raises a ``ValueError`` naming the parameter when the storage cannot be opened;
    nothing is written then.
    """
    if storage is None:
        return optuna.storages.InMemoryStorage()
    if isinstance(storage, optuna.storages.BaseStorage):
        if parallel and isinstance(storage, optuna.storages.InMemoryStorage):
            raise ValueError(
                "storage: an InMemoryStorage cannot be shared by worker processes (n_jobs > "
                "1); pass None (a temporary journal file is used), a file path or a URL."
            )
        return storage
    if is_url(storage):
        return _open_rdb(storage, parallel=parallel)
    if isinstance(storage, str | os.PathLike):
        return _open_journal(Path(storage))
    raise TypeError(
        "storage: expected None, a file path (a journal file), an RDB URL such as "
        "'postgresql+psycopg://user@host/db', or an Optuna storage object; got "
        f"{type(storage).__name__}."
    )


def _open_journal(path):
    if path.is_dir():
        raise ValueError(f"storage={str(path)!r} is a directory; expected a file path.")
    if not path.parent.is_dir():
        raise ValueError(
            f"storage={str(path)!r}: the folder {str(path.parent)!r} does not exist; create "
            "it first (the journal file itself is created when missing)."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    except OSError as exc:
        raise ValueError(f"storage={str(path)!r}: cannot open the journal file: {exc}") from exc


def _open_rdb(url, *, parallel):
    shown = safe_url(url)
    if url.startswith("sqlite") and parallel:
        raise ValueError(
            f"storage={shown!r}: SQLite locks up under several processes (n_jobs > 1); "
            "use a journal file (a plain file path) or PostgreSQL."
        )
    engine_kwargs = {}
    if url.startswith(("postgresql", "postgres")):
        # Fail within seconds on a host that does not answer, instead of hanging.
        engine_kwargs = {"connect_args": {"connect_timeout": 10}}
    for attempt in range(3):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                heartbeat = {}
                if not url.startswith("sqlite"):
                    heartbeat = {
                        "heartbeat_interval": HEARTBEAT,
                        "grace_period": GRACE,
                        _RETRY_KWARG: RetryCallback(max_retry=MAX_RETRY),
                    }
                return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, **heartbeat)
        except ImportError as exc:
            raise ValueError(
                f"storage={shown!r}: the database driver is not installed ({exc}); for "
                "PostgreSQL: pip install 'psycopg[binary]' and use a 'postgresql+psycopg://' "
                "URL."
            ) from exc
        except Exception as exc:
            if attempt < 2 and _lost_a_race(exc):
                # Another process was creating Optuna's tables at the same moment: they
                # exist now.
                time.sleep(0.5 + attempt)
                continue
            text = str(exc).strip()
            first = text.splitlines()[0] if text else type(exc).__name__
            raise ValueError(
                f"storage={shown!r}: cannot connect to the database: {first}"
            ) from exc
    raise AssertionError("unreachable")  # pragma: no cover


def _lost_a_race(exc):
    """A schema creation that collided with another process's (not a connection error)."""
    try:
        from sqlalchemy.exc import IntegrityError, ProgrammingError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, IntegrityError | ProgrammingError) and "exist" in str(exc).lower()


# --- fingerprint ----------------------------------------------------------------------


def _describe(value, searched, path=""):
    """A JSON-able description of an estimator's structure and fixed parameters."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        out = {"class": f"{type(value).__module__}.{type(value).__qualname__}"}
        for name, param in sorted(value.get_params(deep=False).items()):
            full = f"{path}{name}"
            if name in _NOT_FINGERPRINTED or full in searched:
                continue
            out[name] = _describe(param, searched, f"{full}__")
        return out
    if isinstance(value, list | tuple):
        if all(isinstance(v, tuple) and len(v) >= 2 and isinstance(v[0], str) for v in value):
            # steps / transformers: (name, estimator[, columns])
            return [
                [v[0], _describe(v[1], searched, f"{path}{v[0]}__"), *map(_plain, v[2:])]
                for v in value
            ]
        return [_plain(v) for v in value]
    return _plain(value)


def _plain(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if hasattr(value, "get_params") and not isinstance(value, type):
        return _describe(value, set())
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # numpy scalars
        return value.item()
    if hasattr(value, "__array__"):  # arrays, pandas columns: by content
        try:
            return f"<{type(value).__qualname__} {joblib.hash(value)}>"
        except Exception:  # an unpicklable array-like: its type only
            pass
    return f"<{type(value).__qualname__}>"


def fingerprint(estimator, distributions, objective, data):
    """What a study was created for: estimator, space, objective and data."""
    return {
        "estimator": _describe(estimator, set(distributions)),
        "space": {n: json.loads(distribution_to_json(d)) for n, d in distributions.items()},
        "objective": objective,
        "data": joblib.hash(data),
    }


def _differences(old, new):
    parts = []
    for key, what in (
        ("estimator", "the estimator or its fixed parameters"),
        ("space", "the search space"),
        ("objective", "the scoring"),
        ("data", "the data, fit parameters or CV folds"),
    ):
        if old.get(key) != new.get(key):
            detail = ""
            if key == "space":
                names = sorted(
                    n
                    for n in set(old.get("space", {})) | set(new["space"])
                    if old.get("space", {}).get(n) != new["space"].get(n)
                )
                detail = f" ({', '.join(names)})"
            elif key == "estimator":
                detail = _first_difference(old.get("estimator"), new["estimator"])
            parts.append(what + detail)
    return parts


def _first_difference(a, b, path="estimator"):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return f" ({path}: {a!r} before, {b!r} now)"


def check_or_set_fingerprint(study, print_, storage_name):
    """Refuse a study made for another search; adopt a new, empty one."""
    old = study.user_attrs.get(FINGERPRINT_ATTR)
    if old is None:
        if study.get_trials(deepcopy=False):
            raise ValueError(
                f"study_name={study.study_name!r} in storage={storage_name!r} already has "
                f"{len(study.trials)} trials that OptunaSearchCV did not make; use another "
                "study_name."
            )
        study.set_user_attr(FINGERPRINT_ATTR, print_)
        return
    different = _differences(old, print_)
    if different:
        raise ValueError(
            f"study_name={study.study_name!r} in storage={storage_name!r} was created for "
            f"another search (different: {'; '.join(different)}). Its trials would not be "
            "comparable with this search's; use a new study_name (or the original "
            "settings to resume it)."
        )


# --- workers --------------------------------------------------------------------------


def _process_start(pid):
    """When process ``pid`` started (seconds since boot on Linux; None if unknown)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def worker_stamp():
    """Who runs a trial: host, process and its start time (to tell a reused pid)."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "start": _process_start(pid)}


def _alive(stamp):
    pid = stamp.get("pid")
    if not isinstance(pid, int):
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    start = stamp.get("start")
    return start is None or _process_start(pid) in (None, start)


def retry_dead_trials(study):
    """Fail and re-queue the running trials whose worker process on this host is gone.

    This is what a storage without heartbeats (the journal file) gets instead of Optuna's
    heartbeat: a search started on the study checks the trials left ``RUNNING``; a trial
    whose recorded worker ran on this machine and no longer exists is marked ``FAIL`` and
    its parameters are queued again (as Optuna's retry callback does), to be run as one of
    this search's trials. Returns the numbers of the trials re-queued.
    """
    storage = study._storage
    if getattr(storage, "get_heartbeat_interval", lambda: None)() is not None:
        return []  # Optuna's heartbeat handles them
    host = socket.gethostname()
    retried = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        stamp = trial.user_attrs.get(WORKER_ATTR)
        if not isinstance(stamp, dict) or stamp.get("host") != host or _alive(stamp):
            continue
        try:
            if not storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another search got there first
        history = [*trial.system_attrs.get("retry_history", []), trial.number]
        if len(history) > MAX_RETRY:
            continue
        # As Optuna's retry callback does, without the dead worker's stamp.
        study.add_trial(
            optuna.trial.create_trial(
                state=TrialState.WAITING,
                params=trial.params,
                distributions=trial.distributions,
                user_attrs={k: v for k, v in trial.user_attrs.items() if k != WORKER_ATTR},
                system_attrs={
                    **trial.system_attrs,
                    "failed_trial": trial.system_attrs.get("failed_trial", trial.number),
                    "retry_history": history,
                },
            )
        )
        retried.append(trial.number)
    return retried
