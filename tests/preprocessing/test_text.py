import json
import tracemalloc

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skdeep.preprocessing.text import PAD_ID, UNK_ID, TextVocabulary, check_texts

TEXTS = ["the cat sat", "the dog sat", "a cat ran!"]


def test_vocabulary_order_and_reserved_ids():
    vocab = TextVocabulary().fit(TEXTS)
    assert (PAD_ID, UNK_ID) == (0, 1)
    # by decreasing count, ties alphabetical
    assert vocab.tokens_ == ["<pad>", "<unk>", "cat", "sat", "the", "!", "a", "dog", "ran"]
    assert all(vocab.vocabulary_[tok] == i for i, tok in enumerate(vocab.tokens_))
    assert vocab.token_counts_["the"] == 2
    assert len(vocab) == 9
    assert vocab.transform(["the cat", "zebra"])[0].dtype == np.int64
    np.testing.assert_array_equal(vocab.transform(["the zebra"])[0], [4, UNK_ID])


def test_fit_is_deterministic_regardless_of_text_order():
    assert TextVocabulary().fit(TEXTS).tokens_ == TextVocabulary().fit(TEXTS[::-1]).tokens_


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"min_freq": 2}, ["cat", "sat", "the"]),
        ({"max_vocab_size": 2}, ["cat", "sat"]),
        ({"min_freq": 3}, []),
    ],
)
def test_min_freq_and_max_vocab_size(params, expected):
    vocab = TextVocabulary(**params).fit(TEXTS)
    assert vocab.tokens_ == ["<pad>", "<unk>", *expected]
    np.testing.assert_array_equal(vocab.transform(["dog"])[0], [UNK_ID])


def test_lowercase():
    assert TextVocabulary().fit(["Hello HELLO hello"]).tokens_[2:] == ["hello"]
    vocab = TextVocabulary(lowercase=False).fit(["Hello HELLO hello"])
    assert vocab.tokens_[2:] == ["HELLO", "Hello", "hello"]
    assert vocab.inverse_transform(vocab.transform(["hello HeLLo"])) == ["hello <unk>"]


def test_normalize_digits_maps_numbers_of_one_shape_to_one_token():
    vocab = TextVocabulary(normalize_digits=True).fit(["call 09061743811 now", "win £100"])
    assert vocab.tokens_[2:] == ["000", "00000000000", "call", "now", "win", "£"]
    # A number never seen in training, in another script's digits too, is not unknown.
    unseen = vocab.transform(["call 08001234567", "win \u0661\u0662\u0663"])
    assert vocab.inverse_transform(unseen) == ["call 00000000000", "win 000"]
    assert TextVocabulary().fit(["call 0906"]).transform(["call 0800"])[0][1] == UNK_ID
    # The tokens of a callable tokenizer are normalized too.
    vocab = TextVocabulary(tokenizer=str.split, normalize_digits=True).fit(["a1 B22"])
    assert vocab.tokens_[2:] == ["a0", "b00"]


def test_callable_tokenizer():
    vocab = TextVocabulary(tokenizer=str.split, lowercase=False).fit(["a-b a-b c"])
    assert vocab.tokens_[2:] == ["a-b", "c"]
    chars = TextVocabulary(tokenizer=list, max_length=3).fit(["abcdef"])
    assert chars.tokens_[2:] == ["a", "b", "c"]  # fit sees only the first max_length tokens


def test_callable_tokenizer_bad_output():
    with pytest.raises(TypeError, match="tokenizer must return a list of str, got str"):
        TextVocabulary(tokenizer=str.lower).fit(["abc"])
    with pytest.raises(TypeError, match="got an item of type int"):
        TextVocabulary(tokenizer=lambda s: [len(s)]).fit(["abc"])


def test_reserved_strings_from_a_callable_tokenizer_are_not_padding():
    vocab = TextVocabulary(tokenizer=str.split).fit(["<pad> <unk> x"])
    assert vocab.tokens_ == ["<pad>", "<unk>", "x"]
    np.testing.assert_array_equal(vocab.transform(["<pad> <unk> x"])[0], [UNK_ID, UNK_ID, 2])


def test_max_length_truncates_a_huge_text_with_bounded_memory():
    huge = "word " * 2_000_000  # 10 MB, 2 million tokens
    vocab = TextVocabulary(max_length=100).fit(["word other"])
    tracemalloc.start()
    (ids,) = vocab.transform([huge])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert ids.shape == (100,)
    assert peak < 1_000_000  # a list of 2M tokens would take > 100 MB


def test_empty_and_unknown_texts_give_at_least_one_step():
    vocab = TextVocabulary().fit(TEXTS)
    seqs = vocab.transform(["", "   \n", "zebra giraffe"])
    for seq, expected in zip(seqs, [[UNK_ID], [UNK_ID], [UNK_ID, UNK_ID]], strict=True):
        np.testing.assert_array_equal(seq, expected)
    _, lengths = vocab.encode_batch(["", "the cat"])
    assert lengths.tolist() == [1, 2]


def test_fit_on_texts_without_tokens():
    vocab = TextVocabulary().fit(["", " "])
    assert len(vocab) == 2
    np.testing.assert_array_equal(vocab.transform(["anything"])[0], [UNK_ID])


def test_unicode_round_trip():
    text = "Café naïve NAÏVE 東京タワー 😀 👍🏽 👨‍👩‍👧 🇫🇷 नमस्ते, мир!"
    tokens = "café naïve naïve 東京タワー 😀 👍🏽 👨‍👩‍👧 🇫🇷 नमस्ते , мир !"
    vocab = TextVocabulary().fit([text])
    assert vocab.inverse_transform(vocab.transform([text])) == [tokens]
    assert UNK_ID not in vocab.transform([text])[0]


def test_unicode_normalization():
    # decomposed "e" + combining acute is the same word as precomposed "é"
    vocab = TextVocabulary().fit(["caf\u00e9"])
    np.testing.assert_array_equal(vocab.transform(["cafe\u0301"])[0], [2])


def test_encode_batch_padding_and_lengths():
    vocab = TextVocabulary().fit(TEXTS)
    ids, lengths = vocab.encode_batch(["the cat sat", "dog", "a cat ran !"])
    assert ids.dtype == lengths.dtype == torch.int64
    assert ids.shape == (3, 4)
    assert lengths.tolist() == [3, 1, 4]
    expected = [[4, 2, 3, PAD_ID], [7, PAD_ID, PAD_ID, PAD_ID], [6, 2, 8, 5]]
    assert ids.tolist() == expected
    assert vocab.inverse_transform(ids) == ["the cat sat", "dog", "a cat ran !"]


def test_fit_transform_matches_fit_then_transform():
    seqs = TextVocabulary(max_length=2).fit_transform(TEXTS)
    expected = TextVocabulary(max_length=2).fit(TEXTS).transform(TEXTS)
    assert all(np.array_equal(a, b) for a, b in zip(seqs, expected, strict=True))
    assert max(len(s) for s in seqs) == 2


@pytest.mark.parametrize("normalize_digits", [False, True])
def test_get_state_json_round_trip(normalize_digits):
    vocab = TextVocabulary(
        max_vocab_size=np.int64(5), max_length=3, normalize_digits=normalize_digits
    ).fit([*TEXTS, "42 cats", "7 dogs"])
    restored = TextVocabulary.from_state(json.loads(json.dumps(vocab.get_state())))
    assert restored.get_params() == vocab.get_params()
    assert restored.tokens_ == vocab.tokens_
    assert restored.token_counts_ == vocab.token_counts_
    probe = [*TEXTS, "", "the unknown cat sat again", "99 cats"]
    for a, b in zip(restored.transform(probe), vocab.transform(probe), strict=True):
        np.testing.assert_array_equal(a, b)


def test_get_state_with_callable_tokenizer():
    vocab = TextVocabulary(tokenizer=str.split).fit(TEXTS)
    with pytest.raises(TypeError, match=r"callable tokenizer .* cannot be saved without pickle"):
        vocab.get_state()


def test_state_of_unfitted_vocabulary_and_bad_states():
    restored = TextVocabulary.from_state(TextVocabulary(min_freq=2).get_state())
    assert restored.min_freq == 2 and not hasattr(restored, "vocabulary_")
    with pytest.raises(ValueError, match="not a saved TextVocabulary"):
        TextVocabulary.from_state({"tokens": []})
    state = TextVocabulary().fit(TEXTS).get_state()
    with pytest.raises(ValueError, match="format version 99"):
        TextVocabulary.from_state({**state, "version": 99})
    # Saved before normalize_digits existed: the parameter's default applies.
    del state["params"]["normalize_digits"]
    assert TextVocabulary.from_state(state).normalize_digits is False


def test_not_fitted():
    vocab = TextVocabulary()
    assert vocab  # truthy even though len() would raise
    for call in (lambda: vocab.transform(["a"]), lambda: len(vocab)):
        with pytest.raises(NotFittedError):
            call()
    assert clone(TextVocabulary(min_freq=3)).min_freq == 3


@pytest.mark.parametrize(
    "make",
    [
        list,
        tuple,
        np.array,
        lambda t: np.array(t, dtype=object),
        lambda t: np.array(t)[:, None],
        lambda t: pd.Series(t, index=[10, 20]),
        lambda t: pd.Series(t, dtype="string"),
        lambda t: pd.DataFrame({"text": t}),
        iter,
    ],
)
def test_accepted_containers(make):
    texts = ["x y", "z"]
    assert check_texts(make(texts)) == texts
    ids, _ = TextVocabulary().fit(["x y z"]).encode_batch(make(texts))
    assert ids.tolist() == [[2, 3], [4, 0]]


@pytest.mark.parametrize(
    "texts, error, match",
    [
        ("a text", TypeError, "got a single string; wrap it in a list"),
        (b"a text", TypeError, "got a single bytes object"),
        (42, TypeError, "expected a sequence of texts .* got int"),
        ([], ValueError, "expected at least one text"),
        (["a", "b", "c", None], ValueError, r"texts\[3\] is missing \(None/NaN\)"),
        (["a", np.nan], ValueError, r"texts\[1\] is missing"),
        (pd.Series(["a", None], dtype="string"), ValueError, r"texts\[1\] is missing"),
        (pd.Series(["a", None], index=["u", "v"]), ValueError, r"\[1\] \(index label 'v'\)"),
        (["a", 3], TypeError, r"texts\[1\] must be a str, got int"),
        (["a", b"b"], TypeError, r"texts\[1\] must be a str, got bytes"),
        ([["a", "b"]], TypeError, r"texts\[0\] must be a str, got list"),
        (pd.DataFrame({"a": ["x"], "b": ["y"]}), ValueError, "DataFrame with 2 columns"),
        (np.array([["x", "y"]]), ValueError, r"got an array of shape \(1, 2\)"),
    ],
)
def test_bad_texts(texts, error, match):
    with pytest.raises(error, match=match):
        TextVocabulary().fit(texts)


def test_check_texts_names_the_argument():
    with pytest.raises(ValueError, match=r"X\[0\] is missing"):
        check_texts([None])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"tokenizer": "char"}, "tokenizer must be 'word' or a callable .*, got 'char'"),
        ({"lowercase": "yes"}, "lowercase must be True or False, got 'yes'"),
        ({"max_vocab_size": 0}, r"max_vocab_size must be None or an int >= 1, got 0"),
        ({"max_vocab_size": 2.5}, r"max_vocab_size must be None or an int >= 1, got 2.5"),
        ({"min_freq": 0}, r"min_freq must be an int >= 1, got 0"),
        ({"min_freq": True}, r"min_freq must be an int >= 1, got True"),
        ({"max_length": -1}, r"max_length must be None or an int >= 1, got -1"),
        ({"normalize_digits": 1}, r"normalize_digits must be True or False, got 1"),
    ],
)
def test_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        TextVocabulary(**params).fit(TEXTS)


def test_inverse_transform_errors():
    vocab = TextVocabulary().fit(TEXTS)
    with pytest.raises(TypeError, match="wrap a single sequence in a list"):
        vocab.inverse_transform(np.array([2, 3]))
    with pytest.raises(ValueError, match=r"ids\[0\] holds ids outside \[0, 9\)"):
        vocab.inverse_transform([[2, 99]])
