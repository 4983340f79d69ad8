"""Language-model tokenizers: characters, bytes, byte-level BPE; JSON state; streaming."""

import json
import sys

import numpy as np
import pytest

from skdeep.datasets._tiny_shakespeare import load_tiny_shakespeare
from skdeep.preprocessing.lm_tokenizers import (
    BPETokenizer,
    ByteTokenizer,
    CharTokenizer,
    lm_tokenizer_from_state,
    make_lm_tokenizer,
)

UNICODE = "naïve café, 東京 🎉👨‍👩‍👧 \u0928\u092e\u0938\u094d\u0924\u0947\n\ttab"


@pytest.fixture(scope="module")
def shakespeare():
    return load_tiny_shakespeare(return_text=True)[:60_000]


@pytest.fixture(scope="module")
def bpe(shakespeare):
    pytest.importorskip("tokenizers")
    return BPETokenizer(vocab_size=512).fit([shakespeare, UNICODE])


def fitted(kind, texts):
    return make_lm_tokenizer(kind, vocab_size=300).fit(texts)


def test_char_ids_are_sorted_characters(shakespeare):
    tok = CharTokenizer().fit(shakespeare)
    assert tok.chars_ == "".join(sorted(set(shakespeare)))
    assert len(tok) == len(tok.chars_) + 2 == tok.sep_id + 1 == tok.unk_id + 2
    ids = tok.encode("First")
    assert ids.dtype == np.int64
    assert ids.tolist() == [tok.chars_.index(c) for c in "First"]
    assert tok.decode(ids) == "First"


def test_char_unknown_characters():
    tok = CharTokenizer().fit(["abc"])
    ids = tok.encode("abz€c")
    assert ids.tolist() == [0, 1, tok.unk_id, tok.unk_id, 2]
    assert tok.decode(ids) == "ab\ufffd\ufffdc"
    # a lone surrogate is a character like any other (it is a valid Python str)
    assert tok.encode("a\ud800").tolist() == [0, tok.unk_id]


def test_byte_round_trips_any_text():
    tok = ByteTokenizer().fit(["x"])
    assert len(tok) == 257 and tok.sep_id == 256 and tok.unk_id is None
    ids = tok.encode(UNICODE)
    assert ids.tolist() == list(UNICODE.encode("utf-8"))
    assert tok.decode(ids) == UNICODE
    with pytest.raises(ValueError, match=r"text holds a lone surrogate '\\ud800' at index 1"):
        tok.encode("a\ud800")


def test_bpe_round_trip_and_compression(bpe, shakespeare):
    held_out = load_tiny_shakespeare(split="validation", return_text=True)[:20_000]
    ids = bpe.encode(held_out)
    assert bpe.decode(ids) == held_out
    # BPE needs far fewer tokens than characters (about 0.46 per character here)
    assert len(ids) / len(held_out) < 0.55
    assert bpe.decode(bpe.encode(UNICODE)) == UNICODE
    assert len(bpe) == 512 and bpe.unk_id is None
    assert (
        bpe.decode(bpe.encode("never seen: \u222e \U0001d518")) == "never seen: \u222e \U0001d518"
    )


def test_bpe_literal_separator_text_is_not_the_separator(bpe):
    ids = bpe.encode("a <|endoftext|> b")
    assert bpe.sep_id not in ids.tolist()
    assert bpe.decode(ids) == "a <|endoftext|> b"


def test_bpe_bad_params_and_input():
    pytest.importorskip("tokenizers")
    with pytest.raises(ValueError, match=r"vocab_size must be an int >= 258"):
        BPETokenizer(vocab_size=100).fit(["abc"])
    with pytest.raises(ValueError, match=r"min_frequency must be an int >= 1"):
        BPETokenizer(min_frequency=0).fit(["abc"])
    with pytest.raises(ValueError, match=r"texts\[1\] holds a lone surrogate"):
        BPETokenizer(vocab_size=300).fit(["abc", "a\udc00"])


def test_bpe_without_tokenizers_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "tokenizers", None)  # makes `import tokenizers` fail
    with pytest.raises(ImportError, match=r"tokenizer='bpe' needs .*pip install tokenizers"):
        BPETokenizer().fit(["some text"])


@pytest.mark.parametrize("kind", ["char", "byte", "bpe"])
def test_encode_corpus_joins_documents_with_separators(kind):
    if kind == "bpe":
        pytest.importorskip("tokenizers")
    tok = fitted(kind, ["first doc", "second"])
    stream = tok.encode_corpus(["first doc", "second"])
    sep = tok.sep_id
    expected = [sep, *tok.encode("first doc"), sep, *tok.encode("second"), sep]
    assert stream.tolist() == expected
    assert tok.encode_corpus("one text").tolist() == [sep, *tok.encode("one text"), sep]
    assert tok.decode(stream) == "first docsecond"  # separators are not text


@pytest.mark.parametrize("kind", ["char", "byte", "bpe"])
def test_state_round_trip_through_json(kind):
    if kind == "bpe":
        pytest.importorskip("tokenizers")
    texts = ["the cat sat on the mat", UNICODE]
    tok = fitted(kind, texts)
    state = json.loads(json.dumps(tok.get_state()))
    assert state["format"] == f"skdeep.{type(tok).__name__}" and state["version"] == 1
    for restored in (type(tok).from_state(state), lm_tokenizer_from_state(state)):
        assert type(restored) is type(tok)
        assert restored.get_params() == tok.get_params()
        for text in [*texts, "unseen ✓ text"]:
            assert restored.encode(text).tolist() == tok.encode(text).tolist()
        assert restored.decode(tok.encode(UNICODE)) == tok.decode(tok.encode(UNICODE))
        assert restored.sep_id == tok.sep_id and len(restored) == len(tok)
    unfitted = type(tok).from_state(json.loads(json.dumps(type(tok)().get_state())))
    with pytest.raises(AttributeError, match="not fitted yet"):
        unfitted.encode("x")


def test_bad_state():
    state = CharTokenizer().fit(["ab"]).get_state()
    with pytest.raises(ValueError, match="state is not a saved ByteTokenizer"):
        ByteTokenizer.from_state(state)
    with pytest.raises(ValueError, match="format version 99"):
        CharTokenizer.from_state({**state, "version": 99})
    with pytest.raises(ValueError, match="distinct sorted characters"):
        CharTokenizer.from_state({**state, "fitted": {"chars": "ba"}})
    with pytest.raises(ValueError, match="state is not a saved tokenizer"):
        lm_tokenizer_from_state({"format": "skdeep.Other"})


@pytest.mark.parametrize("kind", ["char", "byte", "bpe"])
def test_streamed_pieces_join_to_the_decoded_text(kind):
    if kind == "bpe":
        pytest.importorskip("tokenizers")
    tok = fitted(kind, [UNICODE, "plain ascii text"])
    ids = tok.encode(UNICODE)
    decoder = tok.stream_decoder()
    pieces = [decoder.decode([i]) for i in ids] + [decoder.flush()]
    assert "".join(pieces) == tok.decode(ids) == UNICODE
    if kind != "char":
        # a multi-byte character appears only once all its bytes have arrived
        assert "" in pieces[:-1]
        # arbitrary ids (invalid UTF-8, cut characters) still join to decode(all ids)
        rng = np.random.default_rng(0)
        for _ in range(20):
            ids = rng.integers(0, len(tok), size=30)
            decoder = tok.stream_decoder()
            streamed = "".join(decoder.decode(ids[i : i + 3]) for i in range(0, 30, 3))
            assert streamed + decoder.flush() == tok.decode(ids)


def test_incomplete_character_at_the_end_reads_as_replacement():
    tok = ByteTokenizer().fit(["x"])
    decoder = tok.stream_decoder()
    assert decoder.decode(list("é".encode())[:1]) == ""
    assert decoder.flush() == "\ufffd"


@pytest.mark.parametrize("kind", ["char", "byte"])
def test_bad_input(kind):
    tok = make_lm_tokenizer(kind)
    with pytest.raises(ValueError, match="expected at least one text"):
        tok.fit([])
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str, got int"):
        tok.fit(["a", 3])
    with pytest.raises(AttributeError, match="not fitted yet"):
        CharTokenizer().encode("a")
    tok.fit(["abc"])
    with pytest.raises(ValueError, match=r"every id must lie in \[0, "):
        tok.decode([0, len(tok)])
    with pytest.raises(ValueError, match="expected a 1-D sequence of ids"):
        tok.decode([[0, 1]])
    with pytest.raises(TypeError, match="text must be a str, got bytes"):
        tok.encode(b"abc")
    with pytest.raises(ValueError, match=r"tokenizer must be one of \['bpe', 'byte', 'char'\]"):
        make_lm_tokenizer("word")
