"""The data layer (skdeep._data): containers and the iterators skorch runs over."""

import numpy as np
import scipy.sparse as sp
import torch

from skdeep._data import ArrayData, BatchIterator, BucketIterator, TextData

PAD_ID = 0


def seeded(seed, iterator):
    """The batches an iterator yields with torch's default generator seeded, as in fit."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return list(iterator)


def test_bucketed_batches_cover_every_text_once_with_little_padding():
    rng = np.random.RandomState(0)
    sequences = [rng.randint(2, 50, size=n) for n in rng.randint(1, 60, size=1000)]
    data = TextData.from_sequences(sequences, y=torch.arange(1000))
    seen, padded = [], 0
    for X, y in seeded(0, BucketIterator(data, 32, shuffle=True)):
        ids, lengths = X["ids"], X["lengths"]
        for row, n, i in zip(ids, lengths, y, strict=True):
            assert torch.equal(row[:n], torch.from_numpy(sequences[i]))
            assert torch.all(row[n:] == PAD_ID)
        seen.extend(y.tolist())
        padded += ids.numel()
    assert sorted(seen) == list(range(1000))
    assert padded < 1.1 * data.lengths.sum()  # unsorted batches of 32 would pad ~1.9x
    again = [i for _, y in seeded(0, BucketIterator(data, 32, shuffle=True)) for i in y.tolist()]
    other = [i for _, y in seeded(1, BucketIterator(data, 32, shuffle=True)) for i in y.tolist()]
    assert again == seen and other != seen


def test_text_data_subset_keeps_the_sequences():
    sequences = [np.array([2, 3]), np.array([4]), np.array([5, 6, 7]), np.array([8])]
    data = TextData.from_sequences(sequences, y=torch.tensor([0, 1, 0, 1]))
    part = data.subset(np.array([2, 0, 3]))
    X, y = part.batch(torch.arange(3))
    assert X["ids"].tolist() == [[5, 6, 7], [2, 3, 0], [8, 0, 0]]
    assert X["lengths"].tolist() == [3, 2, 1] and y.tolist() == [0, 0, 1]


def test_inference_batches_cover_every_text_within_the_step_budget():
    rng = np.random.RandomState(0)
    sequences = [rng.randint(2, 50, size=n) for n in rng.randint(1, 300, size=500)]
    data = TextData.from_sequences(sequences)
    seen = []
    for index, inputs in data.inference_batches(max_texts=64, max_steps=2000):
        assert len(index) <= 64
        assert inputs["ids"].numel() <= max(2000, int(inputs["lengths"].max()))
        seen.extend(index.tolist())
    assert sorted(seen) == list(range(500))


def test_batch_iterator_merges_a_trailing_single_row_and_densifies_sparse_rows():
    X = sp.random(11, 4, density=0.5, format="csr", random_state=0)
    data = ArrayData(X, torch.arange(11))
    batches = list(BatchIterator(data, 5))
    assert [len(y) for _, y in batches] == [5, 6]
    dense = torch.from_numpy(X.toarray()).float()  # float64 rows become float32 per batch
    assert torch.equal(torch.cat([b for b, _ in batches]), dense)
    shuffled = seeded(0, BatchIterator(data, 5, shuffle=True))
    assert sorted(torch.cat([y for _, y in shuffled]).tolist()) == list(range(11))
    assert [y.tolist() for _, y in shuffled] == [
        y.tolist() for _, y in seeded(0, BatchIterator(data, 5, shuffle=True))
    ]


def test_float64_rows_are_cast_per_batch_without_copying_the_data():
    X = torch.from_numpy(np.arange(12, dtype=np.float64).reshape(6, 2))
    data = ArrayData(X, None, torch.ones(6))
    batch, (y, weight) = data.batch(torch.tensor([0, 3]))
    assert batch.dtype == torch.float32 and data.X.dtype == torch.float64
    assert y is None and weight.tolist() == [1.0, 1.0]
