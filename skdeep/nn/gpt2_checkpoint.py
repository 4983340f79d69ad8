"""Read a Hugging Face GPT-2 checkpoint directory into skdeep's own :class:`~skdeep.nn.gpt.GPT`.

A GPT-2 directory (what ``GPT2LMHeadModel.save_pretrained`` writes) holds ``config.json`` and
the weights in ``model.safetensors`` (or shards listed in ``model.safetensors.index.json``).
GPT-2 is exactly the :class:`~skdeep.nn.gpt.GPT` of this package with learned positions,
biases, tanh-approximated GELU and tied embeddings, and it uses the same module names; the
one difference is that its linear layers are ``Conv1D`` modules, whose weights are stored
transposed. Only safetensors files are read (no pickle), and nothing is downloaded: a hub id
such as ``"gpt2"`` is resolved only from the local Hugging Face cache, when
``huggingface_hub`` is installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from skdeep.nn.gpt import GPT

__all__ = ["load_gpt2", "read_gpt2_config", "resolve_pretrained"]

# GPT-2's activation names -> GPT's.
_ACTIVATIONS = {
    "gelu_new": "gelu_tanh",
    "gelu_pytorch_tanh": "gelu_tanh",
    "gelu_fast": "gelu_tanh",
    "gelu": "gelu",
}
# Conv1D layers: stored as (in_features, out_features), nn.Linear wants the transpose.
_CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def resolve_pretrained(pretrained, *, param="pretrained"):
    """The local directory of a GPT-2 checkpoint.

    Parameters
    ----------
    pretrained : str or os.PathLike
        A directory, or a Hugging Face hub id (e.g. ``"gpt2"``) already in the local
        Hugging Face cache (looked up with ``huggingface_hub``, never downloaded).
    param : str, default="pretrained"
        Parameter name used in error messages.

    Returns
    -------
    path : Path
    """
    path = Path(pretrained)
    if path.is_dir():
        return path
    if isinstance(pretrained, str):
        try:
            from huggingface_hub import snapshot_download
        except ImportError:
            snapshot_download = None
        if snapshot_download is not None:
            try:
                return Path(snapshot_download(pretrained, local_files_only=True))
            except Exception:  # not a valid id, or not in the cache
                pass
    raise ValueError(
        f"{param}={str(pretrained)!r} is not a directory (nor a Hugging Face hub id in the "
        "local cache; skdeep never downloads): pass the directory of a GPT-2 checkpoint "
        "holding config.json, model.safetensors and the tokenizer files"
    )


def read_gpt2_config(path, *, param="pretrained"):
    """Check that ``path/config.json`` describes a GPT-2 model and return it as a dict."""
    config_file = Path(path) / "config.json"
    if not config_file.is_file():
        raise ValueError(
            f"{param}={str(path)!r} is not a GPT-2 checkpoint directory: it has no "
            "config.json (expected the output of GPT2LMHeadModel.save_pretrained)"
        )
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{param}={str(path)!r}: config.json is not valid JSON ({exc})") from None
    if not isinstance(config, dict) or config.get("model_type") != "gpt2":
        found = config.get("model_type") if isinstance(config, dict) else None
        raise ValueError(
            f"{param}={str(path)!r} is not a GPT-2 checkpoint: config.json has model_type "
            f"{found!r}, expected 'gpt2'"
        )
    unsupported = {
        "activation_function": config.get("activation_function", "gelu_new") in _ACTIVATIONS,
        "scale_attn_weights": config.get("scale_attn_weights", True) is True,
        "scale_attn_by_inverse_layer_idx": not config.get("scale_attn_by_inverse_layer_idx"),
        "add_cross_attention": not config.get("add_cross_attention"),
    }
    bad = [key for key, ok in unsupported.items() if not ok]
    if bad:
        raise ValueError(
            f"{param}={str(path)!r}: this GPT-2 variant is not supported "
            f"({', '.join(f'{k}={config.get(k)!r}' for k in bad)})"
        )
    return config


def _read_weights(path, param):
    from safetensors.torch import load_file

    path = Path(path)
    single, index = path / "model.safetensors", path / "model.safetensors.index.json"
    if single.is_file():
        return load_file(single)
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        tensors = {}
        for shard in shards:
            tensors.update(load_file(path / shard))
        return tensors
    pickled = [p.name for p in path.glob("*.bin")] + [p.name for p in path.glob("*.pt")]
    hint = (
        f" ({', '.join(pickled)} is a pickle file, which skdeep does not load: re-save the "
        "model with save_pretrained(..., safe_serialization=True))"
        if pickled
        else ""
    )
    raise ValueError(
        f"{param}={str(path)!r} is not a GPT-2 checkpoint directory: it has no "
        f"model.safetensors{hint}"
    )


def load_gpt2(pretrained, *, dropout=0.0, param="pretrained"):
    """Build a :class:`~skdeep.nn.gpt.GPT` holding the weights of a GPT-2 checkpoint.

    Parameters
    ----------
    pretrained : str or os.PathLike
        Checkpoint directory, or a hub id in the local cache (see :func:`resolve_pretrained`).
    dropout : float, default=0.0
        Dropout of the returned module (the checkpoint's own dropout settings are ignored).
    param : str, default="pretrained"
        Parameter name used in error messages.

    Returns
    -------
    model : GPT
        In float32, with the checkpoint's ``n_positions`` as ``block_size``.
    """
    path = resolve_pretrained(pretrained, param=param)
    config = read_gpt2_config(path, param=param)
    tied = config.get("tie_word_embeddings", True)
    model = GPT(
        vocab_size=config["vocab_size"],
        block_size=config["n_positions"],
        n_layer=config["n_layer"],
        n_head=config["n_head"],
        n_embd=config["n_embd"],
        dropout=dropout,
        bias=True,
        n_inner=config.get("n_inner"),
        activation=_ACTIVATIONS[config.get("activation_function", "gelu_new")],
        tie_weights=tied,
        layer_norm_eps=config.get("layer_norm_epsilon", 1e-5),
    )
    state = {}
    for key, tensor in _read_weights(path, param).items():
        # GPT2LMHeadModel files prefix "transformer."; GPT2Model files do not.
        if not key.startswith(("transformer.", "lm_head.")):
            key = "transformer." + key
        if key.endswith((".attn.bias", ".attn.masked_bias")):
            continue  # old files store the causal mask (a buffer, not a weight)
        if key.endswith(_CONV1D):
            tensor = tensor.t()
        state[key] = tensor.to(torch.float32)
    if tied:  # the module shares one tensor, and saves it as the embedding
        state.pop("lm_head.weight", None)
    expected = model.state_dict()
    missing = sorted(k for k in expected if state.get(k) is None)
    unexpected = sorted(k for k in state if k not in expected)
    wrong = sorted(
        k for k in expected if state.get(k) is not None and state[k].shape != expected[k].shape
    )
    if missing or unexpected or wrong:
        raise ValueError(
            f"{param}={str(path)!r}: the weights in model.safetensors do not match its "
            f"config.json (missing: {missing[:5]}, unexpected: {unexpected[:5]}, "
            f"wrong shape: {wrong[:5]})"
        )
    model.load_state_dict(state)
    return model
