import gzip
import hashlib
from importlib.resources import files

import pytest

from skdeep.datasets._tiny_shakespeare import load_tiny_shakespeare

SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"


def test_bundle_is_the_original_file():
    raw = gzip.decompress(
        (files("skdeep.datasets") / "data" / "tiny_shakespeare.txt.gz").read_bytes()
    )
    assert hashlib.sha256(raw).hexdigest() == SHA256


def test_load():
    bunch = load_tiny_shakespeare()
    assert set(bunch) == {"data", "DESCR"}
    text = bunch.data
    assert len(text) == 1_115_394 and len(set(text)) == 65
    assert text.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")
    assert "public domain" in bunch.DESCR and "karpathy/char-rnn" in bunch.DESCR
    train = load_tiny_shakespeare(split="train", return_text=True)
    valid = load_tiny_shakespeare(split="validation", return_text=True)
    assert (len(train), len(valid)) == (1_003_854, 111_540)
    assert train + valid == text


def test_bad_split():
    with pytest.raises(ValueError, match=r"split must be one of \('all', 'train', 'validation'\)"):
        load_tiny_shakespeare(split="test")
