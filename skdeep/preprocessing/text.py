"""Word-level tokenization and vocabulary for text models (embedding + LSTM)."""

import numbers
import re
import unicodedata
from collections import Counter
from itertools import chain, islice

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

__all__ = ["PAD_ID", "UNK_ID", "TextVocabulary", "check_texts"]

PAD_ID = 0  # padding, only ever added by encode_batch
UNK_ID = 1  # out-of-vocabulary token, or the single step of an empty text
PAD_TOKEN = "<pad>"
UNK_TOKEN = "<unk>"
_STATE_VERSION = 1
_DIGIT_RE = re.compile(r"\d")  # any Unicode decimal digit


def _mark_ranges():
    # Python's `re` has no \p{M}, and \w excludes combining marks, which would cut Devanagari,
    # Bengali, ... words at every vowel sign. Marks all live below U+20000 except the
    # variation selectors at U+E0100-U+E01EF; scanning those planes takes ~10-20 ms at import.
    planes = chain(range(0x20000), range(0xE0100, 0xE01F0))
    codes = [c for c in planes if unicodedata.category(chr(c))[0] == "M"]
    ranges, start = [], codes[0]
    for prev, cur in zip(codes, [*codes[1:], None], strict=True):
        if cur != prev + 1:
            ranges.append(f"{chr(start)}-{chr(prev)}")
            start = cur
    return "".join(ranges)


_MARKS = _mark_ranges()
# Anything that is not whitespace and not part of a word (punctuation, symbol, emoji) is a
# token of its own, keeping emoji modifiers (skin tones, variation selectors), ZWJ sequences
# such as 👨‍👩‍👧 and flags (pairs of regional indicators) in one token.
_WORD_RE = re.compile(
    rf"[\w{_MARKS}]+"  # word: letters, digits, underscore, combining marks
    r"|[\U0001F1E6-\U0001F1FF]{2}"  # flag
    rf"|[^\w\s](?:[{_MARKS}\U0001F3FB-\U0001F3FF]|\u200d[^\w\s])*"  # symbol + modifiers
)


def _is_int(value, minimum):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= minimum


def check_texts(texts, *, name="X"):
    """Validate a collection of texts and return it as a list of ``str``.

    Parameters
    ----------
    texts : sequence of str
        A list, tuple, 1-D (or single-column 2-D) numpy array, pandas Series, single-column
        pandas DataFrame or any other non-string iterable of ``str``.
    name : str, default="X"
        Name of the argument, used in error messages.

    Returns
    -------
    texts : list of str
        The texts, in order.

    Raises
    ------
    TypeError
        If ``texts`` is a single string or not iterable, or an item is not a string.
    ValueError
        If ``texts`` is empty, has several columns, or an item is None/NaN.

    Examples
    --------
    >>> from skdeep.preprocessing.text import check_texts
    >>> check_texts(("spam", "eggs"))
    ['spam', 'eggs']
    """
    if isinstance(texts, (str, bytes)):
        raise TypeError(
            f"{name}: expected a sequence of texts, got a single "
            f"{'string' if isinstance(texts, str) else 'bytes object'}; wrap it in a list"
        )
    labels = None
    if isinstance(texts, pd.DataFrame):
        if texts.shape[1] != 1:
            raise ValueError(
                f"{name}: expected a single text column, got a DataFrame with "
                f"{texts.shape[1]} columns; select the text column, e.g. df['text']"
            )
        texts = texts.iloc[:, 0]
    if isinstance(texts, pd.Series):
        labels = texts.index
        texts = texts.to_numpy(dtype=object)
    elif isinstance(texts, np.ndarray):
        if texts.ndim == 0:
            raise TypeError(
                f"{name}: expected a sequence of texts, got a 0-d array; wrap it in a list"
            )
        if texts.ndim > 2 or (texts.ndim == 2 and texts.shape[1] != 1):
            raise ValueError(
                f"{name}: expected a 1-D array of texts (or one column), got an array of "
                f"shape {texts.shape}"
            )
        texts = texts.ravel()
    elif not hasattr(texts, "__iter__") or isinstance(texts, dict):
        raise TypeError(
            f"{name}: expected a sequence of texts (list, tuple, numpy array, pandas Series), "
            f"got {type(texts).__name__}"
        )
    texts = list(texts)
    if not texts:
        raise ValueError(f"{name}: expected at least one text, got an empty sequence")

    for i, text in enumerate(texts):
        if isinstance(text, str):
            continue
        where = f"{name}[{i}]"
        if labels is not None and labels[i] != i:
            where += f" (index label {labels[i]!r})"
        if pd.api.types.is_scalar(text) and pd.isna(text):
            raise ValueError(
                f"{where} is missing (None/NaN); fill or drop missing texts first, "
                "e.g. with .fillna('') or .dropna()"
            )
        raise TypeError(f"{where} must be a str, got {type(text).__name__}: {text!r:.50}")
    return texts


class TextVocabulary(BaseEstimator):
    """Tokenize texts into words and map them to integer ids.

    Learns a vocabulary from training texts and turns texts into sequences of ids for an
    embedding layer. Ids 0 and 1 are reserved: ``PAD_ID = 0`` (``"<pad>"``) pads the end of
    shorter sequences in :meth:`encode_batch`, and ``UNK_ID = 1`` (``"<unk>"``) stands for any
    token not in the vocabulary. Learned tokens get ids 2, 3, ... by decreasing frequency
    (ties broken alphabetically, so the vocabulary is deterministic).

    It is a scikit-learn ``BaseEstimator`` (``get_params``, ``clone``) but not a pipeline
    transformer: it outputs variable-length sequences, not a matrix.

    Parameters
    ----------
    tokenizer : "word" or callable, default="word"
        ``"word"`` normalizes the text to Unicode NFC and splits it into runs of letters,
        digits, underscores and combining marks; every other non-space character
        (punctuation, symbol, emoji with its modifiers) is a token of its own. Scripts written
        without spaces (Chinese, Japanese, Thai) give one token per run. A callable
        ``str -> list[str]`` is used as is (e.g. ``list`` for character tokens), but it
        cannot be saved with :meth:`get_state`.
    lowercase : bool, default=True
        Lowercase every token.
    max_vocab_size : int or None, default=None
        Keep at most this many learned tokens (the most frequent), not counting the two
        reserved ids, so ``len(vocab) <= max_vocab_size + 2``. None keeps all.
    min_freq : int, default=1
        Keep only tokens seen at least this many times in the training texts.
    max_length : int or None, default=None
        Keep only the first ``max_length`` tokens of each text, in :meth:`fit` too. The
        built-in tokenizer then stops reading after them, so memory stays bounded for huge
        texts. None keeps all tokens.
    normalize_digits : bool, default=False
        Replace every decimal digit (any script) in the tokens by ``"0"``, so numbers of the
        same shape share one token: ``"call 09061743811"`` and ``"call 09058094507"`` both
        read ``"call 00000000000"``. A phone number, price or date never seen in training
        then still maps to a learned token instead of ``"<unk>"``. Applies to the tokens of
        a callable ``tokenizer`` too.

    Attributes
    ----------
    vocabulary_ : dict of str to int
        Token to id, including ``"<pad>": 0`` and ``"<unk>": 1``.
    tokens_ : list of str
        Id to token; ``tokens_[i]`` has id ``i``.
    token_counts_ : dict of str to int
        Number of times each learned token was seen during fit.

    Examples
    --------
    >>> from skdeep.preprocessing.text import TextVocabulary
    >>> vocab = TextVocabulary().fit(["the cat sat", "The dog sat!"])
    >>> vocab.tokens_
    ['<pad>', '<unk>', 'sat', 'the', '!', 'cat', 'dog']
    >>> vocab.transform(["the bird sat"])
    [array([3, 1, 2])]
    >>> ids, lengths = vocab.encode_batch(["the cat", "a dog sat"])
    >>> ids
    tensor([[3, 5, 0],
            [1, 6, 2]])
    >>> lengths
    tensor([2, 3])
    >>> vocab.inverse_transform(ids)
    ['the cat', '<unk> dog sat']
    >>> TextVocabulary(normalize_digits=True).fit(["call 0800 123", "call 0900"]).tokens_
    ['<pad>', '<unk>', '0000', 'call', '000']
    """

    def __init__(
        self,
        tokenizer="word",
        lowercase=True,
        max_vocab_size=None,
        min_freq=1,
        max_length=None,
        normalize_digits=False,
    ):
        self.tokenizer = tokenizer
        self.lowercase = lowercase
        self.max_vocab_size = max_vocab_size
        self.min_freq = min_freq
        self.max_length = max_length
        self.normalize_digits = normalize_digits

    def _check_params(self):
        def bad(param, allowed):
            value = getattr(self, param)
            return ValueError(f"{param} must be {allowed}, got {value!r}")

        if not (
            callable(self.tokenizer)
            or (isinstance(self.tokenizer, str) and self.tokenizer == "word")
        ):
            raise bad("tokenizer", "'word' or a callable str -> list[str]")
        if not isinstance(self.lowercase, (bool, np.bool_)):
            raise bad("lowercase", "True or False")
        if not (self.max_vocab_size is None or _is_int(self.max_vocab_size, 1)):
            raise bad("max_vocab_size", "None or an int >= 1")
        if not _is_int(self.min_freq, 1):
            raise bad("min_freq", "an int >= 1")
        if not (self.max_length is None or _is_int(self.max_length, 1)):
            raise bad("max_length", "None or an int >= 1")
        if not isinstance(self.normalize_digits, (bool, np.bool_)):
            raise bad("normalize_digits", "True or False")

    def _tokenize(self, text):
        """Return the first ``max_length`` tokens of ``text`` as an iterator."""
        if not callable(self.tokenizer):  # "word"
            if not unicodedata.is_normalized("NFC", text):
                text = unicodedata.normalize("NFC", text)
            # finditer + islice: only the kept tokens are ever materialised.
            tokens = islice((m.group() for m in _WORD_RE.finditer(text)), self.max_length)
        else:
            tokens = self.tokenizer(text)
            if isinstance(tokens, str) or not hasattr(tokens, "__iter__"):
                raise TypeError(
                    f"tokenizer must return a list of str, got {type(tokens).__name__}"
                )
            tokens = list(islice(tokens, self.max_length))
            for tok in tokens:
                if not isinstance(tok, str):
                    raise TypeError(
                        f"tokenizer must return a list of str, got an item of type "
                        f"{type(tok).__name__}: {tok!r:.50}"
                    )
        if self.lowercase:
            tokens = (tok.lower() for tok in tokens)
        if self.normalize_digits:  # per token: the cost stays bounded by max_length
            tokens = (_DIGIT_RE.sub("0", tok) for tok in tokens)
        return tokens

    def fit(self, texts):
        """Learn the vocabulary from training texts.

        Parameters
        ----------
        texts : sequence of str
            Training texts; see :func:`check_texts` for the accepted containers.

        Returns
        -------
        self : TextVocabulary
            The fitted vocabulary.
        """
        self._check_params()
        counts = Counter()
        for text in check_texts(texts, name="texts"):
            counts.update(self._tokenize(text))
        # A callable tokenizer may emit the reserved strings; they keep their reserved ids.
        counts.pop(PAD_TOKEN, None)
        counts.pop(UNK_TOKEN, None)
        kept = sorted(
            ((tok, n) for tok, n in counts.items() if n >= self.min_freq),
            key=lambda item: (-item[1], item[0]),
        )[: self.max_vocab_size]
        self._set_vocabulary([tok for tok, _ in kept], [n for _, n in kept])
        return self

    def _set_vocabulary(self, tokens, counts):
        self.tokens_ = [PAD_TOKEN, UNK_TOKEN, *tokens]
        self.vocabulary_ = {tok: i for i, tok in enumerate(self.tokens_)}
        self.token_counts_ = dict(zip(tokens, counts, strict=True))

    def transform(self, texts):
        """Map each text to an array of token ids.

        Parameters
        ----------
        texts : sequence of str
            Texts to encode.

        Returns
        -------
        ids : list of ndarray of int64
            One array per text, of length between 1 and ``max_length``. Unknown tokens map to
            ``UNK_ID``. A text without any token (empty or only whitespace) gives
            ``[UNK_ID]``: a recurrent model needs at least one step per sequence
            (``pack_padded_sequence`` rejects length 0), and "nothing known" is what
            ``UNK_ID`` means. ``PAD_ID`` never appears in the output.
        """
        check_is_fitted(self, "vocabulary_")
        get = self.vocabulary_.get
        sequences = []
        for text in check_texts(texts, name="texts"):
            ids = np.fromiter((get(tok, UNK_ID) for tok in self._tokenize(text)), dtype=np.int64)
            if ids.size == 0:
                ids = np.array([UNK_ID], dtype=np.int64)
            ids[ids == PAD_ID] = UNK_ID  # a literal "<pad>" token is not padding
            sequences.append(ids)
        return sequences

    def fit_transform(self, texts):
        """Fit the vocabulary, then transform the same texts."""
        texts = check_texts(texts, name="texts")
        return self.fit(texts).transform(texts)

    def encode_batch(self, texts):
        """Encode texts as one right-padded id tensor, ready for an embedding layer.

        Parameters
        ----------
        texts : sequence of str
            Texts to encode.

        Returns
        -------
        ids : torch.LongTensor of shape (n_texts, max_len)
            Token ids padded with ``PAD_ID``; ``max_len`` is the longest sequence in the batch.
        lengths : torch.LongTensor of shape (n_texts,)
            True length of each sequence (at least 1), e.g. for ``pack_padded_sequence``.
        """
        sequences = self.transform(texts)
        lengths = np.array([len(seq) for seq in sequences], dtype=np.int64)
        ids = np.full((len(sequences), lengths.max()), PAD_ID, dtype=np.int64)
        # The mask's True cells, in row-major order, are exactly the concatenated sequences.
        ids[np.arange(ids.shape[1]) < lengths[:, None]] = np.concatenate(sequences)
        return torch.from_numpy(ids), torch.from_numpy(lengths)

    def inverse_transform(self, ids):
        """Turn id sequences back into space-joined tokens (for debugging).

        Parameters
        ----------
        ids : sequence of sequences of int, or 2-D array or tensor
            Output of :meth:`transform` or the ``ids`` of :meth:`encode_batch`.

        Returns
        -------
        texts : list of str
            Tokens of each sequence joined by single spaces, with padding dropped.
        """
        check_is_fitted(self, "vocabulary_")
        texts = []
        for i, seq in enumerate(ids):
            seq = seq.tolist() if hasattr(seq, "tolist") else seq
            if not hasattr(seq, "__iter__"):
                raise TypeError(
                    "ids: expected a sequence of id sequences (e.g. the output of transform); "
                    "wrap a single sequence in a list"
                )
            seq = [int(t) for t in seq if t != PAD_ID]
            if any(not 0 <= t < len(self.tokens_) for t in seq):
                raise ValueError(f"ids[{i}] holds ids outside [0, {len(self.tokens_)})")
            texts.append(" ".join(self.tokens_[t] for t in seq))
        return texts

    def __len__(self):
        """Number of ids, including the two reserved ones (the embedding's num_embeddings)."""
        check_is_fitted(self, "vocabulary_")
        return len(self.tokens_)

    def __bool__(self):
        # Without this, `if vocab:` would call __len__ and raise on an unfitted vocabulary.
        return True

    def get_state(self):
        """Return parameters and vocabulary as a JSON-serialisable dict (no pickle).

        Returns
        -------
        state : dict
            Plain ``str``/``int``/``bool``/``None``/``list``/``dict`` values; restore with
            :meth:`from_state`. ``"tokens"`` is None if the vocabulary is not fitted.

        Raises
        ------
        TypeError
            If ``tokenizer`` is a callable, which cannot be saved without pickle.
        """
        if callable(self.tokenizer):
            raise TypeError(
                f"a callable tokenizer ({self.tokenizer!r}) cannot be saved without pickle; "
                "use tokenizer='word', or save the rest yourself and pass the same callable "
                "again when restoring"
            )
        self._check_params()
        fitted = hasattr(self, "vocabulary_")
        return {
            "format": f"skdeep.{type(self).__name__}",
            "version": _STATE_VERSION,
            "params": {
                "tokenizer": self.tokenizer,
                "lowercase": bool(self.lowercase),
                "max_vocab_size": None
                if self.max_vocab_size is None
                else int(self.max_vocab_size),
                "min_freq": int(self.min_freq),
                "max_length": None if self.max_length is None else int(self.max_length),
                "normalize_digits": bool(self.normalize_digits),
            },
            "tokens": list(self.tokens_[2:]) if fitted else None,
            "counts": [int(self.token_counts_[t]) for t in self.tokens_[2:]] if fitted else None,
        }

    @classmethod
    def from_state(cls, state):
        """Rebuild a vocabulary from the output of :meth:`get_state`.

        Parameters
        ----------
        state : dict
            As returned by :meth:`get_state`, possibly after a JSON round trip.

        Returns
        -------
        vocab : TextVocabulary
            Equivalent to the saved one: :meth:`transform` gives identical output.
        """
        # "class" is the header of states written before skdeep's adapters shared one shape.
        name = (
            state.get("format", f"skdeep.{state.get('class')}")
            if isinstance(state, dict)
            else None
        )
        if name != f"skdeep.{cls.__name__}":
            raise ValueError(f"state is not a saved {cls.__name__} (see get_state)")
        if state.get("version") != _STATE_VERSION:
            raise ValueError(
                f"state has format version {state.get('version')!r}; this version of skdeep "
                f"reads version {_STATE_VERSION}"
            )
        vocab = cls(**state["params"])
        vocab._check_params()
        tokens, counts = state["tokens"], state["counts"]
        if tokens is not None:
            if len(set(tokens)) != len(tokens) or {PAD_TOKEN, UNK_TOKEN} & set(tokens):
                raise ValueError("state['tokens'] must be unique and exclude '<pad>'/'<unk>'")
            vocab._set_vocabulary(list(tokens), list(counts))
        return vocab
