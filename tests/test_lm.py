"""TransformerLMGenerator: what is specific to the language model.

The shared contract (reproducibility, round trips, partial_fit, warm starts, callbacks,
shared-parameter errors) is in tests/test_common.py.
"""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

import skdeep
from skdeep.lm import TransformerLMGenerator, _LMNet
from skdeep.preprocessing.lm_tokenizers import BPETokenizer, ByteTokenizer, CharTokenizer

TINY = dict(
    n_layer=1,
    n_head=2,
    n_embd=32,
    block_size=16,
    batch_size=16,
    steps_per_epoch=50,
    max_epochs=2,
    warmup_steps=10,
    learning_rate=1e-2,
    random_state=0,
    device="cpu",
)
# Sentences with a fixed shape: a trained model knows the word after each word.
DOCS = [f"the {a} sat on the {b}." for a in ("cat", "dog", "cow") for b in ("mat", "log")] * 4


@pytest.fixture(autouse=True)
def _one_thread():
    # 2 shared cores: a second OpenMP thread only waits. Results do not depend on it.
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def periodic():
    """A model that has learned one periodic text."""
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        return TransformerLMGenerator(**TINY).fit("abcdefgh" * 60)


@pytest.fixture(scope="module")
def sentences():
    """A model that has learned DOCS (documents ending with a separator)."""
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        return TransformerLMGenerator(**{**TINY, "max_epochs": 4}).fit(DOCS)


# --- learning -------------------------------------------------------------------------


def test_learns_a_periodic_text(periodic):
    assert periodic.generate("abc", 20, temperature=0) == "defghabcdefghabcdefg"
    # nats per character (ln 8 = 2.08 by chance); the first character and the document's
    # end, which the model cannot know, cost the most
    assert periodic.score("abcdefgh" * 12) > -0.2
    assert periodic.perplexity("abcdefgh" * 12) == pytest.approx(
        math.exp(-periodic.score("abcdefgh" * 12))
    )
    assert isinstance(periodic.tokenizer_, CharTokenizer)
    assert periodic.gpt_config_["block_size"] == 16
    assert [row["epoch"] for row in periodic.history_] == [1, 2]


def test_generation_ends_with_the_document(sentences):
    # Each training document is followed by the separator: a finished sentence ends the text.
    text = sentences.generate("the cat sat on the", 40, temperature=0)
    assert text in (" mat.", " log.")
    texts = sentences.generate(["the dog", "the cow sat"], 40, temperature=0)
    assert texts[0].startswith(" sat on the ") and texts[0].endswith(".")
    assert texts[1].startswith(" on the ") and len(texts[1]) < 40
    # An empty prompt starts a new document.
    assert sentences.generate("", 40, temperature=0).startswith("the ")


# --- generation -----------------------------------------------------------------------


def test_generate_returns_a_string_or_a_list(periodic):
    assert isinstance(periodic.generate("ab", 5), str)
    out = periodic.generate(["ab", "efg", ""], 5, random_state=0)
    assert isinstance(out, list) and len(out) == 3
    assert periodic.generate(("ab",), 0) == [""]
    assert periodic.generate("ab", 0) == ""


def test_same_random_state_same_text(periodic):
    kwargs = dict(max_new_tokens=30, temperature=2.0, random_state=0)
    first = periodic.generate("abc", **kwargs)
    assert periodic.generate("abc", **kwargs) == first
    assert periodic.generate("abc", **{**kwargs, "random_state": 1}) != first
    rng = np.random.RandomState(0)
    state = np.random.get_state()
    periodic.generate("abc", 10, random_state=None)
    assert np.array_equal(np.random.get_state()[1], state[1])  # global RNG untouched
    periodic.generate("abc", 10, random_state=rng)  # a RandomState is accepted


def test_batched_prompts_match_single_prompts(periodic):
    prompts = ["a", "bcdefgh" * 4, "hab"]
    batch = periodic.generate(prompts, 25, temperature=0)
    assert batch == [periodic.generate(p, 25, temperature=0) for p in prompts]


def test_streamed_pieces_join_to_the_generated_text(sentences):
    kwargs = dict(max_new_tokens=40, temperature=1.5, random_state=3)
    pieces = list(sentences.generate_stream("the", **kwargs))
    assert len(pieces) > 1 and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces) == sentences.generate("the", **kwargs)
    assert "".join(sentences.generate("the", stream=True, **kwargs)) == "".join(pieces)
    steps = list(sentences.generate_stream(["the", "a"], **kwargs))
    joined = ["".join(step[i] for step in steps) for i in range(2)]
    assert joined == sentences.generate(["the", "a"], **kwargs)


def test_stop_strings(sentences):
    full = sentences.generate("the cat", 40, temperature=0)
    assert " on " in full
    cut = sentences.generate("the cat", 40, temperature=0, stop=" on ")
    assert cut == full[: full.index(" on ")]
    both = sentences.generate("the cat", 40, temperature=0, stop=["zzz", "on"])
    assert both == full[: full.index("on")]
    # held back while it may begin a stop string, released when it does not
    pieces = list(sentences.generate_stream("the cat", 40, temperature=0, stop=" on "))
    assert "".join(pieces) == cut
    assert sentences.generate("the cat", 40, temperature=0, stop="never") == full


def test_unseen_characters_and_long_prompts(periodic):
    assert isinstance(periodic.generate("xyz€ab", 5, temperature=0), str)
    long = "abcdefgh" * 10  # 80 characters, block_size 16: the end is kept
    assert periodic.generate(long, 8, temperature=0) == "abcdefgh"


def test_byte_tokenizer_streams_whole_characters():
    lm = TransformerLMGenerator(**{**TINY, "tokenizer": "byte", "max_epochs": 1})
    lm.fit(["naïve café 東京 🎉 " * 10])
    assert isinstance(lm.tokenizer_, ByteTokenizer)
    kwargs = dict(max_new_tokens=40, temperature=1.0, random_state=0)
    pieces = list(lm.generate_stream("caf", **kwargs))
    assert "".join(pieces) == lm.generate("caf", **kwargs)


def test_temperature_zero_ignores_random_state(periodic):
    assert periodic.generate("ab", 10, temperature=0, random_state=0) == periodic.generate(
        "ab", 10, temperature=0, random_state=1
    )


# --- scoring --------------------------------------------------------------------------


def manual_nll(lm, text):
    """Summed NLL and count of a document that fits in one window, computed directly."""
    tok = lm.tokenizer_
    ids = torch.tensor([[tok.sep_id, *tok.encode(text), tok.sep_id]])
    with torch.no_grad():
        logits = lm.module_.eval()(ids[:, :-1])
    return F.cross_entropy(logits[0], ids[0, 1:], reduction="sum").item(), ids.shape[1] - 1


def test_score_is_mean_log_likelihood_per_token(sentences):
    docs = ["the cat sat", "the dog sat.", ""]  # each fits in one window of 16
    nll, n = zip(*(manual_nll(sentences, d) for d in docs), strict=True)
    np.testing.assert_allclose(
        sentences.score_samples(docs), -np.array(nll) / np.array(n), rtol=1e-5
    )
    assert sentences.score(docs) == pytest.approx(-sum(nll) / sum(n), rel=1e-5)
    assert sentences.score("the cat sat") == pytest.approx(sentences.score(["the cat sat"]))


def test_long_documents_are_read_in_sliding_windows(sentences):
    # 18 characters + 2 separators = 20 tokens, block_size 16: the first window predicts
    # tokens 1-16, the second (starting half a window later, at 8) tokens 17-19 with at
    # least 8 tokens of context each. Each token is counted once.
    text = "the cow sat on it"
    tok = sentences.tokenizer_
    ids = torch.tensor([tok.sep_id, *tok.encode(text + "."), tok.sep_id])
    assert len(ids) == 20
    model = sentences.module_.eval()
    with torch.no_grad():
        first = F.cross_entropy(model(ids[None, 0:16])[0], ids[1:17], reduction="sum")
        second = F.cross_entropy(model(ids[None, 8:19])[0, -3:], ids[17:20], reduction="sum")
    nll, counts = sentences._document_losses([text + ".", "the cat"])
    assert counts.tolist() == [19, 8]
    assert nll[0] == pytest.approx((first + second).item(), rel=1e-5)


def test_score_selects_models_in_sklearn_tools(sentences):
    lm = TransformerLMGenerator(**{**TINY, "max_epochs": 1, "steps_per_epoch": 20})
    scores = cross_val_score(lm, DOCS, cv=2)
    assert scores.shape == (2,) and np.all(np.isfinite(scores)) and np.all(scores < 0)
    search = GridSearchCV(lm, {"learning_rate": [1e-5, 1e-2]}, cv=2).fit(DOCS)
    assert search.best_params_ == {"learning_rate": 1e-2}  # 1e-5 learns nothing


# --- tokenizers, options, persistence -------------------------------------------------


def test_bpe_tokenizer_and_save_load(tmp_path):
    pytest.importorskip("tokenizers")
    lm = TransformerLMGenerator(**{**TINY, "tokenizer": "bpe", "vocab_size": 300})
    lm.fit(DOCS)
    assert isinstance(lm.tokenizer_, BPETokenizer) and len(lm.tokenizer_) <= 300
    skdeep.save(lm, tmp_path / "lm.skdeep")
    loaded = skdeep.load(tmp_path / "lm.skdeep")
    assert loaded.score(DOCS[:3]) == lm.score(DOCS[:3])
    kwargs = dict(max_new_tokens=10, random_state=0)
    assert loaded.generate("the", **kwargs) == lm.generate("the", **kwargs)


@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "muon"},
        {"rotary": True, "qk_norm": True, "activation": "relu2", "zero_init": True},
        {"bias": True, "dropout": 0.1, "grad_clip": None},
    ],
    ids=["muon", "modern", "bias-dropout"],
)
def test_model_options_train(options, tmp_path):
    muon = options.get("optimizer") == "muon"
    # torch's Muon orthogonalises in bfloat16, slow on a CPU: fewer steps for it.
    steps = {"steps_per_epoch": 20, "warmup_steps": 5} if muon else {}
    lm = TransformerLMGenerator(**{**TINY, **options, **steps}).fit("abcdefgh" * 60)
    losses = [row["train_loss"] for row in lm.history_]
    assert losses[-1] < losses[0] < 3.0
    assert lm.score("abcdefgh" * 12) > (-1.0 if muon else -0.5)
    if muon:
        assert isinstance(lm.net_.optimizer_muon_, torch.optim.Muon)
        # the second optimiser is saved too: training resumes identically after load
        skdeep.save(lm, tmp_path / "muon.skdeep")
        loaded = skdeep.load(tmp_path / "muon.skdeep")
        lm.partial_fit("abcdefgh" * 60)
        loaded.partial_fit("abcdefgh" * 60)
        for a, b in zip(lm.module_.parameters(), loaded.module_.parameters(), strict=True):
            assert torch.equal(a, b)


def test_learning_rate_schedule():
    net = _LMNet.__new__(_LMNet)
    net.warmup_steps, net.total_steps = 10, 110
    assert net.lr_factor(0) == pytest.approx(1 / 11)
    assert net.lr_factor(9) == pytest.approx(10 / 11)
    assert net.lr_factor(10) == pytest.approx(1.0)
    assert net.lr_factor(60) == pytest.approx(0.55)
    assert net.lr_factor(110) == pytest.approx(0.1) == net.lr_factor(500)


def test_early_stopping_holds_out_the_end_of_the_text():
    text = "abcdefgh" * 40 + "zyxwvuts" * 10  # the tail differs from the rest
    lm = TransformerLMGenerator(**{**TINY, "early_stopping": True, "validation_fraction": 0.2})
    lm.fit(text)
    assert all("valid_loss" in row for row in lm.history_)
    _, valid = lm._validation_split(
        lm._prepare_data(text, None, None, first_call=False, partial=False, classes=None)[0]
    )
    assert len(valid) == math.ceil(0.2 * (len(text) + 2))
    assert lm.tokenizer_.decode(valid.ids).startswith("zyxwvuts"[-((len(valid) - 1) % 8) :])


# --- bad input ------------------------------------------------------------------------


def test_bad_corpus():
    lm = TransformerLMGenerator(**TINY)
    with pytest.raises(ValueError, match="expected at least one text"):
        lm.fit([])
    with pytest.raises(TypeError, match=r"X\[1\] must be a str, got int"):
        lm.fit(["some text", 3])
    with pytest.raises(
        ValueError, match=r"corpus has 7 tokens .* needs at least 17 \(block_size \+ 1\)"
    ):
        lm.fit("short")
    with pytest.raises(ValueError, match=r"validation_fraction=0.1 holds out its last 4 .*"):
        TransformerLMGenerator(**{**TINY, "early_stopping": True}).fit("x" * 30)


def test_bad_parameters():
    with pytest.raises(InvalidParameterError, match=r"'n_embd' parameter .* divisible by n_head"):
        TransformerLMGenerator(**{**TINY, "n_embd": 30, "n_head": 4}).fit(DOCS)
    with pytest.raises(InvalidParameterError, match=r"'tokenizer' parameter .* Got 'word'"):
        TransformerLMGenerator(tokenizer="word").fit(DOCS)
    with pytest.raises(InvalidParameterError, match=r"'vocab_size' parameter"):
        TransformerLMGenerator(tokenizer="bpe", vocab_size=100).fit(DOCS)
    with pytest.raises(ValueError, match=r"pretrained='.*nowhere' is not a directory"):
        TransformerLMGenerator(pretrained="/nowhere").fit(DOCS)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"temperature": -1.0}, "temperature must be a finite number >= 0"),
        ({"top_p": 0.0}, r"top_p must be None or a number in \(0, 1\]"),
        ({"top_p": 1.2}, "top_p must be"),
        ({"top_k": 0}, "top_k must be None or an int >= 1"),
        ({"max_new_tokens": -1}, "max_new_tokens must be an int >= 0"),
        ({"stop": ""}, "stop must be None, a non-empty string or a list"),
        ({"stop": ["a", 3]}, "stop must be"),
    ],
)
def test_bad_generation_arguments(periodic, kwargs, match):
    with pytest.raises(ValueError, match=match):
        periodic.generate("ab", **kwargs)
    with pytest.raises(ValueError, match=match):
        periodic.generate_stream("ab", **kwargs)  # checked at the call, not when read


def test_bad_prompts(periodic):
    with pytest.raises(TypeError, match=r"prompt\[1\] must be a str"):
        periodic.generate(["ab", 3])


# --- pretrained GPT-2 -----------------------------------------------------------------


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory):
    pytest.importorskip("transformers")
    pytest.importorskip("tokenizers")
    from _gpt2_tiny import make_tiny_gpt2

    path = tmp_path_factory.mktemp("gpt2")
    return path, make_tiny_gpt2(path, n_positions=32)


def test_pretrained_gpt2_is_loaded_then_fine_tuned(gpt2_dir, tmp_path):
    path, hf_model = gpt2_dir
    text = "First Citizen:\nWe are accounted poor citizens, the patricians good.\n" * 10
    # Nearly no learning: the module holds the checkpoint's weights.
    frozen = TransformerLMGenerator(
        pretrained=str(path),
        block_size=16,
        batch_size=4,
        max_epochs=1,
        steps_per_epoch=1,
        learning_rate=1e-12,
        random_state=0,
    ).fit(text)
    assert isinstance(frozen.tokenizer_, BPETokenizer) and frozen.gpt_config_["block_size"] == 32
    ids = torch.tensor([frozen.tokenizer_.encode(text)[:32].tolist()])
    with torch.no_grad():
        torch.testing.assert_close(
            frozen.module_.eval()(ids), hf_model(ids).logits, atol=1e-4, rtol=1e-4
        )
    tuned = TransformerLMGenerator(
        pretrained=str(path),
        block_size=16,
        batch_size=4,
        max_epochs=1,
        steps_per_epoch=30,
        learning_rate=3e-3,
        warmup_steps=5,
        random_state=0,
    ).fit(text)
    assert tuned.score(text[:200]) > frozen.score(text[:200]) + 1.0
    assert isinstance(tuned.generate("First", 10, random_state=0), str)
    # Saved and loaded without the checkpoint directory: weights and BPE are in the file.
    skdeep.save(tuned, tmp_path / "tuned.skdeep")
    loaded = skdeep.load(tmp_path / "tuned.skdeep")
    assert loaded.score(text[:200]) == tuned.score(text[:200])
    with pytest.raises(InvalidParameterError, match=r"'block_size' parameter .* n_positions=32"):
        TransformerLMGenerator(pretrained=str(path), block_size=64).fit(text)


def test_pretrained_must_be_a_gpt2_checkpoint(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(ValueError, match=r"pretrained=.* model_type 'bert', expected 'gpt2'"):
        TransformerLMGenerator(pretrained=str(tmp_path)).fit(DOCS)
