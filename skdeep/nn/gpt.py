"""A GPT-style decoder-only transformer language model, in plain torch.

The model (nanoGPT's ``model.py`` / GPT-2, with the module names of both, so GPT-2 checkpoints
map onto it one tensor at a time)::

    token embedding wte (+ learned position embedding wpe) -> dropout
        -> n_layer x [x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))]     pre-LayerNorm blocks
        -> ln_f -> lm_head (its weight *is* wte's: weight tying)

Attention goes through ``torch.nn.functional.scaled_dot_product_attention`` (fused kernels on
CPU and GPU). The "modern small-GPT recipe" of the modded-nanogpt speed runs is a set of
constructor flags, so one benchmark can compare them one at a time:

* ``rotary=True``: rotary position embeddings on queries and keys instead of ``wpe``;
* ``qk_norm=True``: RMS-normalised queries and keys (with a learned gain), which keeps
  attention logits bounded and allows larger learning rates;
* ``activation="relu2"``: ``relu(x) ** 2`` in the MLP instead of GELU;
* ``zero_init=True``: the output projections of attention and MLP start at zero, so every
  block starts as the identity.

**Generation with a key/value cache.** :meth:`GPT.iter_generate` runs the prompt once, then
feeds one token per step: each layer stores the keys and values of the tokens already seen in
a :class:`KVCache`, so a step costs one position, not the whole context. Prompts of different
lengths share a batch through *per-row positions*: row ``i``'s tokens sit in cache columns
``0 .. length_i - 1`` (right padding, whose columns are masked and later overwritten), its next
token is written at column ``length_i`` and attends to columns ``<= length_i`` only. A row of a
batch therefore gets exactly the tokens it would get alone.

A row's context never exceeds ``block_size`` tokens (the positions the model was trained
on). When it would, the row's window *slides*: it keeps its last ``overflow_keep`` tokens
(default ``block_size // 2``), which are run through the model again at positions
``0 .. overflow_keep - 1``. That one recomputation buys ``block_size - overflow_keep`` cheap
steps, so the cost per token stays flat however many tokens are generated.
``overflow_keep=block_size`` slides by one token each step: nanoGPT's ``generate``, a full
recomputation per token. ``use_cache=False`` recomputes the same windows without the cache
(the reference the cache is tested against).
"""

from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["GPT", "KVCache", "check_sampling_params", "sample_next_token"]

ACTIVATIONS = ("gelu", "gelu_tanh", "relu2")


class RMSNorm(nn.Module):
    """Root-mean-square normalisation over the last dimension, with a learned gain.

    Written out (not ``nn.RMSNorm``, which needs torch >= 2.4).
    """

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotary_tables(n_positions, head_dim, base=10000.0):
    """``cos`` and ``sin`` of shape ``(n_positions, head_dim // 2)`` for rotary embeddings."""
    inv_freq = 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    angles = torch.outer(torch.arange(n_positions, dtype=torch.float32), inv_freq)
    return angles.cos(), angles.sin()


def apply_rotary(x, cos, sin):
    """Rotate the pairs ``(x[..., j], x[..., j + d/2])`` of ``x`` (B, H, T, d) by the angles
    of each position; ``cos``/``sin`` broadcast to (B, H, T, d/2)."""
    x1, x2 = x.chunk(2, dim=-1)
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class KVCache:
    """Keys and values of the tokens seen so far, for every layer and row of a batch.

    Create it with :meth:`GPT.new_cache`. Row ``i`` holds ``lengths[i]`` tokens in columns
    ``0 .. lengths[i] - 1`` of each layer's buffer; a forward pass with the cache writes its
    ``T`` new tokens at columns ``lengths[i] .. lengths[i] + T - 1`` (positions, too, start at
    ``lengths[i]``), and each new token attends to the columns up to its own.

    Parameters
    ----------
    n_layer : int
        Number of transformer blocks.
    batch_size : int
        Number of rows.
    capacity : int
        Columns per row (the model's ``block_size``).
    """

    def __init__(self, n_layer, batch_size, capacity):
        self.n_layer = n_layer
        self.batch_size = batch_size
        self.capacity = capacity
        self.lengths = [0] * batch_size  # Python ints: deciding the layout needs no device sync
        self.k = self.v = None  # (n_layer, B, H, capacity, D), allocated on the first write
        self._layers = None  # per-layer (keys, values) views: Python indexing is slow per token
        self._step = None
        self._columns = None  # arange(capacity) on the device, sliced instead of re-created

    def begin(self, n_new, device):
        """Prepare a forward pass of ``n_new`` tokens per row; return their positions.

        Returns a ``(n_new,)`` tensor when every row starts at the same column, else a
        ``(batch_size, n_new)`` one.
        """
        starts = self.lengths
        if max(starts) + n_new > self.capacity:
            raise ValueError(
                f"the cache holds at most {self.capacity} tokens per row (block_size); "
                f"{max(starts)} + {n_new} do not fit"
            )
        n_cols = max(starts) + n_new
        if self._columns is None:
            self._columns = torch.arange(self.capacity, device=device)
        columns = self._columns
        if min(starts) == max(starts):
            start = starts[0]
            positions = columns[start : start + n_new]
            write = start
            if n_new == 1 or start == 0:
                # One new token sees every stored column; a fresh prompt is plainly causal.
                mask, causal = None, n_new > 1
            else:  # a chunk after stored tokens: causal, offset by `start` columns
                mask = columns[:n_cols] <= positions[:, None]
                causal = False
        else:
            positions = torch.tensor(starts, device=device)[:, None] + columns[:n_new]
            rows = torch.arange(self.batch_size, device=device)[:, None]
            write = (rows, positions)
            # (B, 1, T, n_cols): token t of row i sees the columns up to its own position.
            mask = (columns[:n_cols] <= positions[..., None])[:, None]
            causal = False
        self._step = (write, n_cols, mask, causal)
        return positions

    def update(self, layer, k, v):
        """Store this layer's new keys/values (B, H, T, D); return what attention needs:
        ``(keys, values, attn_mask, is_causal)`` over the columns in use."""
        write, n_cols, mask, causal = self._step
        if self.k is None:
            shape = (self.n_layer, self.batch_size, k.shape[1], self.capacity, k.shape[3])
            self.k = k.new_zeros(shape)
            self.v = v.new_zeros(shape)
            self._layers = [(self.k[i], self.v[i]) for i in range(self.n_layer)]
        keys, values = self._layers[layer]
        if isinstance(write, numbers.Integral):  # every row from the same column
            keys.narrow(2, write, k.shape[2]).copy_(k)
            values.narrow(2, write, v.shape[2]).copy_(v)
        else:  # per-row columns: index (row, column) pairs; the result dims are (B, T, H, D)
            rows, cols = write
            keys[rows, :, cols] = k.transpose(1, 2)
            values[rows, :, cols] = v.transpose(1, 2)
        return keys.narrow(2, 0, n_cols), values.narrow(2, 0, n_cols), mask, causal

    def advance(self, n_valid):
        """Count the new tokens as stored: ``n_valid`` per row (an int or a list of ints);
        columns past them (right padding) are overwritten later."""
        if isinstance(n_valid, numbers.Integral):
            n_valid = [n_valid] * self.batch_size
        self.lengths = [n + m for n, m in zip(self.lengths, n_valid, strict=True)]
        self._step = None

    def copy_rows_from(self, other, rows):
        """Replace rows ``rows`` of this cache by the rows of ``other`` (same order)."""
        n_cols = max(other.lengths)
        if n_cols:
            index = torch.as_tensor(rows, device=self.k.device)
            self.k[:, index, :, :n_cols] = other.k[:, :, :, :n_cols]
            self.v[:, index, :, :n_cols] = other.v[:, :, :, :n_cols]
        for row, length in zip(rows, other.lengths, strict=True):
            self.lengths[row] = length


def _drop_tied_head(module, state_dict, prefix, local_metadata):
    state_dict.pop(prefix + "lm_head.weight", None)


def _fill_tied_head(state_dict, prefix, *args):
    embedding = state_dict.get(prefix + "transformer.wte.weight")
    if embedding is not None:
        state_dict.setdefault(prefix + "lm_head.weight", embedding)


def dropout(x, p, training):
    """``F.dropout``, skipped outright when it would do nothing (every call counts when
    generating one token at a time)."""
    return F.dropout(x, p) if training and p > 0 else x


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention, optionally with rotary embeddings and QK-norm."""

    def __init__(self, n_embd, n_head, dropout, bias, qk_norm):
        super().__init__()
        self.n_head = n_head
        self.n_embd = n_embd
        self.dropout = dropout
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)  # q, k, v in one matmul
        self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
        head_dim = n_embd // n_head
        self.q_norm = RMSNorm(head_dim) if qk_norm else None
        self.k_norm = RMSNorm(head_dim) if qk_norm else None

    def forward(self, x, rope=None, cache=None, layer=0):
        B, T, C = x.shape
        # (B, T, 3 C) -> q, k, v, each (B, n_head, T, head_dim)
        qkv = self.c_attn(x).view(B, T, 3, self.n_head, C // self.n_head)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        if self.q_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        if rope is not None:
            q, k = apply_rotary(q, *rope), apply_rotary(k, *rope)
        if cache is None:
            mask, causal = None, True
        else:
            k, v, mask, causal = cache.update(layer, k, v)
        y = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=mask,
            dropout_p=self.dropout if self.training else 0.0,
            is_causal=causal,
        )
        y = self.c_proj(y.transpose(1, 2).reshape(B, T, C))
        return dropout(y, self.dropout, self.training)


class MLP(nn.Module):
    """Position-wise feed-forward network: Linear -> activation -> Linear."""

    def __init__(self, n_embd, n_inner, dropout, bias, activation):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, n_inner, bias=bias)
        self.c_proj = nn.Linear(n_inner, n_embd, bias=bias)
        self.dropout = dropout
        self.activation = activation

    def forward(self, x):
        x = self.c_fc(x)
        if self.activation == "relu2":
            x = F.relu(x).square()
        else:  # GPT-2 uses the tanh approximation of GELU, nanoGPT the exact one
            x = F.gelu(x, approximate="tanh" if self.activation == "gelu_tanh" else "none")
        return dropout(self.c_proj(x), self.dropout, self.training)


class Block(nn.Module):
    """One pre-LayerNorm transformer block: attention then MLP, each added to the residual."""

    def __init__(self, n_embd, n_head, n_inner, dropout, bias, activation, qk_norm, eps):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, eps=eps, bias=bias)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout, bias, qk_norm)
        self.ln_2 = nn.LayerNorm(n_embd, eps=eps, bias=bias)
        self.mlp = MLP(n_embd, n_inner, dropout, bias, activation)

    def forward(self, x, rope=None, cache=None, layer=0):
        x = x + self.attn(self.ln_1(x), rope, cache, layer)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """A decoder-only transformer mapping token ids ``(batch, time)`` to next-token logits.

    Parameters
    ----------
    vocab_size : int
        Number of token ids (rows of the embedding and of the output layer).
    block_size : int
        Longest context, in tokens (number of positions).
    n_layer, n_head, n_embd : int
        Number of blocks, attention heads per block and embedding width; ``n_embd`` must be
        divisible by ``n_head`` (and the head width even when ``rotary=True``).
    dropout : float, default=0.0
        Dropout on the embeddings, attention weights and each block's outputs (training only).
    bias : bool, default=True
        Biases in the linear layers and LayerNorms (GPT-2 has them; nanoGPT's small
        Shakespeare configuration does not).
    n_inner : int or None, default=None
        Hidden width of the MLPs; None means ``4 * n_embd``.
    activation : {"gelu", "gelu_tanh", "relu2"}, default="gelu"
        MLP activation: exact GELU (nanoGPT), its tanh approximation (GPT-2), or
        ``relu(x) ** 2``.
    rotary : bool, default=False
        Rotary position embeddings instead of a learned position embedding.
    qk_norm : bool, default=False
        RMS-normalise queries and keys per head before attention.
    zero_init : bool, default=False
        Start the output projections of attention and MLP at zero. Otherwise they are drawn
        with GPT-2's scaled standard deviation ``0.02 / sqrt(2 * n_layer)``.
    tie_weights : bool, default=True
        Share the token embedding with the output layer.
    layer_norm_eps : float, default=1e-5
        LayerNorm epsilon (GPT-2's value).

    Examples
    --------
    >>> import torch
    >>> from skdeep.nn.gpt import GPT
    >>> _ = torch.manual_seed(0)
    >>> model = GPT(vocab_size=10, block_size=8, n_layer=1, n_head=2, n_embd=8).eval()
    >>> model(torch.tensor([[1, 2, 3]])).shape
    torch.Size([1, 3, 10])
    >>> model.generate([[1, 2, 3], [4]], max_new_tokens=5, temperature=0).shape
    torch.Size([2, 5])
    """

    def __init__(
        self,
        vocab_size,
        block_size,
        n_layer=4,
        n_head=4,
        n_embd=128,
        dropout=0.0,
        bias=True,
        n_inner=None,
        activation="gelu",
        rotary=False,
        qk_norm=False,
        zero_init=False,
        tie_weights=True,
        layer_norm_eps=1e-5,
    ):
        super().__init__()
        if n_embd % n_head:
            raise ValueError(
                f"n_embd={n_embd} must be divisible by n_head={n_head} (each head gets "
                "n_embd // n_head dimensions)"
            )
        if rotary and (n_embd // n_head) % 2:
            raise ValueError(
                f"rotary=True needs an even head width n_embd // n_head, got "
                f"{n_embd} // {n_head} = {n_embd // n_head}"
            )
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        # Everything needed to build the same module again (e.g. when loading a saved model).
        self.config = {
            "vocab_size": vocab_size,
            "block_size": block_size,
            "n_layer": n_layer,
            "n_head": n_head,
            "n_embd": n_embd,
            "dropout": dropout,
            "bias": bias,
            "n_inner": n_inner,
            "activation": activation,
            "rotary": rotary,
            "qk_norm": qk_norm,
            "zero_init": zero_init,
            "tie_weights": tie_weights,
            "layer_norm_eps": layer_norm_eps,
        }
        self.vocab_size = vocab_size
        self.block_size = block_size
        self.dropout = dropout
        self.n_layer = n_layer
        n_inner = 4 * n_embd if n_inner is None else n_inner
        self.transformer = nn.ModuleDict(
            {
                "wte": nn.Embedding(vocab_size, n_embd),
                "h": nn.ModuleList(
                    Block(
                        n_embd, n_head, n_inner, dropout, bias, activation, qk_norm, layer_norm_eps
                    )
                    for _ in range(n_layer)
                ),
                "ln_f": nn.LayerNorm(n_embd, eps=layer_norm_eps, bias=bias),
            }
        )
        if rotary:
            cos, sin = rotary_tables(block_size, n_embd // n_head)
            # Not saved with the weights: recomputed from block_size and the head width.
            self.register_buffer("rope_cos", cos, persistent=False)
            self.register_buffer("rope_sin", sin, persistent=False)
        else:
            self.transformer["wpe"] = nn.Embedding(block_size, n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        if tie_weights:
            self.lm_head.weight = self.transformer.wte.weight
            # A tied output weight is saved once, as the embedding (safetensors refuses two
            # names for one tensor), and filled back in from it when loading.
            self._register_state_dict_hook(_drop_tied_head)
            self._register_load_state_dict_pre_hook(_fill_tied_head)

        # GPT-2's initialisation, as in nanoGPT.
        self.apply(self._init_weights)
        for name, param in self.named_parameters():
            if name.endswith("c_proj.weight"):
                if zero_init:
                    nn.init.zeros_(param)
                else:  # residual projections scaled down by depth (GPT-2 paper)
                    nn.init.normal_(param, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_parameters(self, non_embedding=True):
        """Number of parameters; by default without the position embedding (the token
        embedding counts once, as the tied output layer)."""
        n = sum(p.numel() for p in self.parameters())
        if non_embedding and "wpe" in self.transformer:
            n -= self.transformer.wpe.weight.numel()
        return n

    def parameter_groups(self):
        """Split the parameters for the optimiser.

        Returns
        -------
        groups : dict of str to list of nn.Parameter
            ``"hidden_matrices"``: the 2-D weights inside the blocks (the ones Muon is for);
            ``"embeddings"``: token (tied output) and position embeddings, and an untied
            ``lm_head``; ``"vectors"``: biases, LayerNorm and QK-norm gains. Each parameter
            appears once.
        """
        groups = {"hidden_matrices": [], "embeddings": [], "vectors": []}
        for name, param in self.named_parameters():  # tied weights are listed once
            if param.dim() < 2:
                groups["vectors"].append(param)
            elif name.startswith("transformer.h."):
                groups["hidden_matrices"].append(param)
            else:
                groups["embeddings"].append(param)
        return groups

    def new_cache(self, batch_size):
        """An empty :class:`KVCache` for ``batch_size`` rows of up to ``block_size`` tokens."""
        return KVCache(self.n_layer, batch_size, self.block_size)

    def hidden_states(self, idx, cache=None, n_valid=None):
        """Final hidden states ``(B, T, n_embd)`` (after ``ln_f``) of token ids ``idx``.

        With a ``cache``, the tokens continue each row's stored ones and are stored in turn;
        ``n_valid`` (list of ints, default all ``T``) says how many of each row's tokens are
        real, the rest being right padding.
        """
        T = idx.shape[1]
        if cache is None:
            if self.block_size < T:
                raise ValueError(
                    f"cannot read a sequence of {T} tokens: block_size is {self.block_size}"
                )
            positions = torch.arange(T, device=idx.device)
        else:
            positions = cache.begin(T, idx.device)
        x = self.transformer.wte(idx)
        rope = None
        if "wpe" in self.transformer:
            x = x + self.transformer.wpe(positions)
        else:
            # (T, d/2) or, with per-row positions, (B, T, d/2) -> (B, 1, T, d/2)
            cos, sin = self.rope_cos[positions], self.rope_sin[positions]
            rope = (cos, sin) if positions.dim() == 1 else (cos[:, None], sin[:, None])
        x = dropout(x, self.dropout, self.training)
        for layer, block in enumerate(self.transformer.h):
            x = block(x, rope, cache, layer)
        if cache is not None:
            cache.advance(T if n_valid is None else n_valid)
        return self.transformer.ln_f(x)

    def forward(self, idx, cache=None):
        """Next-token logits ``(B, T, vocab_size)`` at every position of ``idx`` ``(B, T)``."""
        return self.lm_head(self.hidden_states(idx, cache))

    # --- generation -------------------------------------------------------------------

    @torch.inference_mode()  # no autograd bookkeeping at all: every op counts per token
    def iter_generate(
        self,
        prompts,
        max_new_tokens,
        *,
        temperature=1.0,
        top_k=None,
        top_p=None,
        generator=None,
        use_cache=True,
        overflow_keep=None,
    ):
        """Yield, ``max_new_tokens`` times, the next token of every prompt.

        Parameters
        ----------
        prompts : sequence of sequences of int, or LongTensor of shape (B, T)
            One non-empty prompt per row; rows may differ in length. Prompts longer than
            ``block_size`` keep their last ``block_size`` tokens.
        max_new_tokens : int
            Number of steps.
        temperature, top_k, top_p, generator
            Sampling settings, see :func:`sample_next_token`.
        use_cache : bool, default=True
            Keep keys and values between steps; False recomputes each row's whole window at
            every step (same tokens, slower: the reference for the cache).
        overflow_keep : int or None, default=None
            Tokens a row keeps when its window would exceed ``block_size``; None means
            ``block_size // 2`` (see the module docstring).

        Yields
        ------
        tokens : LongTensor of shape (B,)
            The sampled token of each row, on the model's device. Stopping the iteration
            early costs nothing more.
        """
        check_sampling_params(temperature, top_k, top_p)
        keep = self.block_size // 2 if overflow_keep is None else overflow_keep
        if not (isinstance(keep, numbers.Integral) and 1 <= keep <= self.block_size):
            raise ValueError(
                f"overflow_keep must be an int in [1, block_size={self.block_size}], got "
                f"{overflow_keep!r}"
            )
        device = self.lm_head.weight.device
        prompts = [torch.as_tensor(p, dtype=torch.long).reshape(-1) for p in prompts]
        if not prompts or any(len(p) == 0 for p in prompts):
            raise ValueError("every prompt needs at least one token (e.g. a separator)")
        B = len(prompts)
        # All tokens of each row: row i's are history[i, :n[i]]; its window starts at start[i].
        n = [len(p) for p in prompts]
        history = torch.zeros(B, max(n) + max_new_tokens, dtype=torch.long, device=device)
        for i, p in enumerate(prompts):
            history[i, : n[i]] = p.to(device)
        start = [max(0, length - self.block_size) for length in n]
        rows = torch.arange(B, device=device)

        def windows(which, drop_last):
            # Right-padded windows of rows `which`, without their newest token if drop_last.
            ends = [n[i] - drop_last for i in which]
            lengths = [e - start[i] for i, e in zip(which, ends, strict=True)]
            width = max(max(lengths), 1)
            first = torch.tensor([start[i] for i in which], device=device)
            last = torch.tensor([max(e - 1, 0) for e in ends], device=device)
            cols = torch.minimum(
                first[:, None] + torch.arange(width, device=device), last[:, None]
            )
            return history[torch.as_tensor(which, device=device)[:, None], cols], lengths

        def prefill(which):
            # A cache for rows `which` holding their window minus its newest token, which the
            # next step feeds.
            cache = self.new_cache(len(which))
            ids, lengths = windows(which, drop_last=True)
            if max(lengths) > 0:
                self.hidden_states(ids, cache, n_valid=lengths)
            return cache

        was_training = self.training
        self.eval()
        try:
            if use_cache:
                cache = prefill(list(range(B)))
                token = history[rows, torch.tensor(n, device=device) - 1]
            n_t = torch.tensor(n, device=device)  # n on the device, for writing into history
            for step in range(max_new_tokens):
                if use_cache:  # feed the newest token only
                    logits = self(token[:, None], cache)[:, -1]
                else:
                    ids, lengths = windows(list(range(B)), drop_last=False)
                    logits = self(ids)[rows, torch.tensor(lengths, device=device) - 1]
                token = sample_next_token(
                    logits, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator
                )
                yield token
                if step == max_new_tokens - 1:
                    break
                if min(n) == max(n):
                    history[:, n[0]] = token
                else:
                    history[rows, n_t] = token
                n_t += 1
                n = [length + 1 for length in n]
                full = [i for i in range(B) if n[i] - start[i] > self.block_size]
                for i in full:
                    start[i] = n[i] - keep
                if full and use_cache:
                    cache.copy_rows_from(prefill(full), full)
        finally:
            self.train(was_training)

    def generate(self, prompts, max_new_tokens, **kwargs):
        """The tokens of :meth:`iter_generate` as a LongTensor ``(B, max_new_tokens)``."""
        steps = list(self.iter_generate(prompts, max_new_tokens, **kwargs))
        if not steps:
            return torch.zeros(len(prompts), 0, dtype=torch.long)
        return torch.stack(steps, dim=1)


def check_sampling_params(temperature, top_k, top_p):
    """Raise ``ValueError`` naming the parameter when a sampling setting is out of range."""
    if (
        not isinstance(temperature, numbers.Real)
        or isinstance(temperature, bool)
        or not math.isfinite(temperature)
        or temperature < 0
    ):
        raise ValueError(
            f"temperature must be a finite number >= 0 (0 picks the most likely token), got "
            f"{temperature!r}"
        )
    if top_k is not None and (
        not isinstance(top_k, numbers.Integral) or isinstance(top_k, bool) or top_k < 1
    ):
        raise ValueError(f"top_k must be None or an int >= 1, got {top_k!r}")
    if top_p is not None and (
        not isinstance(top_p, numbers.Real)
        or isinstance(top_p, bool)
        or not 0 < top_p <= 1  # also rejects NaN
    ):
        raise ValueError(f"top_p must be None or a number in (0, 1], got {top_p!r}")


def sample_next_token(logits, *, temperature=1.0, top_k=None, top_p=None, generator=None):
    """Draw one token per row from next-token logits.

    Parameters
    ----------
    logits : Tensor of shape (B, vocab_size)
    temperature : float, default=1.0
        Divides the logits: below 1 sharpens, above 1 flattens. 0 takes the most likely
        token (greedy; ties go to the lowest id).
    top_k : int or None, default=None
        Sample among the ``top_k`` most likely tokens only.
    top_p : float in (0, 1] or None, default=None
        Nucleus sampling: sample among the smallest set of most likely tokens whose
        probabilities add up to at least ``top_p``.
    generator : torch.Generator or None, default=None
        Source of randomness, on the logits' device; the same seeded generator gives the
        same tokens.

    Returns
    -------
    tokens : LongTensor of shape (B,)

    Examples
    --------
    >>> import torch
    >>> logits = torch.tensor([[0.0, 3.0, 1.0]])
    >>> sample_next_token(logits, temperature=0)
    tensor([1])
    >>> sample_next_token(logits, top_k=1, generator=torch.Generator().manual_seed(0))
    tensor([1])
    """
    check_sampling_params(temperature, top_k, top_p)
    if temperature == 0:
        return logits.argmax(dim=-1)
    logits = logits.float() / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1:
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        probs = sorted_logits.softmax(dim=-1)
        # Drop a token when the more likely ones before it already reach top_p; the most
        # likely token always stays.
        drop = probs.cumsum(dim=-1) - probs >= top_p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    # The exponential race: argmax of p_i / E_i with E_i ~ Exp(1) picks i with probability
    # p_i (exactly, like torch.multinomial, at a third of its per-call cost on the CPU). A
    # token with p_i == 0 (filtered out) must never win, even against a 0 / 0.
    probs = logits.softmax(dim=-1)
    race = probs / torch.empty_like(probs).exponential_(generator=generator)
    return race.masked_fill_(probs == 0, -1.0).argmax(dim=-1)
