"""Causal language models on raw text: :class:`TransformerLMGenerator`.

The estimator learns a tokenizer (:mod:`skdeep.preprocessing.lm_tokenizers`) in ``fit``,
joins the documents into one token stream with a separator between them, and trains a
GPT-style decoder (:class:`skdeep.nn.gpt.GPT`) on random ``block_size`` windows of that
stream, as nanoGPT does. Or it starts from a Hugging Face GPT-2 checkpoint directory
(``pretrained=``) and fine-tunes it. ``generate`` samples text with a key/value cache,
``score`` is the held-out log-likelihood per token, so scikit-learn's model selection
(``cross_val_score``, ``GridSearchCV``, ``OptunaSearchCV``) tunes the model directly.

Training is step-based under the shared epoch machinery: an *epoch* is ``steps_per_epoch``
optimiser steps, each on ``batch_size`` random windows, followed by the validation loss (on
the last ``validation_fraction`` of the token stream, with ``early_stopping``). The learning
rate warms up linearly for ``warmup_steps`` and then decays along a cosine to a tenth of
``learning_rate`` at step ``max_epochs * steps_per_epoch`` (nanoGPT's schedule).
"""

from __future__ import annotations

import math
import numbers
import secrets

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_random_state

from skdeep._base import DeepEstimator
from skdeep._data import TokenStream, WindowIterator
from skdeep._training import TrainingNet
from skdeep._validation import Int, Real, parameter_error
from skdeep.nn.gpt import GPT, check_sampling_params
from skdeep.preprocessing.lm_tokenizers import (
    BPETokenizer,
    lm_tokenizer_from_state,
    make_lm_tokenizer,
)
from skdeep.preprocessing.text import check_texts

__all__ = ["TransformerLMGenerator"]

# Cosine decay ends at this fraction of learning_rate (nanoGPT: 6e-4 -> 6e-5).
MIN_LR_RATIO = 0.1
# Windows per forward pass when scoring: bounds activation memory.
SCORE_WINDOWS = 64


class TokenCrossEntropy(torch.nn.Module):
    """Mean next-token cross-entropy of each window: logits ``(B, T, V)``, targets
    ``(B, T)`` -> ``(B,)`` (per-sample losses, as :class:`TrainingNet` wants them)."""

    def forward(self, logits, targets):
        losses = F.cross_entropy(logits.float().transpose(1, 2), targets, reduction="none")
        return losses.mean(dim=1)


class _LMNet(TrainingNet):
    """The skorch net of the language model: nanoGPT's training step.

    Per step: the learning rate of the schedule, a forward pass (in bfloat16 autocast on a
    GPU with ``mixed_precision``), the loss, gradient clipping and the optimiser step(s).
    With ``optimizer_kind="muon"`` a second optimiser, ``optimizer_muon_`` (registered by
    skorch, so saved and loaded), updates the 2-D weights inside the blocks with
    ``torch.optim.Muon``; AdamW keeps the embeddings and vectors.

    The optimisers' ``lr`` stays ``learning_rate`` between steps (skorch and warm starts
    set it there); each step runs at ``lr`` times the schedule's factor.
    """

    def __init__(
        self,
        module,
        *args,
        optimizer_kind="adamw",
        steps_per_epoch=1,
        total_steps=1,
        warmup_steps=0,
        grad_clip=None,
        mixed_precision=True,
        **kwargs,
    ):
        super().__init__(module, *args, **kwargs)
        self.optimizer_kind = optimizer_kind
        self.steps_per_epoch = steps_per_epoch
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps
        self.grad_clip = grad_clip
        self.mixed_precision = mixed_precision

    def initialize_optimizer(self, triggered_directly=None):
        groups = self.module_.parameter_groups()
        muon = self.optimizer_kind == "muon"
        decay = groups["embeddings"] + ([] if muon else groups["hidden_matrices"])
        # nanoGPT's AdamW: decay on matrices only, betas (0.9, 0.99) for small models;
        # foreach: one kernel per step over all tensors rather than a Python loop.
        self.optimizer_ = torch.optim.AdamW(
            [
                {"params": decay, "weight_decay": self.weight_decay},
                {"params": groups["vectors"], "weight_decay": 0.0},
            ],
            lr=self.lr,
            betas=(0.9, 0.99),
            foreach=True,
        )
        if muon:
            if not hasattr(torch.optim, "Muon"):
                raise ValueError(
                    f"optimizer='muon' needs torch.optim.Muon (torch >= 2.9); this is torch "
                    f"{torch.__version__}. Use optimizer='adamw'."
                )
            # Moonshot's scaling makes Muon's update as large as AdamW's: one learning rate.
            self.optimizer_muon_ = torch.optim.Muon(
                groups["hidden_matrices"],
                lr=self.lr,
                weight_decay=self.weight_decay,
                adjust_lr_fn="match_rms_adamw",
            )
        return self

    def _all_optimizers(self):
        return [getattr(self, name + "_") for name in self._optimizers]

    def lr_factor(self, step):
        """The schedule: linear warm-up, cosine decay to ``MIN_LR_RATIO``, then flat."""
        if step < self.warmup_steps:
            return (step + 1) / (self.warmup_steps + 1)
        decay_steps = max(1, self.total_steps - self.warmup_steps)
        progress = min(1.0, (step - self.warmup_steps) / decay_steps)
        return MIN_LR_RATIO + 0.5 * (1.0 + math.cos(math.pi * progress)) * (1 - MIN_LR_RATIO)

    def _autocast(self):
        device = torch.device(self.device)
        enabled = self.mixed_precision and device.type == "cuda" and torch.cuda.is_bf16_supported()
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)

    def infer(self, x, **fit_params):
        with self._autocast():
            return super().infer(x, **fit_params)

    def train_step(self, batch, **fit_params):
        self._set_training(True)
        X, y = batch
        X, y = X.to(self.device), y.to(self.device)
        # Whole epochs of steps_per_epoch steps each came before this one (stopping only
        # happens between epochs), so the step number survives skdeep.save / load.
        step = (len(self.history) - 1) * self.steps_per_epoch + len(self.history[-1]["batches"])
        lr = self.lr * self.lr_factor(step - 1)
        optimizers = self._all_optimizers()
        for optimizer in optimizers:
            for group in optimizer.param_groups:
                group["lr"] = lr
        with self._autocast():
            logits = self.module_(X)
        loss = self.criterion_(logits, y).mean()
        for optimizer in optimizers:
            optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.module_.parameters(), self.grad_clip)
        for optimizer in optimizers:
            optimizer.step()
            for group in optimizer.param_groups:
                group["lr"] = self.lr
        return {"loss": loss.detach(), "y_pred": None}

    def get_iterator(self, dataset, training=False):
        iterator = super().get_iterator(dataset, training=training)
        if training:
            iterator.n_batches = self.steps_per_epoch
        return iterator


class _AnyLMTokenizer:
    """Restores whichever tokenizer a model file holds (the ``_adapters`` hook)."""

    from_state = staticmethod(lm_tokenizer_from_state)


# --- the estimator ----------------------------------------------------------------------

_MODEL_DOC = """
    tokenizer : {"char", "byte", "bpe"}, default="char"
        How texts become tokens, learned in ``fit``: ``"char"``, the characters seen in
        training (others map to an unknown id); ``"byte"``, the 256 UTF-8 byte values
        (any text, nothing unknown); ``"bpe"``, byte-level byte-pair encoding with
        ``vocab_size`` tokens, trained with Hugging Face ``tokenizers`` (``pip install
        tokenizers``): 2-3 times fewer tokens than characters on English, so a window of
        ``block_size`` tokens sees more text. Ignored with ``pretrained`` (GPT-2's own BPE).
    vocab_size : int, default=1024
        Number of BPE tokens (``tokenizer="bpe"`` only; at least 258).
    pretrained : str or None, default=None
        A Hugging Face GPT-2 checkpoint directory (``config.json``, ``model.safetensors``,
        tokenizer files), or a hub id already in the local Hugging Face cache. ``fit`` then
        fine-tunes that model, with its tokenizer, on the texts; ``n_layer``, ``n_head``,
        ``n_embd``, ``bias``, ``rotary``, ``qk_norm``, ``activation``, ``zero_init`` and
        ``tokenizer`` are the checkpoint's. Nothing is ever downloaded.
    n_layer : int, default=4
        Number of transformer blocks.
    n_head : int, default=4
        Attention heads per block; must divide ``n_embd``.
    n_embd : int, default=128
        Width of the embeddings and of the residual stream.
    block_size : int, default=64
        Context length in tokens: the length of the training windows and the longest
        context the model reads when scoring and generating (with ``pretrained``, at most
        the checkpoint's ``n_positions``, which generation uses in full).
    dropout : float in [0, 1), default=0.0
        Dropout on embeddings, attention weights and block outputs (training only).
    bias : bool, default=False
        Biases in the linear layers and LayerNorms.
    rotary : bool, default=True
        Rotary position embeddings instead of learned positions.
    qk_norm : bool, default=True
        RMS-normalise queries and keys before attention.
    activation : {"gelu", "relu2"}, default="relu2"
        MLP activation: ``relu(x) ** 2``, or GELU.
    zero_init : bool, default=True
        Initialise the output projections of attention and MLP at zero.

        These four defaults are the modern small-GPT recipe (modded-nanogpt). Together they
        took the validation loss on tinyshakespeare from 1.909 (nanoGPT's architecture:
        all four off) to 1.671 at the same 2000 steps (``benchmarks/bench_lm.py``).
    steps_per_epoch : int, default=250
        Optimiser steps per epoch; the validation loss, progress display and stopping
        rules act between epochs.
    warmup_steps : int, default=100
        Steps of linear learning-rate warm-up before the cosine decay.
    weight_decay : float, default=0.1
        AdamW's decoupled weight decay, on the weight matrices and embeddings only.
    grad_clip : float or None, default=1.0
        Clip the global gradient norm to this value each step; None does not clip.
    mixed_precision : bool, default=True
        Train and evaluate in bfloat16 autocast on a GPU that supports it (no effect on
        the CPU)."""

_SHARED_OVERRIDES = {
    "learning_rate": (
        "float",
        "Peak learning rate, reached after ``warmup_steps`` and decayed along a cosine to a "
        "tenth of it at step ``max_epochs * steps_per_epoch``; later steps (warm starts, "
        "``partial_fit``) run at that tenth.",
    ),
    "optimizer": (
        '{"adamw", "muon"}',
        '``"adamw"``: AdamW for every parameter; ``"muon"``: ``torch.optim.Muon`` for the 2-D '
        "weights inside the blocks (with its update scaled to AdamW's, so the same "
        "``learning_rate`` suits both) and AdamW for embeddings and vectors. torch's Muon "
        "orthogonalises in bfloat16: quick on a GPU, but on a CPU without bfloat16 matrix "
        "units each step costs several times an AdamW step; use it on a GPU.",
    ),
    "batch_size": ("int", "Windows of ``block_size`` tokens per optimiser step."),
    "max_epochs": (
        "int",
        "Maximum number of epochs of ``steps_per_epoch`` steps each: the step budget is "
        "``max_epochs * steps_per_epoch``.",
    ),
    "early_stopping": (
        "bool",
        "Hold out the last ``validation_fraction`` of the token stream, record the "
        "validation loss after each epoch, stop when it has not improved by ``tol`` for "
        "``n_iter_no_change`` epochs and restore the weights of the best epoch. When "
        "False, training stops once the training loss stops improving.",
    ),
    "validation_fraction": (
        "float in (0, 1)",
        "Share of the token stream (its end) held out when ``early_stopping=True``.",
    ),
}


class TransformerLMGenerator(DeepEstimator):
    __doc__ = f"""Causal transformer language model on raw text: train, generate, score.

    Takes a corpus, either one long string or a sequence of documents (list, array,
    pandas Series of ``str``), learns a tokenizer and trains a GPT-style decoder on random
    windows of the token stream (the documents joined by a separator token). Or fine-tunes a
    pretrained GPT-2 given as a local checkpoint directory.

    * :meth:`generate` continues prompts (one string, or a list of them batched together),
      with temperature, top-k and nucleus sampling, stop strings, a fixed ``random_state``,
      and a key/value cache; :meth:`generate_stream` yields the text as it is produced.
    * :meth:`score` is minus the mean cross-entropy per token (nats) of held-out texts, each
      token predicted from as much preceding context as the model reads (sliding windows),
      so :func:`~sklearn.model_selection.cross_val_score`, ``GridSearchCV`` and
      ``OptunaSearchCV`` select models by held-out likelihood. :meth:`perplexity` is
      ``exp(-score)``, :meth:`score_samples` the same per document.

    Parameters
    ----------{_MODEL_DOC}
    {{shared_parameters}}

    Attributes
    ----------
    tokenizer_ : CharTokenizer, ByteTokenizer or BPETokenizer
        The fitted tokenizer (:mod:`skdeep.preprocessing.lm_tokenizers`); its ``sep_id``
        separates documents.
    gpt_config_ : dict
        The arguments the :class:`skdeep.nn.gpt.GPT` module was built with.
    n_iter_ : int
        Number of epochs run.
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``valid_loss`` (with
        ``early_stopping``; nats per token), ``dur`` (seconds), ``best_epoch`` (when best
        weights were restored).
    module_ : skdeep.nn.gpt.GPT
        The trained torch module.

    See Also
    --------
    skdeep.nn.gpt.GPT : The torch module, with its own ``generate``.
    skdeep.datasets.load_tiny_shakespeare : The bundled corpus of the examples.

    Examples
    --------
    >>> from skdeep.lm import TransformerLMGenerator
    >>> corpus = ["the cat sat on the mat. " * 20, "the dog sat on the log. " * 20]
    >>> lm = TransformerLMGenerator(n_layer=1, n_embd=32, block_size=16, max_epochs=2,
    ...                             steps_per_epoch=50, learning_rate=3e-3, random_state=0)
    >>> lm = lm.fit(corpus)
    >>> text = lm.generate("the ", max_new_tokens=20, random_state=0)
    >>> len(text) <= 20
    True
    >>> bool(lm.score(["the cat sat on the log. "]) > -2.0)  # nats per character
    True
    """

    _parameter_constraints = {
        **DeepEstimator._parameter_constraints,
        # A token stream's split is its tail, sized in windows, not rows: no "auto" here.
        "early_stopping": ["boolean"],
        "tokenizer": [StrOptions({"char", "byte", "bpe"})],
        "vocab_size": [Int(258, None, closed="left")],
        # A str, not a Path: skdeep.save stores parameters as plain JSON.
        "pretrained": [str, None],
        "n_layer": [Int(1, None, closed="left")],
        "n_head": [Int(1, None, closed="left")],
        "n_embd": [Int(1, None, closed="left")],
        "block_size": [Int(1, None, closed="left")],
        "dropout": [Real(0, 1, closed="left")],
        "bias": ["boolean"],
        "rotary": ["boolean"],
        "qk_norm": ["boolean"],
        "activation": [StrOptions({"gelu", "relu2"})],
        "zero_init": ["boolean"],
        "optimizer": [StrOptions({"adamw", "muon"})],
        "steps_per_epoch": [Int(1, None, closed="left")],
        "warmup_steps": [Int(0, None, closed="left")],
        "weight_decay": [Real(0, None, closed="left")],
        "grad_clip": [Real(0, None, closed="neither"), None],
        "mixed_precision": ["boolean"],
    }
    _module_params = (
        "tokenizer",
        "vocab_size",
        "pretrained",
        "n_layer",
        "n_head",
        "n_embd",
        "block_size",
        "dropout",
        "bias",
        "rotary",
        "qk_norm",
        "activation",
        "zero_init",
    )
    _fixed_on_continuation = ("optimizer", "weight_decay")
    _adapters = {"tokenizer_": _AnyLMTokenizer}
    _fitted_attributes = (*DeepEstimator._fitted_attributes, "gpt_config_")
    _net_class = _LMNet
    _iterator = WindowIterator
    _parameter_docs = _SHARED_OVERRIDES

    def __init__(
        self,
        tokenizer="char",
        vocab_size=1024,
        pretrained=None,
        n_layer=4,
        n_head=4,
        n_embd=128,
        block_size=64,
        dropout=0.0,
        bias=False,
        rotary=True,
        qk_norm=True,
        activation="relu2",
        zero_init=True,
        learning_rate=1e-3,
        optimizer="adamw",
        batch_size=12,
        max_epochs=8,
        steps_per_epoch=250,
        warmup_steps=100,
        weight_decay=0.1,
        grad_clip=1.0,
        mixed_precision=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        self.tokenizer = tokenizer
        self.vocab_size = vocab_size
        self.pretrained = pretrained
        self.n_layer = n_layer
        self.n_head = n_head
        self.n_embd = n_embd
        self.block_size = block_size
        self.dropout = dropout
        self.bias = bias
        self.rotary = rotary
        self.qk_norm = qk_norm
        self.activation = activation
        self.zero_init = zero_init
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.steps_per_epoch = steps_per_epoch
        self.warmup_steps = warmup_steps
        self.weight_decay = weight_decay
        self.grad_clip = grad_clip
        self.mixed_precision = mixed_precision
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks

    # --- hooks ------------------------------------------------------------------------

    def _check_params(self):
        if self.pretrained is None and self.n_embd % self.n_head:
            raise parameter_error(
                self, "n_embd", f"divisible by n_head={self.n_head}", self.n_embd
            )
        if self.pretrained is None and self.rotary and (self.n_embd // self.n_head) % 2:
            raise parameter_error(
                self,
                "n_embd",
                f"such that n_embd // n_head is even with rotary=True (n_head={self.n_head})",
                self.n_embd,
            )

    def _prepare_data(self, X, y, sample_weight, *, first_call, partial, classes):
        texts = _check_corpus(X)
        pretrained_module = None
        if not first_call:
            tokenizer, config = self.tokenizer_, self.gpt_config_
        elif self.pretrained is not None:
            from skdeep.nn.gpt2_checkpoint import load_gpt2, resolve_pretrained

            path = resolve_pretrained(self.pretrained)
            pretrained_module = load_gpt2(path, dropout=float(self.dropout))
            tokenizer = BPETokenizer.from_pretrained(path)
            config = dict(pretrained_module.config)
            if self.block_size > config["block_size"]:
                raise parameter_error(
                    self,
                    "block_size",
                    f"at most the checkpoint's n_positions={config['block_size']}",
                    self.block_size,
                )
            if len(tokenizer) > config["vocab_size"]:
                raise ValueError(
                    f"pretrained={str(self.pretrained)!r}: the tokenizer has {len(tokenizer)} "
                    f"tokens, the model only {config['vocab_size']}"
                )
        else:
            tokenizer = make_lm_tokenizer(self.tokenizer, vocab_size=self.vocab_size)
            tokenizer.fit(texts)
            config = {
                "vocab_size": len(tokenizer),
                "block_size": int(self.block_size),
                "n_layer": int(self.n_layer),
                "n_head": int(self.n_head),
                "n_embd": int(self.n_embd),
                "dropout": float(self.dropout),
                "bias": bool(self.bias),
                "n_inner": None,
                "activation": self.activation,
                "rotary": bool(self.rotary),
                "qk_norm": bool(self.qk_norm),
                "zero_init": bool(self.zero_init),
                "tie_weights": True,
                "layer_norm_eps": 1e-5,
            }
        ids = torch.from_numpy(tokenizer.encode_corpus(texts))
        window = int(self.block_size)
        if len(ids) < window + 1:
            raise ValueError(
                f"X: the corpus has {len(ids)} tokens (separators included); training on "
                f"block_size={window} windows needs at least {window + 1} (block_size + 1). "
                "Give more text or lower block_size."
            )
        if self.early_stopping and not partial:
            n_valid = len(self._split_point_tail(len(ids)))
            if min(n_valid, len(ids) - n_valid) < window + 1:
                raise ValueError(
                    f"X: the corpus has {len(ids)} tokens; with early_stopping, "
                    f"validation_fraction={self.validation_fraction} holds out its last "
                    f"{n_valid} and leaves {len(ids) - n_valid} for training, and each part "
                    f"needs at least block_size + 1 = {window + 1}. Give more text, lower "
                    "block_size or set early_stopping=False."
                )
        # Only now is the input known to be good: set the fitted attributes.
        self.tokenizer_ = tokenizer
        self.gpt_config_ = config
        self._pretrained_module = pretrained_module
        return TokenStream(ids, window), None

    def _split_point_tail(self, n_tokens):
        """The positions of the held-out tokens: the last ``validation_fraction``."""
        return range(n_tokens - math.ceil(self.validation_fraction * n_tokens), n_tokens)

    def _validation_split(self, data, stratify=None):
        # A language model holds out the end of the text, as nanoGPT does: random windows
        # from one stream would otherwise overlap the validation windows.
        split = self._split_point_tail(len(data)).start
        return TokenStream(data.ids[:split], data.block_size), TokenStream(
            data.ids[split:], data.block_size
        )

    def _build_module(self):
        module = getattr(self, "_pretrained_module", None)
        self._pretrained_module = None  # the net holds it now; don't keep a reference
        return module if module is not None else GPT(**self.gpt_config_)

    def _criterion(self):
        return TokenCrossEntropy()

    def _net_params(self):
        return {
            "criterion": self._criterion(),
            "optimizer": torch.optim.AdamW,  # replaced by _LMNet.initialize_optimizer
            "lr": self.learning_rate,
            "weight_decay": self.weight_decay,
            "optimizer_kind": self.optimizer,
            "steps_per_epoch": int(self.steps_per_epoch),
            "total_steps": int(self.max_epochs * self.steps_per_epoch),
            "warmup_steps": int(self.warmup_steps),
            "grad_clip": None if self.grad_clip is None else float(self.grad_clip),
            "mixed_precision": bool(self.mixed_precision),
        }

    def _continued_params(self):
        return {
            "lr": self.learning_rate,
            "steps_per_epoch": int(self.steps_per_epoch),
            "total_steps": int(self.max_epochs * self.steps_per_epoch),
            "warmup_steps": int(self.warmup_steps),
            "grad_clip": None if self.grad_clip is None else float(self.grad_clip),
        }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Raw text in; no target.
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.input_tags.allow_nan = False
        tags.target_tags.required = False
        return tags

    # --- scoring ----------------------------------------------------------------------

    def _document_losses(self, X):
        """Summed next-token negative log-likelihood and token count of each document.

        A document is read as ``sep + text + sep``; every token after the first is
        predicted. Documents longer than the context are read in windows of ``block_size``
        tokens sliding by half a window: each token is scored once, from the window that
        gives it the most context (at least ``block_size // 2`` tokens once past the
        first window), the usual perplexity recipe.
        """
        self._check_fitted()
        texts = _check_corpus(X)
        tokenizer = self.tokenizer_
        module, device = self._eval_module()
        size = int(self.block_size)
        stride = max(1, size // 2)
        sep = np.array([tokenizer.sep_id], dtype=np.int64)
        # (document, input ids, target ids, number of targets to count from the end)
        windows = []
        for d, ids in enumerate(tokenizer.transform(texts)):
            ids = np.concatenate([sep, ids, sep])
            scored = 0  # targets 1..scored are counted already
            start = 0
            while True:
                stop = min(start + size, len(ids) - 1)  # inputs ids[start:stop]
                windows.append((d, ids[start:stop], ids[start + 1 : stop + 1], stop - scored))
                scored = stop
                if stop == len(ids) - 1:
                    break
                start += stride
        nll = np.zeros(len(texts))
        counts = np.zeros(len(texts), dtype=np.int64)
        # Windows of equal length together: every window's logits come from the same-shaped
        # computation whatever the rest of X is (subset and order invariance).
        order = sorted(range(len(windows)), key=lambda i: len(windows[i][1]))
        with torch.inference_mode():
            for chunk_start in range(0, len(order), SCORE_WINDOWS):
                chunk = [windows[i] for i in order[chunk_start : chunk_start + SCORE_WINDOWS]]
                width = max(len(w[1]) for w in chunk)
                inputs = np.zeros((len(chunk), width), dtype=np.int64)
                targets = np.zeros((len(chunk), width), dtype=np.int64)
                weight = np.zeros((len(chunk), width), dtype=np.float32)
                for row, (_, x, t, n_count) in enumerate(chunk):
                    inputs[row, : len(x)] = x  # right padding: causal attention ignores it
                    targets[row, : len(t)] = t
                    weight[row, len(t) - n_count : len(t)] = 1.0
                logits = module(torch.from_numpy(inputs).to(device)).float()
                losses = F.cross_entropy(
                    logits.transpose(1, 2), torch.from_numpy(targets).to(device), reduction="none"
                )
                losses = (losses * torch.from_numpy(weight).to(device)).sum(dim=1)
                for row, (d, _, _, n_count) in enumerate(chunk):
                    nll[d] += float(losses[row])
                    counts[d] += n_count
        return nll, counts

    def score_samples(self, X):
        """Mean log-likelihood per token of each document (nats, higher is better).

        Parameters
        ----------
        X : str or sequence of str
            Documents; one string is one document.

        Returns
        -------
        scores : ndarray of shape (n_documents,)
            Minus the mean next-token cross-entropy of each document, its closing separator
            included (see :meth:`score`).
        """
        nll, counts = self._document_losses(X)
        return -nll / counts

    def score(self, X, y=None):
        """Minus the mean cross-entropy per token of ``X``, in nats: higher is better.

        Each document is read as ``separator + text + separator`` and every token after the
        first is predicted, the closing separator included (the model is scored on where
        a document ends, too). Long documents are read in windows sliding by half a
        ``block_size``, so each token sees at least half a window of context.

        Parameters
        ----------
        X : str or sequence of str
            Held-out documents.
        y : None
            Ignored.

        Returns
        -------
        score : float
            ``-sum(NLL) / n_tokens`` over all documents (so long documents weigh more).
        """
        nll, counts = self._document_losses(X)
        return float(-nll.sum() / counts.sum())

    def perplexity(self, X):
        """``exp(-score(X))``: the model's perplexity per token on ``X``."""
        return math.exp(-self.score(X))

    # --- generation -------------------------------------------------------------------

    def generate(
        self,
        prompt="",
        max_new_tokens=100,
        *,
        temperature=1.0,
        top_k=None,
        top_p=None,
        stop=None,
        random_state=None,
        stream=False,
    ):
        """Continue ``prompt`` with up to ``max_new_tokens`` sampled tokens.

        Parameters
        ----------
        prompt : str or sequence of str, default=""
            The text to continue (``""``: a new document), or several, generated together
            in one batch. Characters the tokenizer never saw are read as unknown; a prompt
            longer than the context keeps its end.
        max_new_tokens : int, default=100
            Most tokens generated per prompt. Generation of a prompt also ends at the end
            of a document (the separator token) or at a ``stop`` string.
        temperature : float >= 0, default=1.0
            Divides the logits; 0 always takes the most likely token (greedy).
        top_k : int or None, default=None
            Sample among the ``top_k`` most likely tokens only.
        top_p : float in (0, 1] or None, default=None
            Sample among the most likely tokens that together have probability ``top_p``.
        stop : str, sequence of str or None, default=None
            End a text where one of these strings appears; the text stops just before it.
        random_state : int, RandomState instance or None, default=None
            Seeds the sampling: the same value gives the same text (None: fresh each call,
            the global random states untouched).
        stream : bool, default=False
            Return :meth:`generate_stream`'s iterator of text pieces instead.

        Returns
        -------
        text : str, or list of str for a sequence of prompts
            The generated continuation (without the prompt).
        """
        args = self._generation_args(
            prompt, max_new_tokens, temperature, top_k, top_p, stop, random_state
        )
        pieces = self._stream(*args)
        if stream:
            return pieces
        encoded, single = args[0], args[1]
        if single:
            return "".join(pieces)
        texts = [""] * len(encoded)
        for step in pieces:
            texts = [t + p for t, p in zip(texts, step, strict=True)]
        return texts

    def generate_stream(
        self,
        prompt="",
        max_new_tokens=100,
        *,
        temperature=1.0,
        top_k=None,
        top_p=None,
        stop=None,
        random_state=None,
    ):
        """Generate as :meth:`generate` does, yielding the text as it is produced.

        Parameters are those of :meth:`generate`. The checks run when this is called, the
        generation when the iterator is read.

        Yields
        ------
        piece : str, or list of str for a sequence of prompts
            The next piece of text (for a list of prompts, the next piece of each, ``""``
            for those with nothing new). The pieces join to what :meth:`generate` returns
            with the same arguments. A piece that might begin a ``stop`` string, or an
            incomplete UTF-8 character (byte and BPE tokenizers), is held back until it is
            known.
        """
        args = self._generation_args(
            prompt, max_new_tokens, temperature, top_k, top_p, stop, random_state
        )
        return self._stream(*args)

    def _generation_args(self, prompt, max_new_tokens, temperature, top_k, top_p, stop, seed):
        """Check the arguments of generate; return those of :meth:`_stream`."""
        self._check_fitted()
        single = isinstance(prompt, str)
        prompts = [prompt] if single else check_texts(prompt, name="prompt")
        if (
            not isinstance(max_new_tokens, numbers.Integral)
            or isinstance(max_new_tokens, bool)
            or max_new_tokens < 0
        ):
            raise ValueError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
        check_sampling_params(temperature, top_k, top_p)
        stops = _check_stop(stop)
        # None: fresh OS entropy, so numpy's global random state is left alone.
        seed = (
            secrets.randbits(63)
            if seed is None
            else int(check_random_state(seed).randint(np.iinfo(np.int32).max))
        )
        tokenizer = self.tokenizer_
        sep = tokenizer.sep_id
        # Every prompt starts a document, as every document of the training stream does.
        encoded = [[sep, *tokenizer.encode(p).tolist()] for p in prompts]
        return encoded, single, max_new_tokens, temperature, top_k, top_p, stops, seed

    def _stream(self, encoded, single, max_new_tokens, temperature, top_k, top_p, stops, seed):
        module, device = self._eval_module()
        generator = torch.Generator(device=device).manual_seed(seed)
        tokenizer = self.tokenizer_
        rows = [_RowText(tokenizer.stream_decoder(), tokenizer.sep_id, stops) for _ in encoded]
        tokens = module.iter_generate(
            encoded,
            max_new_tokens,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            generator=generator,
        )
        try:
            for step in tokens:
                pieces = [
                    row.add(token) if not row.done else ""
                    for row, token in zip(rows, step.tolist(), strict=True)
                ]
                if any(pieces):
                    yield pieces[0] if single else pieces
                if all(row.done for row in rows):
                    break
        finally:
            tokens.close()  # stop the module's loop (and free its cache) at once
        pieces = [row.finish() for row in rows]
        if any(pieces):
            yield pieces[0] if single else pieces


class _RowText:
    """The text of one generated row: decoded piece by piece, cut at the separator or a
    stop string, released only when it cannot be part of a stop string."""

    def __init__(self, decoder, sep_id, stops):
        self.decoder = decoder
        self.sep_id = sep_id
        self.stops = stops
        self.pending = ""  # decoded, not yet released
        self.done = False

    def add(self, token):
        if token == self.sep_id:  # the end of a document
            return self.finish()
        self.pending += self.decoder.decode([token])
        return self._release(final=False)

    def finish(self):
        if self.done:
            return ""
        self.pending += self.decoder.flush()
        return self._release(final=True)

    def _release(self, final):
        cut = min((i for i in (self.pending.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            out, self.pending, self.done = self.pending[:cut], "", True
            return out
        if final:
            out, self.pending, self.done = self.pending, "", True
            return out
        # Keep back the longest end of the text that could start a stop string.
        keep = 0
        for s in self.stops:
            for n in range(min(len(s) - 1, len(self.pending)), keep, -1):
                if self.pending.endswith(s[:n]):
                    keep = n
                    break
        out = self.pending[: len(self.pending) - keep]
        self.pending = self.pending[len(self.pending) - keep :]
        return out


def _check_corpus(X):
    """One string is one document; otherwise a sequence of texts (see ``check_texts``)."""
    return [X] if isinstance(X, str) else check_texts(X, name="X")


def _check_stop(stop):
    if stop is None:
        return []
    stops = [stop] if isinstance(stop, str) else stop
    try:
        stops = list(stops)
    except TypeError:
        stops = None
    if stops is None or not all(isinstance(s, str) and s for s in stops):
        raise ValueError(
            f"stop must be None, a non-empty string or a list of non-empty strings, got {stop!r}"
        )
    return stops
