"""skdeep.nn.gan (the CTGAN modules and losses) and skdeep._gan_sampling (conditional vectors)."""

import numpy as np
import pytest
import torch

from skdeep._gan_sampling import ConditionSampler
from skdeep.nn.gan import (
    Discriminator,
    Generator,
    apply_activations,
    conditional_loss,
    gradient_penalty,
    gumbel_softmax,
)


def seeded(seed=0):
    return torch.Generator().manual_seed(seed)


def test_generator_shapes_and_residual_widths():
    torch.manual_seed(0)
    generator = Generator(embedding_dim=8, cond_dim=5, hidden_dims=(16, 32), data_dim=7)
    # each residual block passes its input on: 13 -> 13 + 16 -> 29 + 32
    assert generator.net[-1].in_features == 8 + 5 + 16 + 32
    out = generator(torch.randn(20, 8), torch.zeros(20, 5))
    assert out.shape == (20, 7)
    no_cond = Generator(embedding_dim=8, cond_dim=0, hidden_dims=(4,), data_dim=3)
    assert no_cond(torch.randn(6, 8), torch.zeros(6, 0)).shape == (6, 3)


def test_discriminator_scores_packs():
    torch.manual_seed(0)
    critic = Discriminator(input_dim=4, hidden_dims=(8,), pac=5).eval()
    x = torch.randn(20, 4)
    scores = critic(x)
    assert scores.shape == (4, 1)
    assert critic.net[0].in_features == 4 * 5
    # a pack is 5 consecutive rows: changing a row changes its pack's score only
    y = x.clone()
    y[7] += 1.0
    changed = (critic(y) != scores).ravel().tolist()
    assert changed == [False, True, False, False]
    with pytest.raises(ValueError, match="batch of 12 rows is not a multiple of pac=5"):
        critic(torch.randn(12, 4))


def test_apply_activations():
    spans = [(1, "tanh"), (3, "softmax"), (2, "softmax")]
    raw = torch.randn(50, 6, generator=seeded()) * 5
    out = apply_activations(raw, spans, tau=0.2, generator=seeded(1))
    assert out.shape == (50, 6)
    torch.testing.assert_close(out[:, 0], torch.tanh(raw[:, 0]))
    torch.testing.assert_close(out[:, 1:4].sum(1), torch.ones(50))
    torch.testing.assert_close(out[:, 4:].sum(1), torch.ones(50))
    assert (out[:, 1:4].max(1).values > 0.5).float().mean() > 0.8  # tau 0.2: nearly one-hot
    again = apply_activations(raw, spans, tau=0.2, generator=seeded(1))
    assert torch.equal(out, again)  # seeded Gumbel noise
    with pytest.raises(ValueError, match="Unknown block kind 'relu'"):
        apply_activations(raw, [(6, "relu")])


def test_gumbel_softmax_draws_follow_the_softmax():
    logits = torch.log(torch.tensor([[0.6, 0.3, 0.1]])).expand(20000, 3)
    draws = gumbel_softmax(logits, tau=0.2, generator=seeded()).argmax(1)
    freq = torch.bincount(draws, minlength=3) / 20000
    torch.testing.assert_close(freq, torch.tensor([0.6, 0.3, 0.1]), atol=0.015, rtol=0)
    # gradients flow to the logits
    logits = torch.zeros(4, 3, requires_grad=True)
    (gumbel_softmax(logits)[:, 0].sum()).backward()
    assert logits.grad.abs().sum() > 0


def test_conditional_loss():
    # two discrete columns: widths 2 and 3, at flat positions 1 and 3, cond positions 0 and 2
    slices = [(1, 0, 2), (3, 2, 3)]
    cond = torch.tensor([[0, 1, 0, 0, 0], [0, 0, 0, 0, 1.0]])
    mask = torch.tensor([[1, 0], [0, 1.0]])
    raw = torch.zeros(2, 6)
    raw[0, 1 + 1] = 20.0  # row 0 generates the asked category of column 0
    raw[1, 3 + 2] = 20.0  # row 1 that of column 1
    assert conditional_loss(raw, cond, mask, slices) < 1e-6
    wrong = torch.zeros(2, 6)
    wrong[0, 1 + 0] = 20.0
    # row 0 is off by 20 nats; row 1 (uniform over 3) costs log 3; mean over the 2 rows
    expected = (20.0 + np.log(3)) / 2
    assert conditional_loss(wrong, cond, mask, slices).item() == pytest.approx(expected, 1e-4)
    assert conditional_loss(raw, cond[:, :0], mask[:, :0], []).item() == 0.0


def test_gradient_penalty_of_a_linear_critic():
    critic = Discriminator(input_dim=3, hidden_dims=(), pac=2)
    with torch.no_grad():  # grad of the pack score is the weight vector: norm 2
        critic.net[0].weight.copy_(torch.tensor([[2.0, 0, 0, 0, 0, 0]]))
    real, fake = torch.randn(8, 3), torch.randn(8, 3)
    penalty = gradient_penalty(critic, real, fake, weight=10.0, generator=seeded())
    assert penalty.item() == pytest.approx(10.0 * (2.0 - 1.0) ** 2)
    # differentiable with respect to the critic's weights (create_graph)
    penalty.backward()
    assert critic.net[0].weight.grad.abs().sum() > 0


def test_gradient_penalty_interpolates_per_pack():
    seen = []

    class Recorder(torch.nn.Module):
        pac = 2

        def forward(self, x):
            seen.append(x.detach().clone())
            return x.sum().reshape(1, 1)

    real, fake = torch.ones(4, 3), torch.zeros(4, 3)
    gradient_penalty(Recorder(), real, fake, generator=seeded())
    mixed = seen[0]  # = factor: one per pack of 2 rows, the same over a pack's values
    assert torch.equal(mixed[0], mixed[1]) and torch.equal(mixed[2], mixed[3])
    assert not torch.equal(mixed[0], mixed[2])


def discrete_codes(seed=0, n=2000):
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [
            rng.choice(3, size=n, p=[0.9, 0.09, 0.01]),  # a rare category
            rng.choice(2, size=n),
        ]
    )


def test_training_by_sampling():
    codes = discrete_codes()
    # column 0 declares a 4th code that no row has (an unused level of a category dtype)
    sampler = ConditionSampler(codes, [4, 2])
    assert sampler.cond_dim == 6 and sampler.offsets == [0, 4]
    cond, mask, rows = sampler.sample_train(20000, generator=seeded())
    assert cond.shape == (20000, 6) and mask.shape == (20000, 2) and rows.dtype == torch.int64
    assert torch.equal(cond.sum(1), torch.ones(20000)) and torch.equal(
        mask.sum(1), torch.ones(20000)
    )
    column = mask.argmax(1)
    assert abs(column.float().mean().item() - 0.5) < 0.02  # columns drawn uniformly
    # each real row has the category its condition asks for
    code = cond.argmax(1) - torch.tensor(sampler.offsets)[column]
    real = torch.from_numpy(codes)[rows, column]
    assert torch.equal(real, code)
    # categories by log-frequency: the rare one far above its 1 % share, the unused one never
    first = code[column == 0]
    share = torch.bincount(first, minlength=4).double() / len(first)
    counts = np.bincount(codes[:, 0], minlength=4)
    expected = np.log1p(counts) / np.log1p(counts).sum()
    np.testing.assert_allclose(share.numpy(), expected, atol=0.02)
    assert share[3] == 0 and share[2] > 0.15
    # seeded: the same draws again
    again = sampler.sample_train(20000, generator=seeded())
    assert all(torch.equal(a, b) for a, b in zip((cond, mask, rows), again, strict=True))


def test_original_frequencies_fixed_and_rarest():
    codes = discrete_codes()
    sampler = ConditionSampler(codes, [3, 2])
    cond = sampler.sample_original(40000, generator=seeded())
    first = cond[:, :3].sum(1) == 1
    share = cond[first, :3].mean(0).numpy()
    np.testing.assert_allclose(share, np.bincount(codes[:, 0]) / len(codes), atol=0.01)
    fixed = sampler.fixed(1, 1, 3)
    assert fixed.tolist() == [[0, 0, 0, 0, 1]] * 3
    assert sampler.rarest({0: 2, 1: 0}) == (0, 2)
    assert sampler.rarest({0: 0, 1: 1}) == (1, 1)


def test_sampler_without_discrete_columns():
    sampler = ConditionSampler(np.empty((10, 0), dtype=np.int64), [])
    cond, mask, rows = sampler.sample_train(7, generator=seeded())
    assert cond.shape == (7, 0) and mask.shape == (7, 0)
    assert rows.min() >= 0 and rows.max() < 10
    assert sampler.sample_original(5).shape == (5, 0)
    with pytest.raises(ValueError, match="codes has 0 columns but 1 cardinalities"):
        ConditionSampler(np.empty((10, 0), dtype=np.int64), [2])


def test_sampler_from_counts_samples_but_has_no_rows():
    codes = discrete_codes()
    full = ConditionSampler(codes, [3, 2])
    light = ConditionSampler.from_counts(full.counts)
    assert light.offsets == full.offsets and light.cond_dim == full.cond_dim
    assert torch.equal(light.sample_original(100, seeded()), full.sample_original(100, seeded()))
    assert light.rarest({0: 2, 1: 0}) == (0, 2)
    with pytest.raises(ValueError, match="built from counts; it has no rows"):
        light.sample_train(4)
