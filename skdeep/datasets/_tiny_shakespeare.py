"""Loader for the bundled tinyshakespeare text."""

import gzip
from importlib.resources import files

from sklearn.utils import Bunch

__all__ = ["load_tiny_shakespeare"]

_DATA_FILE = "tiny_shakespeare.txt.gz"
_README_FILE = "tiny_shakespeare.README.md"
_SPLITS = ("all", "train", "validation")


def load_tiny_shakespeare(*, split="all", return_text=False):
    """Load tinyshakespeare, the classic corpus for small character-level language models.

    1,115,394 characters of Shakespeare's plays, speaker names followed by their lines, in one
    string. The data ship with the package; nothing is downloaded.

    ==================  ==========================
    Characters                           1,115,394
    Distinct chars                              65
    Train / validation  first 90% / last 10% chars
    ==================  ==========================

    Parameters
    ----------
    split : {"all", "train", "validation"}, default="all"
        The whole text, its first 90% of characters (1,003,854) or its last 10% (111,540):
        nanoGPT's split for ``shakespeare_char``.
    return_text : bool, default=False
        If True, return the text itself instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        data : str
            The text.
        DESCR : str
            Description of the data set: source, terms (public domain), checksums.

    text : str if ``return_text`` is True
        The text.

    Notes
    -----
    Compiled by Andrej Karpathy for char-rnn (``data/tinyshakespeare/input.txt`` of
    ``karpathy/char-rnn``). The text is Shakespeare's, in the public domain; the char-rnn
    repository is MIT licensed.

    Examples
    --------
    >>> from skdeep.datasets._tiny_shakespeare import load_tiny_shakespeare
    >>> text = load_tiny_shakespeare(return_text=True)
    >>> len(text), len(set(text))
    (1115394, 65)
    >>> print(text[:14])
    First Citizen:
    >>> len(load_tiny_shakespeare(split="validation").data)
    111540
    """
    if not isinstance(split, str) or split not in _SPLITS:
        raise ValueError(f"split must be one of {_SPLITS}, got {split!r}")
    data_dir = files("skdeep.datasets") / "data"
    with (data_dir / _DATA_FILE).open("rb") as f:
        text = gzip.decompress(f.read()).decode("utf-8")
    n_train = int(0.9 * len(text))  # nanoGPT's prepare.py: data[:int(n * 0.9)]
    if split == "train":
        text = text[:n_train]
    elif split == "validation":
        text = text[n_train:]
    if return_text:
        return text
    return Bunch(data=text, DESCR=(data_dir / _README_FILE).read_text(encoding="utf-8"))
