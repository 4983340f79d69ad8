"""skdeep.nn.text.TextLSTM: padding never leaks, both directions read the whole text."""

import pytest
import torch
from torch.testing import assert_close

from skdeep.nn.text import TextLSTM, parse_pooling, reverse_within_length

LENGTHS = torch.tensor([5, 1, 3, 7])


def padded_batch(seed=0, n_tokens=40, extra=0):
    """Random ids right-padded with 0 to the longest length (plus ``extra`` columns)."""
    generator = torch.Generator().manual_seed(seed)
    width = int(LENGTHS.max()) + extra
    ids = torch.randint(2, n_tokens, (len(LENGTHS), width), generator=generator)
    return ids.masked_fill(torch.arange(width) >= LENGTHS.unsqueeze(1), 0)


def make_module(**kwargs):
    torch.manual_seed(0)
    params = dict(embedding_dim=8, hidden_size=6, num_layers=2, bidirectional=True)
    return TextLSTM(40, 3, **{**params, **kwargs}).eval()


@pytest.mark.parametrize("pooling", ["last", "max", "mean", "last+max+mean"])
@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_extra_padding_does_not_change_the_output(pooling, bidirectional, num_layers):
    module = make_module(pooling=pooling, bidirectional=bidirectional, num_layers=num_layers)
    ids = padded_batch()
    out = module(ids, LENGTHS)
    more_padding = torch.cat([ids, torch.zeros(len(ids), 9, dtype=ids.dtype)], dim=1)
    assert_close(module(more_padding, LENGTHS), out)
    # Ground truth: each text alone, with no padding at all.
    alone = torch.cat(
        [module(ids[i : i + 1, :n], LENGTHS[i : i + 1]) for i, n in enumerate(LENGTHS)]
    )
    assert_close(alone, out)


def test_padding_ids_hold_no_information():
    module = make_module(pooling="last+mean")
    ids = padded_batch()
    # Whatever sits past a text's length is ignored, not only the id 0.
    garbage = torch.where(ids == 0, torch.full_like(ids, 7), ids)
    assert_close(module(garbage, LENGTHS), module(ids, LENGTHS))


def test_last_pooling_reads_the_whole_text_in_both_directions():
    module = make_module(pooling="last", num_layers=1)
    ids = padded_batch()
    out = module(ids, LENGTHS)
    # Changing the first token changes the forward state at length - 1 ...
    first = ids.clone()
    first[0, 0] = 3 if first[0, 0] != 3 else 4
    # ... and changing the last real token changes the backward state at step 0.
    last = ids.clone()
    last[0, LENGTHS[0] - 1] = 3 if last[0, LENGTHS[0] - 1] != 3 else 4
    half = module.head.in_features // 2
    features = {}
    module.head.register_forward_hook(lambda m, args, out: features.update(x=args[0]))
    module(ids, LENGTHS)
    base = features["x"][0]
    module(first, LENGTHS)
    assert not torch.allclose(features["x"][0, :half], base[:half])  # forward saw it
    assert not torch.allclose(features["x"][0, half:], base[half:])  # backward too
    module(last, LENGTHS)
    assert not torch.allclose(features["x"][0, :half], base[:half])
    assert not torch.allclose(features["x"][0, half:], base[half:])
    assert out.shape == (4, 3)


def test_reverse_within_length_keeps_padding_at_the_end():
    x = torch.tensor([[1, 2, 3, 0], [4, 0, 0, 0], [5, 6, 7, 8]])
    lengths = torch.tensor([3, 1, 4])
    reversed_ = reverse_within_length(x, lengths)
    assert reversed_.tolist() == [[3, 2, 1, 0], [4, 0, 0, 0], [8, 7, 6, 5]]
    assert torch.equal(reverse_within_length(reversed_, lengths), x)


def test_padding_embedding_is_zero_and_never_trained():
    module = make_module().train()
    ids = padded_batch()
    module(ids, LENGTHS).sum().backward()
    assert torch.count_nonzero(module.embedding.weight[0]) == 0
    assert torch.count_nonzero(module.embedding.weight.grad[0]) == 0
    assert torch.count_nonzero(module.embedding.weight.grad[ids[0, 0]]) > 0


def test_word_dropout_turns_tokens_into_unknown_in_training_only():
    ids = padded_batch()
    all_unknown = torch.where(ids == 0, ids, torch.ones_like(ids))  # every real token -> 1
    plain = make_module().train()  # dropout=0: training mode is deterministic
    dropped = make_module(word_dropout=1.0).train()
    assert_close(dropped(ids, LENGTHS), plain(all_unknown, LENGTHS))
    assert_close(dropped.eval()(ids, LENGTHS), plain.eval()(ids, LENGTHS))
    # A rate in between replaces some tokens, never padding, and trains the unknown row.
    partial = make_module(word_dropout=0.5).train()
    torch.manual_seed(1)
    partial(ids, LENGTHS).sum().backward()
    assert torch.count_nonzero(partial.embedding.weight.grad[1]) > 0
    assert torch.count_nonzero(partial.embedding.weight.grad[0]) == 0
    plain.train()(ids, LENGTHS).sum().backward()
    assert torch.count_nonzero(plain.embedding.weight.grad[1]) == 0


def test_output_width_follows_pooling_and_directions():
    assert make_module(pooling="last+max").head.in_features == 2 * 2 * 6
    assert make_module(pooling="mean", bidirectional=False).head.in_features == 6
    assert make_module(bidirectional=False).backward_layers is None


@pytest.mark.parametrize("bad", ["min", "", "max+max", "last,max", None, 3])
def test_bad_pooling_names_the_parameter(bad):
    with pytest.raises(ValueError, match=r"pooling=.*'last', 'max', 'mean'"):
        parse_pooling(bad)
    assert parse_pooling("mean+last") == ("mean", "last")
