"""Data containers and batch iterators: what the training engine iterates over.

Every family turns its validated input into one of the containers below (through its data
adapter) and names an iterator class; :class:`~skdeep._training.TrainingNet` receives them
through skorch's own ``iterator_train`` / ``iterator_valid`` parameters, so skorch's epoch
loop, callbacks and history run unchanged.

Why not skorch's ``Dataset`` + ``DataLoader``: they build every batch from per-sample
``__getitem__`` calls and a collate step, which costs more than the forward/backward of a
small model. Here a batch is one gather from preloaded tensors.

Iterators draw their shuffling order from torch's default generator. The estimator runs
every ``fit`` / ``partial_fit`` call inside :func:`skdeep._base.isolated_torch_rng`, seeded
from ``random_state`` and the number of epochs already run, so the order is reproducible,
continues correctly after ``skdeep.load``, and never touches the caller's RNG.

Containers
    :class:`ArrayData` (rows of a tensor, a CSR matrix or a dict of tensors),
    :class:`TextData` (variable-length token id sequences, stored flat),
    :class:`ConditionalRows` (a table's rows drawn by condition, for the GAN),
    :class:`TokenStream` (one stream of token ids, for the language model).
Iterators
    :class:`BatchIterator` (contiguous or shuffled rows), :class:`BucketIterator`
    (texts of similar length together), :class:`DrawnBatchIterator` (batches drawn by
    the container, e.g. CTGAN's training-by-sampling), :class:`WindowIterator` (random
    ``block_size`` windows of a token stream).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch

__all__ = [
    "ArrayData",
    "BatchIterator",
    "BucketIterator",
    "ConditionalRows",
    "DrawnBatchIterator",
    "SplitData",
    "TextData",
    "TokenStream",
    "WindowIterator",
    "as_tensor",
    "to_device",
]

# Texts sorted by length are cut into batches inside pools of this many batches: enough
# to find texts of similar length, few enough that every batch still mixes texts from all
# over the (shuffled) data.
POOL_BATCHES = 50


# --- containers -----------------------------------------------------------------------


class ArrayData:
    """Training data held in memory: inputs, targets and per-sample weights.

    ``X`` is a float tensor, a scipy CSR matrix (densified batch by batch) or a dict of
    tensors (passed to the module as keyword arguments). ``y`` and ``weight`` are tensors
    or None. The ``X`` / ``y`` attribute names match skorch's ``Dataset`` so skorch's
    helpers (e.g. ``EpochScoring`` with caching) can read them.
    """

    def __init__(self, X, y=None, weight=None):
        self.X = X
        self.y = y
        self.weight = weight

    def __len__(self):
        if isinstance(self.X, dict):
            return len(next(iter(self.X.values())))
        return self.X.shape[0]

    def subset(self, index):
        """Rows ``index`` (a numpy integer array) as a new container of the same kind."""
        return ArrayData(_take(self.X, index), _take(self.y, index), _take(self.weight, index))

    def batch(self, index):
        """The model-ready ``(X, y)`` pair skorch expects, for rows ``index``.

        ``y`` becomes ``(y, weight)`` when weights are present, see ``TrainingNet.get_loss``.
        """
        X = _take(self.X, index)
        if sp.issparse(X):
            X = torch.from_numpy(X.toarray())
        if isinstance(X, torch.Tensor) and X.dtype == torch.float64:
            X = X.float()  # float64 data stays uncopied; each batch is cast on the fly
        y = _take(self.y, index)
        if self.weight is not None:
            y = (y, _take(self.weight, index))
        return X, y


def _take(data, index):
    if data is None:
        return None
    if isinstance(data, dict):
        return {key: _take(value, index) for key, value in data.items()}
    if sp.issparse(data):
        return data[index.numpy() if isinstance(index, torch.Tensor) else index]
    if isinstance(data, torch.Tensor) and isinstance(index, torch.Tensor):
        return torch.index_select(data, 0, index)  # ~2x faster than data[index] on CPU
    return data[index]


class TextData(ArrayData):
    """Token id sequences stored compactly, with targets and per-sample weights.

    ``ids`` is one flat LongTensor of every sequence end to end, ``offsets[i]`` where
    sequence ``i`` starts and ``lengths[i]`` its length (>= 1). A batch is a right-padded
    ``(n, longest length in the batch)`` tensor built by one gather, so memory holds the
    real tokens only, never a padded matrix of the whole data.
    """

    def __init__(self, ids, offsets, lengths, y=None, weight=None, *, pad_id=0):
        super().__init__(None, y, weight)
        self.ids = ids
        self.offsets = offsets
        self.lengths = lengths
        self.pad_id = pad_id

    @classmethod
    def from_sequences(cls, sequences, y=None, weight=None, *, pad_id=0):
        """From a list of 1-D int64 arrays (e.g. ``TextVocabulary.transform``'s output)."""
        lengths = torch.tensor([len(s) for s in sequences], dtype=torch.int64)
        offsets = torch.cumsum(lengths, 0) - lengths
        ids = torch.from_numpy(np.concatenate(sequences))
        return cls(ids, offsets, lengths, y, weight, pad_id=pad_id)

    def __len__(self):
        return len(self.lengths)

    def _padded(self, index):
        lengths = self.lengths[index]
        steps = torch.arange(int(lengths.max()))
        valid = steps.unsqueeze(0) < lengths.unsqueeze(1)
        positions = self.offsets[index].unsqueeze(1) + steps.unsqueeze(0)
        # Positions past a sequence's end point into the next ones (or past the end of the
        # data): clamp them, then overwrite them with padding.
        ids = self.ids[positions.clamp_(max=len(self.ids) - 1)].masked_fill_(~valid, self.pad_id)
        return {"ids": ids, "lengths": lengths}

    def batch(self, index):
        y = None if self.y is None else self.y[index]
        if self.weight is not None:
            y = (y, self.weight[index])
        return self._padded(index), y

    def subset(self, index):
        index = torch.as_tensor(index, dtype=torch.int64)
        lengths = self.lengths[index]
        offsets = torch.cumsum(lengths, 0) - lengths
        # Token k of the new flat tensor is token (k - new offset + old offset) of the old
        # one: one repeat_interleave gives every token its sequence's shift.
        shift = torch.repeat_interleave(self.offsets[index] - offsets, lengths)
        ids = self.ids[torch.arange(len(shift)) + shift]
        y = None if self.y is None else self.y[index]
        weight = None if self.weight is None else self.weight[index]
        return TextData(ids, offsets, lengths, y, weight, pad_id=self.pad_id)

    def inference_batches(self, max_texts, max_steps):
        """``(index, inputs)`` pairs covering every text once, shortest texts first.

        A batch holds at most ``max_texts`` texts and at most ``max_steps`` padded tokens,
        which bounds activation memory whatever the texts' lengths.
        """
        order = torch.argsort(self.lengths, stable=True)
        lengths = self.lengths[order]
        start = 0
        while start < len(order):
            # Ascending lengths: the last text of a window is its longest.
            stop = min(start + max_texts, len(order))
            rows = max(1, min(stop - start, max_steps // int(lengths[stop - 1])))
            index = order[start : start + rows]
            yield index, self._padded(index)
            start += rows


class SplitData(NamedTuple):
    """Training and (optional) validation data for one ``partial_fit`` call of the net."""

    train: ArrayData
    valid: ArrayData | None = None


# --- iterators (skorch's iterator_train / iterator_valid) ---------------------------------


class BatchIterator:
    """Mini-batches over a container, reshuffled on every pass when ``shuffle``.

    A trailing batch of a single row is merged into the previous one: a lone row adds a
    noisy step and breaks batch normalisation, and nothing is dropped this way.
    """

    def __init__(self, dataset, batch_size, shuffle=False):
        self.data = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle

    def _bounds(self):
        n, size = len(self.data), self.batch_size
        starts = list(range(0, n, size))
        if len(starts) > 1 and n - starts[-1] == 1:
            starts.pop()
        return [
            (start, starts[i + 1] if i + 1 < len(starts) else n) for i, start in enumerate(starts)
        ]

    def __len__(self):
        return len(self._bounds())

    def __iter__(self):
        if self.shuffle:
            order = torch.randperm(len(self.data))
            for start, stop in self._bounds():
                yield self.data.batch(order[start:stop])
        else:
            for start, stop in self._bounds():
                yield self.data.batch(slice(start, stop))


class BucketIterator:
    """Mini-batches of texts of similar length over a :class:`TextData`.

    Training (``shuffle=True``): the texts are shuffled, sorted by length within pools of
    ``POOL_BATCHES`` batches, cut into batches, and the batches are shuffled. Otherwise
    the texts are sorted by length once. Every batch but the last has ``batch_size``
    texts.
    """

    def __init__(self, dataset, batch_size, shuffle=False):
        self.data = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __len__(self):
        return -(-len(self.data) // self.batch_size)

    def __iter__(self):
        lengths = self.data.lengths
        if self.shuffle:
            order = torch.randperm(len(lengths))
            # Sort by (pool, length) in one stable argsort: the pool number is the major key.
            pool = torch.arange(len(order)) // (self.batch_size * POOL_BATCHES)
            key = pool * (int(lengths.max()) + 1) + lengths[order]
            order = order[torch.argsort(key, stable=True)]
            batches = list(torch.split(order, self.batch_size))
            batches = [batches[i] for i in torch.randperm(len(batches)).tolist()]
        else:
            batches = torch.split(torch.argsort(lengths, stable=True), self.batch_size)
        for index in batches:
            yield self.data.batch(index)


class ConditionalRows:
    """Training data of the tabular GAN: real rows (flat encoding) and their condition
    sampler (:class:`skdeep._gan_sampling.ConditionSampler`).

    It is not iterated row by row: :class:`DrawnBatchIterator` draws every batch by
    training-by-sampling.
    """

    def __init__(self, flat, sampler, discriminator_steps):
        self.flat = flat
        self.sampler = sampler
        self.discriminator_steps = discriminator_steps

    def __len__(self):
        return len(self.flat)

    def draw(self, batch_size):
        """One training step's batch: real rows and their conditions for each critic step
        (the generator step shares the last one's).

        Shapes: ``real`` (batch, steps, width), ``cond`` (batch, steps, cond_dim), ``mask``
        (batch, steps, n_discrete); rows first, so that skorch reads the batch size as for
        any other batch.
        """
        reals, conds, masks = [], [], []
        for _ in range(self.discriminator_steps):
            # torch's default generator: seeded by the estimator for each fit call.
            cond, mask, rows = self.sampler.sample_train(batch_size)
            conds.append(cond)
            masks.append(mask)
            reals.append(self.flat[rows])
        X = {
            "real": torch.stack(reals, dim=1),
            "cond": torch.stack(conds, dim=1),
            "mask": torch.stack(masks, dim=1),
        }
        return X, None


class DrawnBatchIterator:
    """Iterator of an epoch: ``len(data) // batch_size`` batches (at least one), each drawn by
    training-by-sampling, as CTGAN defines an epoch."""

    def __init__(self, dataset, batch_size, shuffle=False):
        self.dataset = dataset
        self.batch_size = batch_size

    def __len__(self):
        return max(1, len(self.dataset) // self.batch_size)

    def __iter__(self):
        for _ in range(len(self)):
            yield self.dataset.draw(self.batch_size)


class TokenStream:
    """A language model's training data: one 1-D stream of token ids.

    Training batches are ``batch_size`` windows of ``block_size + 1`` tokens starting at
    random positions (inputs: the first ``block_size``, targets: the same shifted by one);
    evaluation batches are the disjoint windows of the stream in order.
    """

    def __init__(self, ids, block_size):
        self.ids = ids
        self.block_size = block_size

    def __len__(self):
        """Number of tokens."""
        return len(self.ids)

    def window_starts(self):
        """Starts of the disjoint evaluation windows (a partial last window is left out)."""
        return torch.arange(0, len(self.ids) - self.block_size, self.block_size)

    def batch(self, starts):
        steps = torch.arange(self.block_size + 1)
        windows = self.ids[starts.unsqueeze(1) + steps]
        return windows[:, :-1], windows[:, 1:]


class WindowIterator:
    """skorch ``iterator_train`` / ``iterator_valid`` over a :class:`TokenStream`.

    ``shuffle=True`` (training): ``n_batches`` batches of windows at random starts, drawn
    from torch's default generator (seeded by the estimator); otherwise every disjoint
    window once, in order.
    """

    def __init__(self, dataset, batch_size, shuffle=False, n_batches=1):
        self.data = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.n_batches = n_batches

    def __len__(self):
        if self.shuffle:
            return self.n_batches
        return -(-len(self.data.window_starts()) // self.batch_size)

    def __iter__(self):
        if self.shuffle:
            n_starts = len(self.data) - self.data.block_size
            for _ in range(self.n_batches):
                yield self.data.batch(torch.randint(n_starts, (self.batch_size,)))
        else:
            for starts in torch.split(self.data.window_starts(), self.batch_size):
                yield self.data.batch(starts)


# --- arrays to tensors ------------------------------------------------------------------


def as_tensor(X):
    """A tensor sharing memory with a dense array; CSR is kept as is.

    float64 input is not copied to float32 up front: batches are cast one at a time
    (see :meth:`ArrayData.batch`), which costs microseconds and saves a copy of the data.
    """
    if sp.issparse(X):
        return X.tocsr()
    X = np.ascontiguousarray(X)
    if not X.flags.writeable:  # torch warns on read-only arrays (memmaps)
        X = X.copy()
    return torch.from_numpy(X)


def to_device(chunk, device):
    """Rows of an array or sparse matrix as a tensor on ``device``: floats as float32
    (the modules' dtype), others (category codes, token ids) unchanged."""
    if isinstance(chunk, dict):
        return {key: to_device(value, device) for key, value in chunk.items()}
    if isinstance(chunk, torch.Tensor):
        tensor = chunk
    else:
        tensor = torch.from_numpy(chunk.toarray()) if sp.issparse(chunk) else as_tensor(chunk)
    return tensor.to(device, torch.float32 if tensor.is_floating_point() else None)
