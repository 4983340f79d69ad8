"""Data-parallel training: one skdeep estimator trained by several processes (or GPUs).

Run the script that fits the estimator under a launcher, and the fit is data-parallel::

    accelerate launch --num_processes 2 train.py        # or: torchrun --nproc-per-node 2

Every process runs the same script on the same data; each ``fit`` then trains one model
together: the rows of every batch are split between the processes, the gradients are
averaged (PyTorch's ``DistributedDataParallel``, set up by Hugging Face Accelerate through
skorch's ``AccelerateMixin``), and every process ends with the same fitted estimator. The
estimator handles what the mixin leaves to its user:

* **Shards.** Every process draws the same batches (a data random stream shared by all,
  apart from the model's own randomness, e.g. dropout) and keeps its slice of each batch's
  rows; the loss of a slice is weighted by its share of the batch, so that the averaged
  gradient is the gradient of the whole batch: ``batch_size`` keeps its meaning and the
  hyperparameters of one process carry over.
* **One history.** The training loss of every batch is averaged over the processes, every
  process scores the whole validation split (forward passes only), and each epoch's record
  is then broadcast from the main process, so that every process has the same
  ``history_``, early stopping stops all of them at the same epoch (DDP would deadlock
  otherwise) and the divergence guard raises everywhere at once. Nothing is gathered, so
  skorch's scoring caches are safe.
* **Plain fitted model.** After training, the net is unwrapped back to the family's own
  class: ``predict``, ``pickle``, ``clone`` and :func:`skdeep.save` see a model like any
  other, which loads in a single process. :func:`skdeep.save` writes the file in the main
  process only.
* **Quiet ranks.** Only the main process shows progress.

:func:`data_parallel` switches this on or off for a block of code, or supplies an
``Accelerator`` of one's own (e.g. mixed precision).
"""

from __future__ import annotations

import contextlib
import os
import threading

import torch
from skorch.callbacks import Callback

from skdeep._training import TrainingNet
from skdeep._validation import check_device

__all__ = ["data_parallel"]

# A process started by a launcher has WORLD_SIZE > 1 in its environment. So do the worker
# processes it starts (joblib, Dask), which must not join its process group: the PID of the
# launched process is recorded here when skdeep is imported (or at its first fit), and a
# process with another PID is not one of the launched ranks.
_MARKER = "SKDEEP_DATA_PARALLEL_PID"
_CONFIG = {"enabled": "auto", "accelerator": None}
_DEFAULT_ACCELERATOR = None


def _launcher_world_size():
    try:
        return int(os.environ.get("WORLD_SIZE", "1") or 1)
    except ValueError:
        return 1


if _launcher_world_size() > 1:
    os.environ.setdefault(_MARKER, str(os.getpid()))


@contextlib.contextmanager
def data_parallel(enabled=True, *, accelerator=None):
    """Turn data-parallel training on or off for the fits inside the block.

    By default (outside any block) skdeep trains data-parallel exactly when the process
    was started by a multi-process launcher (``accelerate launch``, ``torchrun``,
    Accelerate's ``notebook_launcher`` / ``debug_launcher``: ``WORLD_SIZE`` > 1), and
    only in the launched processes' main thread, never in the worker processes they
    start (e.g. ``GridSearchCV(n_jobs=2)``'s).

    Parameters
    ----------
    enabled : bool, default=True
        ``True``: train data-parallel across the launched processes (in one process,
        train as usual). ``False``: every process trains its own model alone, e.g. to
        fit different models in each process of a launch.
    accelerator : accelerate.Accelerator or None, default=None
        The Accelerator to train with (e.g. ``Accelerator(mixed_precision="bf16")``);
        ``None`` creates one (``device_placement=False``: skdeep places the model).

    Examples
    --------
    >>> from skdeep.distributed import data_parallel
    >>> with data_parallel(False):  # each process of a launch fits its own model
    ...     pass
    """
    if enabled not in (True, False, "auto"):
        raise ValueError(f"enabled must be True, False or 'auto', got {enabled!r}.")
    if accelerator is not None and getattr(accelerator, "device_placement", False):
        raise ValueError(
            "Pass an Accelerator created with device_placement=False: skdeep places the "
            "model and its batches on accelerator.device itself."
        )
    previous = dict(_CONFIG)
    _CONFIG.update(enabled=enabled, accelerator=accelerator)
    try:
        yield
    finally:
        _CONFIG.clear()
        _CONFIG.update(previous)


def _launched():
    """Whether this process is one of a launcher's ranks (and this is its main thread)."""
    if _launcher_world_size() <= 1:
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    return os.environ.setdefault(_MARKER, str(os.getpid())) == str(os.getpid())


def _default_accelerator(cpu):
    global _DEFAULT_ACCELERATOR
    if _DEFAULT_ACCELERATOR is None:
        try:
            from accelerate import Accelerator
        except ImportError:
            raise ImportError(
                f"This process is one of {_launcher_world_size()} launched processes "
                "(WORLD_SIZE), so skdeep trains data-parallel, which needs Hugging Face "
                "Accelerate: pip install 'skdeep[accelerate]'. To train a model in each "
                "process alone instead, fit inside skdeep.distributed.data_parallel(False)."
            ) from None
        _DEFAULT_ACCELERATOR = Accelerator(cpu=cpu, device_placement=False)
    return _DEFAULT_ACCELERATOR


def session_for(estimator):
    """The data-parallel session a fit of ``estimator`` joins now, or None (one process)."""
    enabled, accelerator = _CONFIG["enabled"], _CONFIG["accelerator"]
    if enabled is False:
        return None
    if accelerator is None:
        if enabled == "auto" and not _launched():
            return None
        if _launcher_world_size() <= 1 and not _group_initialized():
            return None  # nothing to share the work with
        wanted = getattr(estimator, "device", "auto")
        cpu = wanted != "auto" and check_device(wanted).type == "cpu"
        accelerator = _default_accelerator(cpu)
    if accelerator.num_processes <= 1:
        return None
    return _Session(estimator, accelerator)


def _group_initialized():
    return torch.distributed.is_available() and torch.distributed.is_initialized()


class _Session:
    """One estimator's data-parallel fit: the accelerator, this process's rank, its device."""

    def __init__(self, estimator, accelerator):
        name = type(estimator).__name__
        net_class = type(estimator)._net_class
        if net_class.train_step is not TrainingNet.train_step:
            raise ValueError(
                f"{name} runs its own training step, which skdeep does not train "
                "data-parallel yet; fit it outside the launcher, or within "
                "skdeep.distributed.data_parallel(False) to train one model per process."
            )
        self.accelerator = accelerator
        self.rank = accelerator.process_index
        self.world = accelerator.num_processes
        self.device = torch.device(accelerator.device)
        if self.device.type == "cpu":  # accelerate says "cpu:0"; torch.load knows "cpu"
            self.device = torch.device("cpu")
        wanted = getattr(estimator, "device", "auto")
        if wanted != "auto" and check_device(wanted).type != self.device.type:
            raise ValueError(
                f"{name}(device={wanted!r}) but this launch trains on "
                f"{self.device}; set device='auto' to train where the launch puts each "
                "process, or launch on that device."
            )
        self.net_class = _data_parallel_class(net_class)

    def broadcast(self, value):
        """``value`` of the main process, in every process."""
        box = [value]
        torch.distributed.broadcast_object_list(box, src=0)
        return box[0]

    @contextlib.contextmanager
    def training(self, estimator, net, n_rows):
        """Train ``net`` data-parallel inside the block, then hand back a plain net."""
        sizes = [None] * self.world
        torch.distributed.all_gather_object(sizes, n_rows)
        if len(set(sizes)) > 1:
            raise ValueError(
                f"Data-parallel training needs the same data in every process; the "
                f"{self.world} processes hold {sizes} rows. Load the whole data set in "
                "each process: skdeep splits every batch between them."
            )
        plain_class = net.__class__
        parts = {
            name: getattr(net, name + "_")
            for name in (*net._modules, *net._criteria, *net._optimizers)
        }
        quiet = self._silence(net) if self.rank != 0 else {}
        callbacks = list(net.callbacks_)
        names = [name for name, _ in callbacks]
        at = names.index("divergence_guard") if "divergence_guard" in names else len(names)
        net.callbacks_ = [*callbacks[:at], ("data_parallel", _SharedHistory()), *callbacks[at:]]
        net.__class__ = self.net_class
        net.accelerator = self.accelerator
        net.unwrap_after_train = False  # unwrapped below, after every callback ran
        net._wrapped_with_accelerator = False
        net._dp_rank, net._dp_world = self.rank, self.world
        try:
            net._initialize_accelerator()
            yield
        finally:
            prepared = [getattr(net, name + "_") for name in parts]
            self.accelerator._models = [
                m for m in self.accelerator._models if all(m is not p for p in prepared)
            ]
            self.accelerator._optimizers = [
                o for o in self.accelerator._optimizers if all(o is not p for p in prepared)
            ]
            for name, part in parts.items():
                setattr(net, name + "_", part)
            net.__class__ = plain_class
            for attr in (
                "accelerator",
                "unwrap_after_train",
                "_wrapped_with_accelerator",
                "_dp_rank",
                "_dp_world",
                "_data_rng",
                "_shard_scale",
            ):
                net.__dict__.pop(attr, None)
            net.callbacks_ = callbacks
            for callback, (attr, value) in quiet.items():
                setattr(callback, attr, value)
        estimator._data_parallel_process = (os.getpid(), self.rank)

    @staticmethod
    def _silence(net):
        """Mute the progress display and the stopping messages (the main process shows them)."""
        quiet = {}
        callbacks = dict(net.callbacks_)
        if "progress" in callbacks:
            quiet[callbacks["progress"]] = ("verbose", callbacks["progress"].verbose)
            callbacks["progress"].verbose = 0
        if "stopping" in callbacks:
            quiet[callbacks["stopping"]] = ("sink", callbacks["stopping"].sink)
            callbacks["stopping"].sink = None
        return quiet


def writes_files(estimator):
    """False in the non-main processes of the data-parallel fit that trained ``estimator``:
    :func:`skdeep.save` writes once, from the main process."""
    owner = getattr(estimator, "_data_parallel_process", None)
    return owner is None or owner[0] != os.getpid() or owner[1] == 0


# --- the net ----------------------------------------------------------------------------

_CLASSES = {}


def _data_parallel_class(net_class):
    """``net_class`` with skorch's ``AccelerateMixin`` and skdeep's data-parallel rules."""
    if net_class not in _CLASSES:
        from skorch.hf import AccelerateMixin

        class DataParallelNet(AccelerateMixin, net_class):
            """Only ever an instance's class during a data-parallel ``partial_fit``."""

            def on_train_begin(self, net, **kwargs):
                super().on_train_begin(net, **kwargs)
                # The data stream: the same in every process (all were seeded alike), kept
                # apart from the model's randomness, which differs per process.
                self._data_rng = torch.get_rng_state()
                seed = int(torch.randint(2**31 - 1, ())) + self._dp_rank
                torch.random.default_generator.manual_seed(seed)
                device = torch.device(self.device)
                if device.type == "cuda":
                    with torch.cuda.device(device):
                        torch.cuda.manual_seed(seed)

            def _initialize_accelerator(self):
                # As skorch's, but a module without trainable parameters (a loss) is left
                # alone: on CPU, accelerate would wrap it in DDP, which refuses it.
                if self._wrapped_with_accelerator:
                    return self
                for name in (*self._criteria, *self._modules):
                    module = getattr(self, name + "_")
                    if isinstance(module, torch.nn.Module) and any(
                        p.requires_grad for p in module.parameters()
                    ):
                        setattr(self, name + "_", self.accelerator.prepare(module))
                for name in self._optimizers:
                    optimizer = getattr(self, name + "_")
                    if isinstance(optimizer, torch.optim.Optimizer):
                        setattr(self, name + "_", self.accelerator.prepare(optimizer))
                self._wrapped_with_accelerator = True
                return self

            def get_iterator(self, dataset, training=False):
                # skdeep's iterators are not DataLoaders: accelerate would not shard them.
                return super(AccelerateMixin, self).get_iterator(dataset, training=training)

            def evaluation_step(self, batch, training=False):
                # Every process evaluates all of its input: nothing to gather.
                return super(AccelerateMixin, self).evaluation_step(batch, training=training)

            def get_loss(self, y_pred, y_true, X=None, training=False):
                loss = super().get_loss(y_pred, y_true, X=X, training=training)
                if training:  # DDP averages: weigh each slice by its share of the batch
                    loss = loss * self._shard_scale
                return loss

            def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
                if iterator is None or not training:
                    return super().run_single_epoch(
                        iterator, training, prefix, step_fn, **fit_params
                    )
                batch_count = 0
                for batch, rows in self._shards(iterator):
                    self.notify("on_batch_begin", batch=batch, training=training)
                    step = step_fn(batch, **fit_params)
                    # The batch's loss over all processes (their weighted slices sum to it).
                    loss = step["loss"].detach().reshape(1).float().clone()
                    torch.distributed.all_reduce(loss)
                    self.history.record_batch(prefix + "_loss", loss.item() / self._dp_world)
                    self.history.record_batch(prefix + "_batch_size", rows)
                    self.notify("on_batch_end", batch=batch, training=training, **step)
                    batch_count += 1
                self.history.record(prefix + "_batch_count", batch_count)
                return None

            def _shards(self, iterator):
                """This process's slice of every batch, and the batch's number of rows."""
                batches = iter(iterator)
                while True:
                    state = torch.get_rng_state()
                    torch.set_rng_state(self._data_rng)
                    try:
                        batch = next(batches)
                    except StopIteration:
                        return
                    finally:
                        self._data_rng = torch.get_rng_state()
                        torch.set_rng_state(state)
                    rows = _n_rows(batch)
                    size, extra = divmod(rows, self._dp_world)
                    start = self._dp_rank * size + min(self._dp_rank, extra)
                    stop = start + size + (self._dp_rank < extra)
                    if stop > start:
                        self._shard_scale = (stop - start) * self._dp_world / rows
                    else:  # fewer rows than processes: a weightless row keeps DDP in step
                        start, stop, self._shard_scale = 0, 1, 0.0
                    yield _rows(batch, start, stop), rows

        DataParallelNet.__name__ = DataParallelNet.__qualname__ = (
            f"DataParallel{net_class.__name__}"
        )
        _CLASSES[net_class] = DataParallelNet
    return _CLASSES[net_class]


def _n_rows(batch):
    if isinstance(batch, torch.Tensor):
        return len(batch)
    if isinstance(batch, dict):
        return _n_rows(next(iter(batch.values())))
    if isinstance(batch, tuple | list):
        return _n_rows(batch[0])
    return batch.shape[0]


def _rows(batch, start, stop):
    """Rows ``start:stop`` of every tensor in a batch (tuples and dicts of them)."""
    if batch is None:
        return None
    if isinstance(batch, dict):
        return {key: _rows(value, start, stop) for key, value in batch.items()}
    if isinstance(batch, tuple | list):
        return type(batch)(_rows(value, start, stop) for value in batch)
    return batch[start:stop]


class _SharedHistory(Callback):
    """Every process records the main process's epoch: one history, one decision."""

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        box = [{key: value for key, value in row.items() if key != "batches"}]
        torch.distributed.broadcast_object_list(box, src=0)
        row.update(box[0])
