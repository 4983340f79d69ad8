"""The GPT module: shapes, the key/value cache, batched generation, sampling, options."""

import pytest
import torch
import torch.nn.functional as F

from skdeep.nn.gpt import GPT, check_sampling_params, sample_next_token

VARIANTS = {
    "nanogpt": {},
    "gpt2": {"activation": "gelu_tanh"},
    "modern": {"rotary": True, "qk_norm": True, "activation": "relu2", "bias": False},
}


def make_model(seed=0, scale=0.5, **kwargs):
    torch.manual_seed(seed)
    params = {"vocab_size": 23, "block_size": 12, "n_layer": 2, "n_head": 2, "n_embd": 16}
    model = GPT(**{**params, **kwargs}).eval()
    # Larger weights than GPT-2's init: attention then really depends on the context, so a
    # wrong mask or position shows up in the logits.
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, scale)
    return model


PROMPTS = [[1, 2, 3, 4, 5], [7], [3] * 20, [9, 8]]


def test_forward_shape_and_tied_weights():
    model = make_model()
    assert model(torch.zeros(3, 7, dtype=torch.long)).shape == (3, 7, 23)
    assert model.lm_head.weight is model.transformer.wte.weight
    untied = GPT(23, 12, n_layer=1, n_head=2, n_embd=8, tie_weights=False)
    assert untied.lm_head.weight is not untied.transformer.wte.weight


def test_bad_construction():
    with pytest.raises(ValueError, match=r"n_embd=10 must be divisible by n_head=4"):
        GPT(10, 8, n_head=4, n_embd=10)
    with pytest.raises(ValueError, match=r"rotary=True needs an even head width"):
        GPT(10, 8, n_head=2, n_embd=6, rotary=True)
    with pytest.raises(ValueError, match=r"activation must be one of"):
        GPT(10, 8, n_head=2, n_embd=8, activation="swish")
    with pytest.raises(ValueError, match=r"block_size is 12"):
        make_model()(torch.zeros(1, 13, dtype=torch.long))


def test_init_matches_gpt2_recipe():
    model = GPT(50, 16, n_layer=4, n_head=2, n_embd=32)
    std = model.transformer.h[0].mlp.c_proj.weight.std().item()
    assert 0.5 * 0.02 / 8**0.5 < std < 1.5 * 0.02 / 8**0.5  # 0.02 / sqrt(2 * n_layer)
    zero = GPT(50, 16, n_layer=2, n_head=2, n_embd=32, zero_init=True)
    for block in zero.transformer.h:
        assert not block.attn.c_proj.weight.any() and not block.mlp.c_proj.weight.any()
    # every block starts as the identity: the output is ln_f of the embeddings
    x = torch.tensor([[1, 2, 3]])
    emb = zero.transformer.wte(x) + zero.transformer.wpe(torch.arange(3))
    expected = zero.lm_head(zero.transformer.ln_f(emb))
    torch.testing.assert_close(zero(x), expected)


def test_rotary_has_no_position_embedding():
    model = GPT(50, 16, n_layer=1, n_head=2, n_embd=16, rotary=True)
    assert "wpe" not in model.transformer
    assert not any("rope" in key for key in model.state_dict())  # recomputed, not saved


def test_parameter_groups_partition_the_parameters():
    for kwargs in VARIANTS.values():
        model = make_model(**kwargs)
        groups = model.parameter_groups()
        ids = [id(p) for group in groups.values() for p in group]
        assert len(ids) == len(set(ids)) == len(list(model.parameters()))
        assert all(p.dim() == 2 for p in groups["hidden_matrices"])
        assert len(groups["hidden_matrices"]) == 4 * model.n_layer
        assert all(p.dim() < 2 for p in groups["vectors"])


@pytest.mark.parametrize("variant", VARIANTS)
def test_cached_steps_give_the_full_forward_logits(variant):
    model = make_model(**VARIANTS[variant])
    x = torch.randint(0, 23, (3, 12), generator=torch.Generator().manual_seed(0))
    full = model(x)
    cache = model.new_cache(3)
    pieces = [model(x[:, :5], cache)]  # a prompt, then one token at a time
    pieces += [model(x[:, t : t + 1], cache) for t in range(5, 9)]
    pieces.append(model(x[:, 9:], cache))  # a chunk after stored tokens
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, atol=1e-5, rtol=1e-5)
    assert cache.lengths == [12, 12, 12]
    with pytest.raises(ValueError, match="at most 12 tokens per row"):
        model(x[:, :1], cache)


@pytest.mark.parametrize("variant", VARIANTS)
def test_cached_rows_at_different_positions(variant):
    # Right-padded prompts of lengths 2, 5 and 1, then single steps: each row sees only its
    # own tokens, at its own positions.
    model = make_model(**VARIANTS[variant])
    rows = [[1, 2, 3, 4, 5, 6, 7], [5, 4, 3, 2, 1, 0, 9], [8, 8, 8, 1, 2, 3, 4]]
    lengths = [2, 5, 1]
    cache = model.new_cache(3)
    padded = torch.tensor([r[:5] for r in rows])
    model.hidden_states(padded, cache, n_valid=lengths)
    steps = torch.tensor([r[n] for r, n in zip(rows, lengths, strict=True)])
    logits = model(steps[:, None], cache)[:, 0]
    for i, (r, n) in enumerate(zip(rows, lengths, strict=True)):
        alone = model(torch.tensor([r[: n + 1]]))[0, -1]
        torch.testing.assert_close(logits[i], alone, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("keep", [None, 1, 12])
def test_cache_and_recompute_generate_the_same_tokens(variant, keep):
    # 30 new tokens with block_size 12: every row's window slides several times.
    model = make_model(**VARIANTS[variant])
    greedy = model.generate(PROMPTS, 30, temperature=0, overflow_keep=keep)
    reference = model.generate(PROMPTS, 30, temperature=0, overflow_keep=keep, use_cache=False)
    assert torch.equal(greedy, reference)
    sampled = [
        model.generate(
            PROMPTS,
            30,
            top_k=10,
            top_p=0.9,
            overflow_keep=keep,
            use_cache=use_cache,
            generator=torch.Generator().manual_seed(3),
        )
        for use_cache in (True, False)
    ]
    assert torch.equal(*sampled)


def test_full_slide_is_nanogpt_generate():
    # overflow_keep=block_size: the context is always the last block_size tokens.
    model = make_model()
    idx = torch.tensor([PROMPTS[0]])
    for _ in range(30):
        logits = model(idx[:, -model.block_size :])[:, -1]
        idx = torch.cat([idx, logits.argmax(-1, keepdim=True)], dim=1)
    out = model.generate(idx[:, :5], 30, temperature=0, overflow_keep=model.block_size)
    assert torch.equal(out, idx[:, 5:])


def test_batched_generation_equals_one_prompt_at_a_time():
    model = make_model(**VARIANTS["modern"])
    batch = model.generate(PROMPTS, 30, temperature=0)
    alone = torch.cat([model.generate([p], 30, temperature=0) for p in PROMPTS])
    assert torch.equal(batch, alone)


def test_long_prompts_are_cropped_from_the_left():
    model = make_model()
    long = list(range(20))
    assert torch.equal(
        model.generate([long], 10, temperature=0), model.generate([long[-12:]], 10, temperature=0)
    )


def test_generate_restores_training_mode_and_checks_input():
    model = make_model().train()
    model.generate([[1]], 3)
    assert model.training
    with pytest.raises(ValueError, match="at least one token"):
        model.generate([[1], []], 3)
    with pytest.raises(ValueError, match=r"overflow_keep must be an int in \[1, block_size=12\]"):
        model.generate([[1]], 3, overflow_keep=13)
    assert model.generate([[1]], 0).shape == (1, 0)


def test_same_generator_seed_same_tokens():
    model = make_model()
    a = model.generate(PROMPTS, 20, generator=torch.Generator().manual_seed(7))
    b = model.generate(PROMPTS, 20, generator=torch.Generator().manual_seed(7))
    c = model.generate(PROMPTS, 20, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_sampling_filters():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]])).repeat(4000, 1)
    gen = torch.Generator().manual_seed(0)
    counts = torch.bincount(sample_next_token(logits, generator=gen), minlength=4) / 4000
    torch.testing.assert_close(counts, torch.tensor([0.5, 0.3, 0.15, 0.05]), atol=0.03, rtol=0)
    top2 = sample_next_token(logits, top_k=2, generator=gen)
    assert set(top2.tolist()) == {0, 1}
    # nucleus 0.75: 0.5 alone is not enough, 0.5 + 0.3 is
    nucleus = sample_next_token(logits, top_p=0.75, generator=gen)
    assert set(nucleus.tolist()) == {0, 1}
    assert set(sample_next_token(logits, top_p=0.8, generator=gen).tolist()) == {0, 1}
    assert set(sample_next_token(logits, top_p=0.81, generator=gen).tolist()) == {0, 1, 2}
    assert set(sample_next_token(logits, top_p=0.01, generator=gen).tolist()) == {0}
    # a low temperature concentrates on the most likely token, 0 is greedy
    cold = sample_next_token(logits, temperature=0.05, generator=gen)
    assert (cold == 0).float().mean() > 0.99
    assert sample_next_token(torch.tensor([[1.0, 3.0, 3.0]]), temperature=0).item() == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"temperature": -0.5}, "temperature must be a finite number >= 0"),
        ({"temperature": float("nan")}, "temperature must be"),
        ({"temperature": "hot"}, "temperature must be"),
        ({"top_k": 0}, r"top_k must be None or an int >= 1"),
        ({"top_k": 2.5}, "top_k must be"),
        ({"top_p": 0.0}, r"top_p must be None or a number in \(0, 1\]"),
        ({"top_p": 1.5}, "top_p must be"),
        ({"top_p": float("nan")}, "top_p must be"),
    ],
)
def test_bad_sampling_params(kwargs, match):
    params = {"temperature": 1.0, "top_k": None, "top_p": None, **kwargs}
    with pytest.raises(ValueError, match=match):
        check_sampling_params(**params)
    with pytest.raises(ValueError, match=match):
        make_model().generate([[1]], 2, **kwargs)


@pytest.mark.parametrize("variant", ["nanogpt", "modern"])
def test_learns_a_periodic_sequence(variant):
    # A few hundred AdamW steps learn to continue "0 1 2 ... 6 0 1 2 ...": the loss falls
    # below 0.05 nats and greedy generation continues the pattern.
    torch.manual_seed(0)
    model = GPT(7, 16, n_layer=1, n_head=2, n_embd=16, **VARIANTS[variant])
    data = torch.arange(200) % 7
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(100):
        starts = torch.randint(0, len(data) - 17, (8,))
        batch = torch.stack([data[s : s + 17] for s in starts])
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, 7), batch[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    out = model.generate([[3, 4, 5]], 20, temperature=0)
    assert out[0].tolist() == [(6 + i) % 7 for i in range(20)]
