"""Safe persistence: :func:`save` and :func:`load` without pickle.

A model file is one `safetensors <https://huggingface.co/docs/safetensors>`_ file. The
tensors are the module's weights; the header's metadata holds, as JSON, the estimator
class, its parameters, its fitted attributes (classes, feature names, history, ...) and
the skdeep version, plus a SHA-256 digest of all of it. Loading reads tensors and JSON
only, so a model file cannot run code, and a file whose digest does not match is
refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from skdeep._version import __version__

__all__ = ["InconsistentVersionWarning", "ModelFileError", "load", "save"]

FORMAT = "skdeep"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """The file is not a skdeep model file, or it was modified after it was saved, or it
    holds what this skdeep version cannot rebuild."""


class InconsistentVersionWarning(UserWarning):
    """A model file written by another skdeep version is being loaded.

    As scikit-learn's warning of the same name: the model may load and behave, or not;
    re-fit it with this version, or load it with the version that saved it.
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version
        super().__init__(
            f"Loading {estimator_name} saved by skdeep {original_version} with skdeep "
            f"{current_version}. This might lead to breaking code or invalid results; "
            "re-fit the model with this version, or load it with the version that saved it."
        )


# Parameters renamed since they were first saved: {class name: {old: new}}.
_RENAMED_PARAMS = {"LSTMTextClassifier": {"num_layers": "n_layers"}}


def _registry():
    # Only subclasses of skdeep's DeepEstimator can be loaded: the class name in a file
    # is looked up here, never imported. Importing the family modules registers them.
    import importlib

    from skdeep import FAMILY_MODULES
    from skdeep._base import DeepEstimator

    for module in FAMILY_MODULES:
        importlib.import_module(module)

    return DeepEstimator.registry


def _qualified_name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


# --- JSON encoding of parameters and fitted attributes --------------------------------


def _encode(value, where):
    """Plain-JSON form of ``value`` that :func:`_decode` turns back into the same type."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return value
    if isinstance(value, np.generic):
        return {"__numpy_scalar__": value.item(), "dtype": value.dtype.str}
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "O":
            items = value.tolist()
            _check_plain_items(items, where)
            return {"__ndarray__": items, "dtype": "object", "shape": list(value.shape)}
        if value.dtype.kind not in "biufU":
            raise TypeError(f"{where}: cannot save an array of dtype {value.dtype}.")
        return {
            "__ndarray__": value.tolist(),
            "dtype": value.dtype.str,
            "shape": list(value.shape),
        }
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, where) for v in value]}
    if isinstance(value, list):
        return [_encode(v, where) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {"__dict__": {k: _encode(v, where) for k, v in value.items()}}
        return {"__items__": [[_encode(k, where), _encode(v, where)] for k, v in value.items()]}
    raise TypeError(f"{where}: cannot save a value of type {type(value).__name__} without pickle.")


def _check_plain_items(items, where):
    for item in np.ravel(np.asarray(items, dtype=object)):
        if not (item is None or isinstance(item, bool | int | float | str)):
            raise TypeError(
                f"{where}: cannot save an object array holding "
                f"{type(item).__name__} values without pickle."
            )


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__ndarray__" in value:
        dtype = object if value["dtype"] == "object" else np.dtype(value["dtype"])
        if dtype is object:
            out = np.empty(len(value["__ndarray__"]), dtype=object)
            out[:] = value["__ndarray__"]
            return out.reshape(value["shape"])
        return np.array(value["__ndarray__"], dtype=dtype).reshape(value["shape"])
    if "__numpy_scalar__" in value:
        return np.dtype(value["dtype"]).type(value["__numpy_scalar__"])
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: _decode(v) for k, v in value["__dict__"].items()}
    if "__items__" in value:
        return {_decode(k): _decode(v) for k, v in value["__items__"]}
    raise ModelFileError(f"unexpected JSON object in model file: {sorted(value)}")


def _digest(header_json, tensors):
    sha = hashlib.sha256(header_json.encode("utf-8"))
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous().reshape(-1)
        sha.update(name.encode("utf-8"))
        sha.update(str(tensor.dtype).encode() + str(tuple(tensors[name].shape)).encode())
        sha.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return sha.hexdigest()


# --- public API -----------------------------------------------------------------------


def save(estimator, path):
    """Save a fitted skdeep estimator to ``path`` (a safetensors file).

    Parameters
    ----------
    estimator : skdeep estimator
        A fitted estimator, e.g. :class:`skdeep.DeepMLPClassifier`.
    path : str or os.PathLike
        Destination file; ``.skdeep`` or ``.safetensors`` are good suffixes.

    Notes
    -----
    Parameters that cannot be stored without pickle are replaced by their default with a
    ``UserWarning``: ``callbacks`` (re-attach them with ``set_params`` after loading) and
    a ``RandomState`` instance as ``random_state``. The optimiser state is saved with the
    weights, so ``partial_fit`` / ``warm_start`` training resumes where it stopped.
    A model trained data-parallel (:mod:`skdeep.distributed`) is written by the main
    process only; call ``save`` in every process.

    Examples
    --------
    >>> import numpy as np, skdeep, tempfile, os
    >>> X = np.random.RandomState(0).normal(size=(40, 3)); y = (X[:, 0] > 0).astype(int)
    >>> clf = skdeep.DeepMLPClassifier(max_epochs=5, random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.skdeep")
    >>> skdeep.save(clf, path)
    >>> np.array_equal(skdeep.load(path).predict_proba(X), clf.predict_proba(X))
    True
    """
    name = type(estimator).__name__
    if _registry().get(_qualified_name(type(estimator))) is not type(estimator):
        hint = ""
        if hasattr(estimator, "best_estimator_"):
            hint = " Save the refitted model, search.best_estimator_ (or its skdeep step)."
        elif hasattr(estimator, "steps"):
            hint = " Save the skdeep step of the pipeline, e.g. pipe[-1], or pickle the pipeline."
        raise TypeError(f"skdeep.save takes a skdeep estimator, got {name}.{hint}")
    from skdeep.distributed import writes_files

    if not writes_files(estimator):  # trained data-parallel: the main process writes
        return
    params = estimator.get_params(deep=False)
    for key, default in (("callbacks", None), ("random_state", None)):
        value = params.get(key)
        if value is not None and not isinstance(value, int | np.integer):
            warnings.warn(
                f"{name}.{key}={value!r} cannot be saved without pickle; the "
                f"file stores {key}={default!r} instead.",
                UserWarning,
                stacklevel=2,
            )
            params[key] = default
    attributes, tensors = estimator._get_fitted_state()
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "skdeep_version": __version__,
        "estimator": _qualified_name(type(estimator)),
        "params": _encode(params, f"{name} parameter"),
        "attributes": _encode(attributes, f"{name} fitted attribute"),
    }
    header_json = json.dumps(header, sort_keys=True, allow_nan=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    metadata = {"skdeep": header_json, "skdeep_sha256": _digest(header_json, tensors)}
    save_file(tensors, os.fspath(path), metadata=metadata)


def load(path, *, device=None):
    """Load an estimator saved with :func:`save`; nothing is unpickled.

    Parameters
    ----------
    path : str or os.PathLike
    device : str or None, default=None
        Device to load the model on. ``None`` keeps the saved ``device`` parameter when
        it is usable here; a model saved with ``device="cuda"`` loads on the CPU of a
        machine without CUDA (with a ``UserWarning``).

    Returns
    -------
    estimator : the fitted skdeep estimator

    Raises
    ------
    ModelFileError
        If the file is not a skdeep model, or was modified after it was saved.
    """
    path = os.fspath(path)
    try:
        with safe_open(path, framework="pt", device="cpu") as f:
            metadata = f.metadata() or {}
            tensors = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ModelFileError(f"{path!r} is not a skdeep model file ({exc}).") from None
    header_json = metadata.get("skdeep")
    if header_json is None or "skdeep_sha256" not in metadata:
        raise ModelFileError(f"{path!r} is a safetensors file but not a skdeep model.")
    if _digest(header_json, tensors) != metadata["skdeep_sha256"]:
        raise ModelFileError(
            f"{path!r} was modified after it was saved (checksum mismatch); refusing to load it."
        )
    header = json.loads(header_json)
    if header.get("format") != FORMAT or header.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path!r} has an unsupported format "
            f"({header.get('format')!r} v{header.get('format_version')})."
        )
    cls = _registry().get(header["estimator"])
    if cls is None:
        raise ModelFileError(
            f"{path!r} holds a {header['estimator']!r}, which this "
            f"skdeep {__version__} does not know."
        )
    saved_version = header.get("skdeep_version")
    if saved_version != __version__:
        warnings.warn(
            InconsistentVersionWarning(
                estimator_name=cls.__name__,
                current_version=__version__,
                original_version=saved_version,
            ),
            stacklevel=2,
        )
    params = _decode(header["params"])
    for old, new in _RENAMED_PARAMS.get(cls.__name__, {}).items():
        if old in params:
            params[new] = params.pop(old)
    known = cls().get_params(deep=False)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ModelFileError(
            f"{path!r} holds a {cls.__name__} with parameter(s) {unknown} that skdeep "
            f"{__version__} does not know (the file was written by skdeep {saved_version}); "
            f"load it with skdeep {saved_version}."
        )
    if device is not None:
        params["device"] = device
    elif not _device_usable(params.get("device", "auto")):
        warnings.warn(
            f"The model was saved with device={params['device']!r}, which is "
            "not available here; loading it on the CPU.",
            UserWarning,
            stacklevel=2,
        )
        params["device"] = "cpu"
    estimator = cls(**params)
    return estimator._set_fitted_state(_decode(header["attributes"]), tensors)


def _device_usable(device):
    from skdeep._validation import check_device

    try:
        check_device(device)
    except (ValueError, TypeError):
        return False
    return True
