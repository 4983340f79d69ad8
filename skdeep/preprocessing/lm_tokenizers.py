"""Tokenizers for language models: characters, bytes, or byte-level BPE.

Each tokenizer learns from the training texts in :meth:`~CharTokenizer.fit`, maps a text to a
1-D array of ids and back, and saves itself as plain JSON (:meth:`~CharTokenizer.get_state`
and :meth:`~CharTokenizer.from_state`, no pickle). Besides the text's own tokens each has a
*separator* id (``sep_id``, written ``<|endoftext|>``) that no text produces: it joins
documents into one training stream (:meth:`~CharTokenizer.encode_corpus`), starts a prompt,
and ends a generated document.

* :class:`CharTokenizer`: one id per character seen in training, plus an unknown id for any
  other character (decoded as U+FFFD).
* :class:`ByteTokenizer`: the 256 UTF-8 byte values; nothing is unknown, any Unicode text
  round-trips.
* :class:`BPETokenizer`: byte-level byte-pair encoding (GPT-2's scheme) trained with Hugging
  Face ``tokenizers`` (an optional dependency: ``pip install tokenizers``); about 3-4 times
  fewer tokens than characters on English text. :meth:`BPETokenizer.from_pretrained` reads
  the tokenizer files of a GPT-2 checkpoint directory.

Byte and BPE ids decode through bytes, so a text is only complete once a whole UTF-8
character has arrived: :meth:`~CharTokenizer.stream_decoder` returns text pieces as ids come
in (for streamed generation) that always join to :meth:`~CharTokenizer.decode` of all ids.
"""

from __future__ import annotations

import codecs
import json
import numbers
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator

from skdeep.preprocessing.text import check_texts

__all__ = [
    "SEPARATOR",
    "BPETokenizer",
    "ByteTokenizer",
    "CharTokenizer",
    "lm_tokenizer_from_state",
    "make_lm_tokenizer",
]

SEPARATOR = "<|endoftext|>"  # GPT-2's name for its end-of-document token
_STATE_VERSION = 1
_REPLACEMENT = "\ufffd"


class _LMTokenizer(BaseEstimator):
    """Shared behaviour: corpus encoding, decoding, streaming, state checks."""

    def __len__(self):
        """Number of ids (the embedding's ``num_embeddings``), separator included."""
        self._check_fitted()
        return self.n_tokens_

    def __bool__(self):
        # Without this, `if tokenizer:` would call __len__ and raise before fit.
        return True

    def _check_fitted(self):
        if not hasattr(self, "n_tokens_"):
            raise AttributeError(
                f"this {type(self).__name__} is not fitted yet; call fit(texts) first"
            )

    def fit_transform(self, texts):
        """Fit on ``texts``, then encode them: a list of 1-D int64 arrays."""
        texts = check_texts(texts, name="texts")
        return self.fit(texts).transform(texts)

    def transform(self, texts):
        """Encode each text: a list of 1-D int64 arrays (no separators)."""
        self._check_fitted()
        return [self.encode(t) for t in check_texts(texts, name="texts")]

    def encode_corpus(self, texts):
        """Join documents into one id stream: ``sep doc_1 sep doc_2 ... sep doc_n sep``.

        A separator before each document gives its first token a context ("start of a
        document"), and the one after it teaches where a document ends.

        Parameters
        ----------
        texts : str or sequence of str
            One long text, or documents.

        Returns
        -------
        ids : ndarray of int64, shape (n_tokens,)
        """
        self._check_fitted()
        if isinstance(texts, str):
            texts = [texts]
        sep = np.array([self.sep_id], dtype=np.int64)
        parts = [sep]
        for ids in self.transform(texts):
            parts += [ids, sep]
        return np.concatenate(parts)

    def decode(self, ids):
        """Text of a sequence of ids; separators are left out.

        Parameters
        ----------
        ids : sequence of int or 1-D array or tensor

        Returns
        -------
        text : str
        """
        decoder = self.stream_decoder()
        return decoder.decode(ids) + decoder.flush()

    def _check_ids(self, ids):
        ids = np.asarray(ids.tolist() if hasattr(ids, "tolist") else ids, dtype=np.int64)
        if ids.ndim != 1:
            raise ValueError(f"ids: expected a 1-D sequence of ids, got shape {ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.n_tokens_):
            raise ValueError(f"ids: every id must lie in [0, {self.n_tokens_}), got {ids}")
        return ids

    def _state(self, **fitted):
        """The JSON state: a format header, the parameters and the fitted data (or None)."""
        return {
            "format": f"skdeep.{type(self).__name__}",
            "version": _STATE_VERSION,
            "params": self.get_params(),
            "fitted": fitted if hasattr(self, "n_tokens_") else None,
        }

    @classmethod
    def _check_state(cls, state):
        if not isinstance(state, dict) or state.get("format") != f"skdeep.{cls.__name__}":
            raise ValueError(f"state is not a saved {cls.__name__} (see get_state)")
        if state.get("version") != _STATE_VERSION:
            raise ValueError(
                f"state has format version {state.get('version')!r}; this version of skdeep "
                f"reads version {_STATE_VERSION}"
            )
        return cls(**state["params"]), state["fitted"]


class _TextStreamDecoder:
    """Decodes ids of a character-level tokenizer piece by piece."""

    def __init__(self, tokenizer):
        self._tokenizer = tokenizer

    def decode(self, ids):
        """Text of the next ids."""
        tok = self._tokenizer
        ids = tok._check_ids(ids)
        return "".join(tok._id_text[i] for i in ids.tolist())

    def flush(self):
        """Text still held back at the end (nothing, for characters)."""
        return ""


class _BytesStreamDecoder:
    """Decodes ids whose tokens are bytes: text is released once a UTF-8 character is whole;
    invalid bytes read as U+FFFD, exactly as ``bytes.decode("utf-8", "replace")``."""

    def __init__(self, tokenizer):
        self._tokenizer = tokenizer
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def decode(self, ids):
        """Text of the next ids (an incomplete trailing UTF-8 character is held back)."""
        tok = self._tokenizer
        ids = tok._check_ids(ids)
        return self._utf8.decode(b"".join(tok._id_bytes[i] for i in ids.tolist()))

    def flush(self):
        """Text still held back at the end: U+FFFD for an incomplete last character."""
        return self._utf8.decode(b"", final=True)


class CharTokenizer(_LMTokenizer):
    """One token per character: the characters seen in :meth:`fit`, plus unknown and separator.

    Ids ``0 .. n_chars - 1`` are the characters in code-point order (so on tinyshakespeare
    the ids are nanoGPT's ``shakespeare_char`` ones), then ``unk_id`` (any other character;
    it decodes as U+FFFD) and ``sep_id``.

    Attributes
    ----------
    chars_ : str
        The characters seen in fit, in code-point order.
    unk_id : int
        Id of characters not seen in fit.
    sep_id : int
        Id of the separator.
    n_tokens_ : int
        Number of ids: ``len(chars_) + 2``.

    Examples
    --------
    >>> from skdeep.preprocessing.lm_tokenizers import CharTokenizer
    >>> tok = CharTokenizer().fit(["hello", "world"])
    >>> tok.chars_
    'dehlorw'
    >>> tok.encode("hold!")
    array([2, 4, 3, 0, 7])
    >>> tok.decode(tok.encode("hold!"))
    'hold\ufffd'
    >>> tok.encode_corpus(["he", "we"])
    array([8, 2, 1, 8, 6, 1, 8])
    """

    def fit(self, texts):
        """Learn the set of characters.

        Parameters
        ----------
        texts : str or sequence of str
            One long text, or documents.

        Returns
        -------
        self : CharTokenizer
        """
        texts = [texts] if isinstance(texts, str) else check_texts(texts, name="texts")
        chars = set()
        for text in texts:
            chars.update(text)
        self._set_chars("".join(sorted(chars)))
        return self

    def _set_chars(self, chars):
        self.chars_ = chars
        self.unk_id = len(chars)
        self.sep_id = len(chars) + 1
        self.n_tokens_ = len(chars) + 2
        # Sorted code points: encoding is one vectorised binary search per text.
        self._codes = np.array([ord(c) for c in chars], dtype=np.uint32)
        self._id_text = [*chars, _REPLACEMENT, ""]

    def encode(self, text):
        """Ids of the characters of ``text`` (``unk_id`` for unseen ones).

        Returns
        -------
        ids : ndarray of int64, shape (len(text),)
        """
        self._check_fitted()
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        # UTF-32 gives one code point per 4 bytes; surrogatepass keeps lone surrogates
        # (valid in a Python str) as the characters they are.
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        pos = np.searchsorted(self._codes, codes)
        found = pos < len(self._codes)
        found[found] = self._codes[pos[found]] == codes[found]
        return np.where(found, pos, self.unk_id).astype(np.int64)

    def stream_decoder(self):
        """An object whose ``decode(ids)`` returns the text of each new piece of ids and
        ``flush()`` whatever is held back at the end."""
        self._check_fitted()
        return _TextStreamDecoder(self)

    def get_state(self):
        """Parameters and characters as a JSON-serialisable dict; see :meth:`from_state`."""
        return self._state(chars=getattr(self, "chars_", None))

    @classmethod
    def from_state(cls, state):
        """Rebuild the tokenizer saved by :meth:`get_state` (after a JSON round trip too)."""
        tok, fitted = cls._check_state(state)
        if fitted is not None:
            chars = fitted["chars"]
            if not isinstance(chars, str) or list(chars) != sorted(set(chars)):
                raise ValueError("state['fitted']['chars'] must be distinct sorted characters")
            tok._set_chars(chars)
        return tok


class ByteTokenizer(_LMTokenizer):
    """One token per UTF-8 byte: ids 0-255 are the byte values, 256 is the separator.

    Nothing is unknown: any text encodes, and decodes back to itself. :meth:`fit` learns
    nothing (it only checks the texts), so an unfitted-looking tokenizer is ready after it.

    Attributes
    ----------
    sep_id : int
        256.
    unk_id : None
        No id is unknown.
    n_tokens_ : int
        257.

    Examples
    --------
    >>> from skdeep.preprocessing.lm_tokenizers import ByteTokenizer
    >>> tok = ByteTokenizer().fit(["anything"])
    >>> tok.encode("hé")
    array([104, 195, 169])
    >>> tok.decode([104, 195, 169])
    'hé'
    """

    sep_id = 256
    unk_id = None

    def fit(self, texts):
        """Check the texts; bytes need no learning.

        Parameters
        ----------
        texts : str or sequence of str

        Returns
        -------
        self : ByteTokenizer
        """
        if not isinstance(texts, str):
            check_texts(texts, name="texts")
        self._set_fitted()
        return self

    def _set_fitted(self):
        self.n_tokens_ = 257
        self._id_bytes = [bytes([b]) for b in range(256)] + [b""]

    def encode(self, text):
        """Ids of the UTF-8 bytes of ``text``.

        Returns
        -------
        ids : ndarray of int64

        Raises
        ------
        ValueError
            If ``text`` holds a lone surrogate, which has no UTF-8 form.
        """
        self._check_fitted()
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        return np.frombuffer(_utf8(text), dtype=np.uint8).astype(np.int64)

    def stream_decoder(self):
        """An object whose ``decode(ids)`` returns the text of each new piece of ids (holding
        back an incomplete UTF-8 character) and ``flush()`` whatever is held back at the end."""
        self._check_fitted()
        return _BytesStreamDecoder(self)

    def get_state(self):
        """Parameters as a JSON-serialisable dict; see :meth:`from_state`."""
        return self._state()

    @classmethod
    def from_state(cls, state):
        """Rebuild the tokenizer saved by :meth:`get_state`."""
        tok, fitted = cls._check_state(state)
        if fitted is not None:
            tok._set_fitted()
        return tok


def _utf8(text, where="text"):
    # A lone surrogate is legal in a Python str but is not Unicode text; neither UTF-8 nor
    # the Rust tokenizer takes it.
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{where} holds a lone surrogate {text[exc.start]!r} at index {exc.start}, which is "
            "not valid Unicode and has no UTF-8 form"
        ) from None


def _bytes_to_unicode():
    """GPT-2's byte -> printable character table of byte-level BPE (the ``tokenizers``
    ``ByteLevel`` alphabet): printable Latin-1 bytes map to themselves, the others to
    code points from 256 on."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def _import_tokenizers():
    try:
        import tokenizers
    except ImportError:
        raise ImportError(
            "tokenizer='bpe' needs the Hugging Face 'tokenizers' package: "
            "pip install tokenizers (or pip install 'skdeep[lm]')"
        ) from None
    return tokenizers


class BPETokenizer(_LMTokenizer):
    """Byte-level byte-pair encoding, learned with Hugging Face ``tokenizers``.

    Texts are split as GPT-2 splits them (words with their leading space, numbers,
    punctuation), turned into UTF-8 bytes, and the most frequent adjacent pairs are merged
    until the vocabulary has ``vocab_size`` tokens. The 256 byte values are always in it, so
    no text is unknown. Needs ``pip install tokenizers``.

    Parameters
    ----------
    vocab_size : int, default=1024
        Number of ids, the separator and the 256 bytes included (at least 257 + 1).
    min_frequency : int, default=2
        A pair is merged only if it occurs at least this many times.

    Attributes
    ----------
    tokenizer_ : tokenizers.Tokenizer
        The trained Hugging Face tokenizer (its ``to_str()`` JSON is the saved state).
    sep_id : int
        Id of ``"<|endoftext|>"``. A literal ``"<|endoftext|>"`` inside a text is encoded as
        ordinary characters, never as this id.
    unk_id : None
        No id is unknown.
    n_tokens_ : int
        Number of ids (at most ``vocab_size``; fewer when the texts have fewer distinct
        pairs to merge).

    Examples
    --------
    >>> from skdeep.preprocessing.lm_tokenizers import BPETokenizer
    >>> tok = BPETokenizer(vocab_size=300).fit(["the cat and the hat"] * 10)
    >>> ids = tok.encode("the hat")
    >>> len(ids) < len("the hat"), tok.decode(ids)
    (True, 'the hat')
    """

    unk_id = None

    def __init__(self, vocab_size=1024, min_frequency=2):
        self.vocab_size = vocab_size
        self.min_frequency = min_frequency

    def _check_params(self):
        def is_int(value, minimum):
            return (
                isinstance(value, numbers.Integral)
                and not isinstance(value, bool)
                and value >= minimum
            )

        if not is_int(self.vocab_size, 258):
            raise ValueError(
                "vocab_size must be an int >= 258 (the 256 bytes, the separator and at least "
                f"one merge), got {self.vocab_size!r}"
            )
        if not is_int(self.min_frequency, 1):
            raise ValueError(f"min_frequency must be an int >= 1, got {self.min_frequency!r}")

    def fit(self, texts):
        """Learn the merges from ``texts``.

        Parameters
        ----------
        texts : str or sequence of str
            One long text, or documents.

        Returns
        -------
        self : BPETokenizer
        """
        self._check_params()
        texts = [texts] if isinstance(texts, str) else check_texts(texts, name="texts")
        tk = _import_tokenizers()
        tokenizer = tk.Tokenizer(tk.models.BPE())
        tokenizer.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = tk.decoders.ByteLevel()
        trainer = tk.trainers.BpeTrainer(
            vocab_size=int(self.vocab_size),
            min_frequency=int(self.min_frequency),
            special_tokens=[SEPARATOR],
            initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        for i, text in enumerate(texts):
            _utf8(text, f"texts[{i}]")
        tokenizer.train_from_iterator(texts, trainer=trainer)
        self._set_tokenizer(tokenizer)
        return self

    def _set_tokenizer(self, tokenizer, separator=SEPARATOR):
        sep_id = tokenizer.token_to_id(separator)
        if sep_id is None:
            raise ValueError(f"the tokenizer has no {separator!r} token")
        # Literal special-token text in a document stays text: only encode_corpus and
        # prompts add the separator.
        if hasattr(tokenizer, "encode_special_tokens"):  # tokenizers >= 0.19
            tokenizer.encode_special_tokens = True
        self.tokenizer_ = tokenizer
        self.separator_ = separator
        self.sep_id = sep_id
        self.n_tokens_ = tokenizer.get_vocab_size(with_added_tokens=True)
        # Each id's bytes, for decoding (and streaming) without the Rust decoder, whose
        # lossy UTF-8 handling might differ from Python's in the count of U+FFFD.
        to_byte = {ch: b for b, ch in _bytes_to_unicode().items()}
        special = {t.content for t in tokenizer.get_added_tokens_decoder().values()}
        id_bytes = [b""] * self.n_tokens_
        for token, i in tokenizer.get_vocab(with_added_tokens=True).items():
            if token not in special:
                id_bytes[i] = bytes(to_byte[ch] for ch in token)
        self._id_bytes = id_bytes

    def encode(self, text):
        """Ids of the BPE tokens of ``text``.

        Returns
        -------
        ids : ndarray of int64
        """
        self._check_fitted()
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        _utf8(text)
        return np.array(self.tokenizer_.encode(text).ids, dtype=np.int64)

    def transform(self, texts):
        """Encode each text (in parallel, in Rust): a list of 1-D int64 arrays."""
        self._check_fitted()
        texts = check_texts(texts, name="texts")
        for i, text in enumerate(texts):
            _utf8(text, f"texts[{i}]")
        return [np.array(e.ids, dtype=np.int64) for e in self.tokenizer_.encode_batch(texts)]

    def stream_decoder(self):
        """An object whose ``decode(ids)`` returns the text of each new piece of ids (holding
        back an incomplete UTF-8 character) and ``flush()`` whatever is held back at the end."""
        self._check_fitted()
        return _BytesStreamDecoder(self)

    @classmethod
    def from_pretrained(cls, path, *, param="pretrained"):
        """Read the tokenizer of a Hugging Face GPT-2 checkpoint directory.

        Uses ``tokenizer.json`` when present, else ``vocab.json`` and ``merges.txt``. The
        separator is the end-of-text token named in ``tokenizer_config.json`` (GPT-2's
        ``"<|endoftext|>"`` by default).

        Parameters
        ----------
        path : str or Path
            The checkpoint directory.
        param : str, default="pretrained"
            Parameter name used in error messages.

        Returns
        -------
        tokenizer : BPETokenizer
            Fitted; ``vocab_size`` is the checkpoint's vocabulary size.
        """
        tk = _import_tokenizers()
        path = Path(path)
        separator = SEPARATOR
        config_file = path / "tokenizer_config.json"
        if config_file.is_file():
            eos = json.loads(config_file.read_text(encoding="utf-8")).get("eos_token")
            if isinstance(eos, dict):  # older files: {"content": "<|endoftext|>", ...}
                eos = eos.get("content")
            separator = eos or SEPARATOR
        if (path / "tokenizer.json").is_file():
            tokenizer = tk.Tokenizer.from_file(str(path / "tokenizer.json"))
        elif (path / "vocab.json").is_file() and (path / "merges.txt").is_file():
            model = tk.models.BPE.from_file(str(path / "vocab.json"), str(path / "merges.txt"))
            tokenizer = tk.Tokenizer(model)
            tokenizer.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False)
            tokenizer.decoder = tk.decoders.ByteLevel()
            # vocab.json lists the end-of-text token; marking it special keeps it whole.
            if tokenizer.token_to_id(separator) is not None:
                tokenizer.add_special_tokens([separator])
        else:
            raise ValueError(
                f"{param}={str(path)!r} has no tokenizer files: expected tokenizer.json, or "
                "vocab.json and merges.txt (as saved by a GPT-2 tokenizer's save_pretrained)"
            )
        if tokenizer.token_to_id(separator) is None:
            raise ValueError(
                f"{param}={str(path)!r}: the tokenizer has no end-of-text token {separator!r}"
            )
        n_tokens = tokenizer.get_vocab_size(with_added_tokens=True)
        tok = cls(vocab_size=n_tokens)
        tok._set_tokenizer(tokenizer, separator)
        return tok

    def get_state(self):
        """Parameters and the ``tokenizers`` JSON as a JSON-serialisable dict."""
        if not hasattr(self, "n_tokens_"):
            return self._state()
        return self._state(tokenizer=self.tokenizer_.to_str(), separator=self.separator_)

    @classmethod
    def from_state(cls, state):
        """Rebuild the tokenizer saved by :meth:`get_state`."""
        tok, fitted = cls._check_state(state)
        if fitted is not None:
            tk = _import_tokenizers()
            tok._set_tokenizer(tk.Tokenizer.from_str(fitted["tokenizer"]), fitted["separator"])
        return tok


TOKENIZERS = {"char": CharTokenizer, "byte": ByteTokenizer, "bpe": BPETokenizer}


def make_lm_tokenizer(kind, *, vocab_size=1024):
    """A new tokenizer of kind ``"char"``, ``"byte"`` or ``"bpe"`` (``vocab_size`` for BPE)."""
    if kind not in TOKENIZERS:
        raise ValueError(f"tokenizer must be one of {sorted(TOKENIZERS)}, got {kind!r}")
    return BPETokenizer(vocab_size=vocab_size) if kind == "bpe" else TOKENIZERS[kind]()


def lm_tokenizer_from_state(state):
    """Rebuild any of the tokenizers above from its :meth:`get_state` dict."""
    formats = {f"skdeep.{cls.__name__}": cls for cls in TOKENIZERS.values()}
    cls = formats.get(state.get("format") if isinstance(state, dict) else None)
    if cls is None:
        raise ValueError(f"state is not a saved tokenizer; expected a format in {sorted(formats)}")
    return cls.from_state(state)
