import gzip
import hashlib
from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from skdeep.datasets._sms_spam import load_sms_spam

N_SAMPLES, N_SPAM = 5574, 747


@pytest.fixture(scope="module")
def bunch():
    return load_sms_spam()


@pytest.fixture(scope="module")
def frame_bunch():
    return load_sms_spam(as_frame=True)


def test_bunch(bunch):
    assert set(bunch) == {"data", "target", "frame", "target_names", "DESCR"}
    assert bunch.data.shape == bunch.target.shape == (N_SAMPLES,)
    assert bunch.data.dtype == bunch.target.dtype == object
    assert all(isinstance(text, str) and text for text in bunch.data)
    assert set(bunch.target) == {"ham", "spam"}
    assert (bunch.target == "spam").sum() == N_SPAM
    assert bunch.frame is None
    np.testing.assert_array_equal(bunch.target_names, ["ham", "spam"])
    assert "CC BY 4.0" in bunch.DESCR and "Almeida" in bunch.DESCR
    # the first line of the original, and a text with an unbalanced quote read as one row
    assert bunch.data[0].startswith("Go until jurong point")
    assert sum('"' in text for text in bunch.data) > 0


def test_as_frame(frame_bunch, bunch):
    frame = frame_bunch.frame
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["text", "label"]
    assert frame.shape == (N_SAMPLES, 2)
    assert frame_bunch.data.name == "text" and frame_bunch.target.name == "label"
    assert pd.api.types.is_string_dtype(frame["text"])
    assert pd.api.types.is_string_dtype(frame["label"])
    assert frame["label"].value_counts().to_dict() == {"ham": N_SAMPLES - N_SPAM, "spam": N_SPAM}
    np.testing.assert_array_equal(frame_bunch.data.to_numpy(dtype=object), bunch.data)


@pytest.mark.parametrize("as_frame", [False, True])
def test_return_X_y(as_frame):
    X, y = load_sms_spam(as_frame=as_frame, return_X_y=True)
    assert len(X) == len(y) == N_SAMPLES
    assert isinstance(X, pd.Series if as_frame else np.ndarray)
    assert isinstance(y, pd.Series if as_frame else np.ndarray)


def test_bundled_file_matches_the_original():
    data = files("skdeep.datasets") / "data"
    raw = gzip.decompress((data / "sms_spam.tsv.gz").read_bytes())
    digest = hashlib.sha256(raw).hexdigest()
    assert digest == "7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d"
    assert digest in (data / "sms_spam.README.md").read_text(encoding="utf-8")
    assert raw.count(b"\n") == N_SAMPLES
