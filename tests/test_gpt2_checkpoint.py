"""Loading a Hugging Face GPT-2 checkpoint into skdeep's GPT: same logits, same tokens.

The checkpoint is a tiny randomly initialised ``GPT2LMHeadModel`` and a tiny byte-level BPE
tokenizer, both built here and saved with ``save_pretrained``: nothing is downloaded.
"""

import json

import pytest
import torch

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from _gpt2_tiny import TEXT, make_tiny_gpt2  # noqa: E402

from skdeep.nn.gpt2_checkpoint import load_gpt2  # noqa: E402
from skdeep.preprocessing.lm_tokenizers import BPETokenizer  # noqa: E402

PROMPTS = ["First Citizen:\nBefore", "All", "You are all resolved rather to die"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("gpt2")
    model = make_tiny_gpt2(path)
    hf_tokenizer = transformers.GPT2TokenizerFast.from_pretrained(path)
    return path, model, hf_tokenizer


def left_padded(hf_tokenizer, prompts):
    ids = [hf_tokenizer(p)["input_ids"] for p in prompts]
    width = max(map(len, ids))
    pad = hf_tokenizer.convert_tokens_to_ids("<|endoftext|>")
    input_ids = torch.tensor([[pad] * (width - len(i)) + i for i in ids])
    mask = torch.tensor([[0] * (width - len(i)) + [1] * len(i) for i in ids])
    return ids, input_ids, mask


def test_tokenizer_matches_transformers(checkpoint):
    path, _, hf_tokenizer = checkpoint
    tok = BPETokenizer.from_pretrained(path)
    assert len(tok) == len(hf_tokenizer)
    assert tok.sep_id == hf_tokenizer.convert_tokens_to_ids("<|endoftext|>")
    for text in [*PROMPTS, TEXT[:300], "unseen wörds 🎉 and   spaces\n"]:
        assert tok.encode(text).tolist() == hf_tokenizer(text)["input_ids"]
        assert tok.decode(tok.encode(text)) == text
    # tokenizer.json (what a fast tokenizer's save_pretrained also writes) reads the same
    json_dir = path / "json"
    hf_tokenizer.save_pretrained(json_dir)
    (json_dir / "vocab.json").unlink(missing_ok=True)  # keep only tokenizer.json
    from_json = BPETokenizer.from_pretrained(json_dir)
    assert from_json.encode(TEXT[:300]).tolist() == tok.encode(TEXT[:300]).tolist()


def test_logits_match_transformers(checkpoint):
    path, model, hf_tokenizer = checkpoint
    gpt = load_gpt2(path).eval()
    assert gpt.block_size == 24 and gpt.config["activation"] == "gelu_tanh"
    ids = torch.tensor([hf_tokenizer(TEXT)["input_ids"][:24]])
    with torch.no_grad():
        expected = model(ids).logits
    assert expected.std() > 1  # not a near-constant output
    torch.testing.assert_close(gpt(ids), expected, atol=1e-5, rtol=1e-5)


def test_greedy_generation_matches_transformers(checkpoint):
    path, model, hf_tokenizer = checkpoint
    gpt = load_gpt2(path)
    ids, input_ids, mask = left_padded(hf_tokenizer, PROMPTS)
    n_new = 24 - input_ids.shape[1]  # transformers cannot go past n_positions
    expected = model.generate(
        input_ids,
        attention_mask=mask,
        max_new_tokens=n_new,
        min_new_tokens=n_new,
        do_sample=False,
        pad_token_id=hf_tokenizer.convert_tokens_to_ids("<|endoftext|>"),
    )[:, input_ids.shape[1] :]
    # skdeep batches the prompts with per-row positions (no padding on the left)
    assert torch.equal(gpt.generate(ids, n_new, temperature=0), expected)
    assert torch.equal(gpt.generate(ids, n_new, temperature=0, use_cache=False), expected)


def test_cache_and_recompute_agree_past_block_size(checkpoint):
    gpt = load_gpt2(checkpoint[0])
    prompts = [[5, 6, 7], [8]]
    assert torch.equal(
        gpt.generate(prompts, 60, temperature=0),
        gpt.generate(prompts, 60, temperature=0, use_cache=False),
    )


def test_not_a_gpt2_directory(tmp_path, checkpoint):
    path = checkpoint[0]
    with pytest.raises(ValueError, match=r"pretrained='.*nowhere' is not a directory"):
        load_gpt2(tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"pretrained=.* has no config.json"):
        load_gpt2(tmp_path)
    other = tmp_path / "llama"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(ValueError, match=r"model_type 'llama', expected 'gpt2'"):
        load_gpt2(other)
    no_weights = tmp_path / "no_weights"
    no_weights.mkdir()
    (no_weights / "config.json").write_text((path / "config.json").read_text())
    (no_weights / "pytorch_model.bin").write_bytes(b"")
    with pytest.raises(ValueError, match=r"no model.safetensors \(pytorch_model.bin is a pickle"):
        load_gpt2(no_weights)
    with pytest.raises(ValueError, match=r"pretrained=.* has no tokenizer files"):
        BPETokenizer.from_pretrained(no_weights)
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    config = json.loads((path / "config.json").read_text())
    (wrong / "config.json").write_text(json.dumps({**config, "n_embd": 64}))
    (wrong / "model.safetensors").write_bytes((path / "model.safetensors").read_bytes())
    with pytest.raises(ValueError, match=r"do not match its config.json .*wrong shape"):
        load_gpt2(wrong)
    variant = tmp_path / "variant"
    variant.mkdir()
    (variant / "config.json").write_text(json.dumps({**config, "activation_function": "relu"}))
    with pytest.raises(ValueError, match=r"not supported \(activation_function='relu'\)"):
        load_gpt2(variant)
