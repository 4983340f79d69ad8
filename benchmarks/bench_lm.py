"""TransformerLMGenerator's language model against hand-written torch anchors, on tinyshakespeare.

The text is the bundled tinyshakespeare (``skdeep.datasets.load_tiny_shakespeare``): the first
90% of the characters for training, the last 10% for validation (nanoGPT's split). Sections:

``train``
    nanoGPT's published CPU configuration for ``shakespeare_char`` (n_layer=4, n_head=4,
    n_embd=128, block_size=64, batch_size=12, dropout=0, bias=False, AdamW lr 1e-3 with 100
    warm-up steps and cosine decay to 1e-4 over ``--steps`` (2000), betas (0.9, 0.99),
    weight decay 0.1 on matrices, grad clip 1.0), trained once by a minimal hand-written
    torch loop (nanoGPT's ``train.py`` without its extras) and once by
    ``TransformerLMGenerator`` with the same settings: the validation loss (nanoGPT reports
    about 1.88 for this run) and the training time.
``throughput``
    Training tokens per second of the same two, ``--throughput-steps`` steps each,
    interleaved ``--repeats`` times (medians): the fair speed comparison on a shared machine.
``recipe``
    The modern small-GPT recipe through the estimator, one change at a time at the same
    step budget: rotary embeddings, QK-norm, ReLU^2, zero-initialised projections, Muon
    (``--variants`` picks rows).
``bpe``
    Character tokens against a 512-token BPE at the same budget (steps, batch, 64-token
    windows): tokens per character and validation loss per token and per character.
``generate``
    Generation speed of the same model (untrained: speed does not depend on the weights) at
    block_size 64 and 256, from a one-token prompt: the key/value cache of
    :meth:`skdeep.nn.gpt.GPT.generate` against nanoGPT's full-recompute loop (crop the context
    to ``block_size``, run it all, sample). Reported: ms per token averaged over the first
    10, 60 and 500 new tokens, the speed-up at 500, and the ceiling of any cache (a forward
    pass over a full context against one over a single token).
``tokenizers``
    Tokens per character on the validation text for the character tokenizer and byte-level
    BPE of several vocabulary sizes (fitted on the training text), and the fit time.

The validation loss is nanoGPT's measure: the mean cross-entropy (nats per token) of every
disjoint ``block_size`` window of the validation text (nanoGPT averages 200 random windows;
over all windows the figure is the same in expectation, without the sampling noise).

    python benchmarks/bench_lm.py [--threads 1] [--steps 2000] [--repeats 3]
                                  [--sections train,throughput,recipe,bpe,generate,tokenizers]

Prints markdown tables; paste them into benchmarks/RESULTS.md with the machine they ran on.
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from skdeep.datasets._tiny_shakespeare import load_tiny_shakespeare
from skdeep.nn.gpt import GPT
from skdeep.preprocessing.lm_tokenizers import BPETokenizer, CharTokenizer

# nanoGPT's config/train_shakespeare_char.py with its README's CPU overrides.
NANOGPT_CPU = {
    "n_layer": 4,
    "n_head": 4,
    "n_embd": 128,
    "block_size": 64,
    "batch_size": 12,
    "dropout": 0.0,
    "bias": False,
    "learning_rate": 1e-3,
    "min_lr": 1e-4,
    "warmup_steps": 100,
    "weight_decay": 0.1,
    "betas": (0.9, 0.99),
    "grad_clip": 1.0,
}


# --- data -----------------------------------------------------------------------------


def load_split():
    return (
        load_tiny_shakespeare(split="train", return_text=True),
        load_tiny_shakespeare(split="validation", return_text=True),
    )


def encode_char(train_text, valid_text):
    tok = CharTokenizer().fit(train_text)
    return tok, torch.from_numpy(tok.encode(train_text)), torch.from_numpy(tok.encode(valid_text))


def get_batch(data, block_size, batch_size, generator):
    # nanoGPT's get_batch: random windows anywhere in the token stream.
    ix = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
    x = torch.stack([data[i : i + block_size] for i in ix.tolist()])
    y = torch.stack([data[i + 1 : i + 1 + block_size] for i in ix.tolist()])
    return x, y


def lr_at(step, steps, cfg):
    # nanoGPT's get_lr: linear warm-up, then cosine decay to min_lr at the last step.
    lr, min_lr, warmup = cfg["learning_rate"], cfg["min_lr"], cfg["warmup_steps"]
    if step < warmup:
        return lr * (step + 1) / (warmup + 1)
    ratio = (step - warmup) / max(1, steps - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * min(ratio, 1.0))) * (lr - min_lr)


@torch.no_grad()
def validation_loss(model, data, block_size, batch_size=64):
    """Mean cross-entropy of every disjoint ``block_size + 1`` window of ``data``."""
    model.eval()
    n = (len(data) - 1) // block_size
    total = 0.0
    for start in range(0, n, batch_size):
        rows = range(start, min(n, start + batch_size))
        x = torch.stack([data[i * block_size : (i + 1) * block_size] for i in rows])
        y = torch.stack([data[i * block_size + 1 : (i + 1) * block_size + 1] for i in rows])
        logits = model(x)
        total += F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum"
        ).item()
    model.train()
    return total / (n * block_size)


# --- the hand-written anchor ----------------------------------------------------------


def make_optimizers(model, cfg, muon=False):
    """nanoGPT's AdamW groups (decay on >= 2-D parameters); with ``muon``, torch's Muon
    (learning rate matched to AdamW's update size) takes the hidden matrices."""
    groups = model.parameter_groups()
    adam_decay = groups["embeddings"] + ([] if muon else groups["hidden_matrices"])
    adam = torch.optim.AdamW(
        [
            {"params": adam_decay, "weight_decay": cfg["weight_decay"]},
            {"params": groups["vectors"], "weight_decay": 0.0},
        ],
        lr=cfg["learning_rate"],
        betas=cfg["betas"],
    )
    if not muon:
        return [adam]
    return [
        adam,
        torch.optim.Muon(
            groups["hidden_matrices"],
            lr=cfg["learning_rate"],
            weight_decay=cfg["weight_decay"],
            adjust_lr_fn="match_rms_adamw",
        ),
    ]


def hand_train(train_data, vocab_size, steps, cfg, seed=0, muon=False, **model_flags):
    """Train the nanoGPT configuration with a minimal loop; return (model, seconds)."""
    torch.manual_seed(seed)
    model = GPT(
        vocab_size,
        cfg["block_size"],
        n_layer=cfg["n_layer"],
        n_head=cfg["n_head"],
        n_embd=cfg["n_embd"],
        dropout=cfg["dropout"],
        bias=cfg["bias"],
        **model_flags,
    )
    optimizers = make_optimizers(model, cfg, muon=muon)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    start = time.perf_counter()
    for step in range(steps):
        lr = lr_at(step, steps, cfg)
        for opt in optimizers:
            for group in opt.param_groups:
                group["lr"] = lr
        x, y = get_batch(train_data, cfg["block_size"], cfg["batch_size"], gen)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        for opt in optimizers:
            opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
        for opt in optimizers:
            opt.step()
    return model, time.perf_counter() - start


def skdeep_lm(steps, cfg=NANOGPT_CPU, **params):
    """TransformerLMGenerator with the nanoGPT configuration: 250 steps per epoch."""
    from skdeep.lm import TransformerLMGenerator

    per_epoch = min(250, steps)
    return TransformerLMGenerator(
        n_layer=cfg["n_layer"],
        n_head=cfg["n_head"],
        n_embd=cfg["n_embd"],
        block_size=cfg["block_size"],
        batch_size=cfg["batch_size"],
        dropout=cfg["dropout"],
        bias=cfg["bias"],
        learning_rate=cfg["learning_rate"],
        warmup_steps=cfg["warmup_steps"],
        weight_decay=cfg["weight_decay"],
        grad_clip=cfg["grad_clip"],
        # nanoGPT's architecture unless a recipe row says otherwise
        **{"rotary": False, "qk_norm": False, "activation": "gelu", "zero_init": False, **params},
        max_epochs=steps // per_epoch,
        steps_per_epoch=per_epoch,
        tol=0.0,  # run the whole budget, as nanoGPT does
        device="cpu",
        random_state=0,
    )


def fit_skdeep(lm, train_text):
    """Fit; return (seconds of training proper, from history_, and seconds overall)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        lm.fit(train_text)
    return sum(row["dur"] for row in lm.history_), time.perf_counter() - start


def section_train(args):
    train_text, valid_text = load_split()
    tok, train_data, valid_data = encode_char(train_text, valid_text)
    cfg = NANOGPT_CPU
    tokens = args.steps * cfg["batch_size"] * cfg["block_size"]
    rows = []
    model, seconds = hand_train(train_data, len(tok), args.steps, cfg)
    loss = validation_loss(model, valid_data, cfg["block_size"])
    rows.append(("hand-written torch loop", seconds, seconds, loss, None))
    lm = skdeep_lm(args.steps)
    train_seconds, total = fit_skdeep(lm, train_text)
    # The same measure on the same validation ids (both tokenizers learn the same 65 chars).
    assert lm.tokenizer_.chars_ == tok.chars_
    loss = validation_loss(lm.module_, valid_data, cfg["block_size"])
    rows.append(
        ("skdeep TransformerLMGenerator", train_seconds, total, loss, -lm.score(valid_text))
    )
    print(f"\n### Training: nanoGPT's CPU shakespeare_char configuration, {args.steps} steps\n")
    print(
        "| contender | train (s) | fit incl. setup (s) | tokens/s | vs hand loop "
        "| validation loss | sliding-window loss |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    base = tokens / rows[0][1]
    for name, secs, total, val, sliding in rows:
        tps = tokens / secs
        print(
            f"| {name} | {secs:.1f} | {total:.1f} | {tps:,.0f} | {tps / base:.3f}x | {val:.4f} | "
            + ("" if sliding is None else f"{sliding:.4f}")
            + " |"
        )


def section_throughput(args):
    """Training tokens per second, hand loop and estimator interleaved (medians)."""
    train_text, valid_text = load_split()
    tok, train_data, _ = encode_char(train_text, valid_text)
    cfg = NANOGPT_CPU
    steps = args.throughput_steps
    tokens = steps * cfg["batch_size"] * cfg["block_size"]
    hand, skdeep = [], []
    for _ in range(args.repeats):
        hand.append(hand_train(train_data, len(tok), steps, cfg)[1])
        skdeep.append(fit_skdeep(skdeep_lm(steps), train_text)[0])
    h, s = statistics.median(hand), statistics.median(skdeep)
    print(f"\n### Training throughput: {steps} steps, {args.repeats} interleaved repeats\n")
    print("| contender | seconds (median) | tokens/s | vs hand loop |\n|---|---:|---:|---:|")
    print(f"| hand-written torch loop | {h:.1f} | {tokens / h:,.0f} | 1.000x |")
    print(f"| skdeep TransformerLMGenerator | {s:.1f} | {tokens / s:,.0f} | {h / s:.3f}x |")
    print(
        f"(per repeat: hand {[round(x, 1) for x in hand]}, skdeep {[round(x, 1) for x in skdeep]})"
    )


RECIPE = {
    "nanoGPT baseline": {},
    "+ rotary": {"rotary": True},
    "+ QK-norm": {"qk_norm": True},
    "+ ReLU^2": {"activation": "relu2"},
    "+ zero-init projections": {"zero_init": True},
    "+ Muon": {"optimizer": "muon"},
    "all but Muon": {
        "rotary": True,
        "qk_norm": True,
        "activation": "relu2",
        "zero_init": True,
    },
    "all five": {
        "rotary": True,
        "qk_norm": True,
        "activation": "relu2",
        "zero_init": True,
        "optimizer": "muon",
    },
}


def section_recipe(args):
    """The modern small-GPT recipe, one change at a time, through the estimator."""
    train_text, valid_text = load_split()
    _, _, valid_data = encode_char(train_text, valid_text)
    print(f"\n### Modern recipe, {args.steps} steps, nanoGPT's CPU configuration otherwise\n")
    print("| variant | validation loss | train (s) |\n|---|---:|---:|")
    names = args.variants.split(",") if args.variants else list(RECIPE)
    for name in names:
        lm = skdeep_lm(args.steps, **RECIPE[name])
        seconds, _ = fit_skdeep(lm, train_text)
        loss = validation_loss(lm.module_, valid_data, NANOGPT_CPU["block_size"])
        print(f"| {name} | {loss:.4f} | {seconds:.0f} |", flush=True)


def section_bpe(args):
    """Char vs BPE at the same budget (steps, batch, block_size in tokens)."""
    train_text, valid_text = load_split()
    print(f"\n### BPE vs char, {args.steps} steps, block_size 64 tokens\n")
    print(
        "| tokenizer | tokens/char | val loss / token | val loss / char | train (s) |\n"
        "|---|---:|---:|---:|---:|"
    )
    choices = {"char": {}, "bpe": {"tokenizer": "bpe", "vocab_size": 512}}
    for name in args.tokenizers.split(","):
        lm = skdeep_lm(args.steps, **choices[name])
        seconds, _ = fit_skdeep(lm, train_text)
        ids = torch.from_numpy(lm.tokenizer_.encode(valid_text))
        per_token = validation_loss(lm.module_, ids, NANOGPT_CPU["block_size"])
        ratio = len(ids) / len(valid_text)
        per_char = per_token * ratio
        print(
            f"| {name} | {ratio:.3f} | {per_token:.4f} | {per_char:.4f} | {seconds:.0f} |",
            flush=True,
        )


# --- generation -----------------------------------------------------------------------


@torch.no_grad()
def nanogpt_generate(model, idx, max_new_tokens, generator, times):
    """nanoGPT's ``GPT.generate``: crop to block_size, run the whole context, sample."""
    start = time.perf_counter()
    for _ in range(max_new_tokens):
        logits = model(idx[:, -model.block_size :])[:, -1]
        probs = F.softmax(logits, dim=-1)
        idx = torch.cat([idx, torch.multinomial(probs, 1, generator=generator)], dim=1)
        times.append(time.perf_counter() - start)
    return idx


def cached_generate(model, idx, max_new_tokens, generator, times, **kwargs):
    start = time.perf_counter()
    for _ in model.iter_generate(idx, max_new_tokens, generator=generator, **kwargs):
        times.append(time.perf_counter() - start)


def section_generate(args):
    counts = (10, 60, 500)
    print("\n### Generation: ms per new token (mean over the first n), one-token prompt\n")
    print(
        "| block_size | method | n=10 | n=60 | n=500 | speed-up at 500 |\n"
        "|---:|---|---:|---:|---:|---:|"
    )
    for block_size in (64, 256):
        torch.manual_seed(0)
        model = GPT(65, block_size, n_layer=4, n_head=4, n_embd=128, bias=False).eval()
        prompt = torch.zeros(1, 1, dtype=torch.long)
        methods = {
            "full recompute (nanoGPT)": (nanogpt_generate, {}),
            "skdeep KV cache": (cached_generate, {}),
            "skdeep KV cache, overflow_keep=3/4": (
                cached_generate,
                {"overflow_keep": 3 * block_size // 4},
            ),
        }
        results = {name: [] for name in methods}
        for _ in range(args.repeats):  # interleaved repeats, medians reported
            for name, (run, kwargs) in methods.items():
                times = []
                run(model, prompt, max(counts), torch.Generator().manual_seed(0), times, **kwargs)
                results[name].append([times[n - 1] / n * 1e3 for n in counts])
        base = statistics.median(r[-1] for r in results["full recompute (nanoGPT)"])
        for name, runs in results.items():
            ms = [statistics.median(r[i] for r in runs) for i in range(len(counts))]
            print(
                f"| {block_size} | {name} | "
                + " | ".join(f"{m:.2f}" for m in ms)
                + f" | {base / ms[-1]:.2f}x |"
            )
        # The ceiling of any cache: one forward pass over a full context against one over a
        # single token (no cache, no sampling), on the same model.
        full, one = (forward_ms(model, n) for n in (block_size, 1))
        print(
            f"| {block_size} | ceiling: forward of {block_size} tokens / of 1 token "
            f"({full:.2f} / {one:.2f} ms) | | | | {full / one:.2f}x |"
        )


@torch.inference_mode()
def forward_ms(model, n_tokens, repeats=200):
    x = torch.zeros(1, n_tokens, dtype=torch.long)
    for _ in range(20):
        model(x)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeats):
            model(x)
        times.append((time.perf_counter() - start) / repeats * 1e3)
    return statistics.median(times)


# --- tokenizers -----------------------------------------------------------------------


def section_tokenizers(args):
    train_text, valid_text = load_split()
    print("\n### Tokenizers: tokens per character of the validation text\n")
    print("| tokenizer | ids | tokens/char | fit (s) |\n|---|---:|---:|---:|")
    for name, tok in [
        ("char", CharTokenizer()),
        ("bpe, vocab_size=512", BPETokenizer(vocab_size=512)),
        ("bpe, vocab_size=1024", BPETokenizer(vocab_size=1024)),
        ("bpe, vocab_size=2048", BPETokenizer(vocab_size=2048)),
    ]:
        start = time.perf_counter()
        tok.fit(train_text)
        seconds = time.perf_counter() - start
        ratio = len(tok.encode(valid_text)) / len(valid_text)
        print(f"| {name} | {len(tok)} | {ratio:.3f} | {seconds:.2f} |")


SECTIONS = {
    "train": section_train,
    "generate": section_generate,
    "tokenizers": section_tokenizers,
    "recipe": section_recipe,
    "throughput": section_throughput,
    "bpe": section_bpe,
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sections", default="train,throughput,recipe,bpe,generate,tokenizers")
    parser.add_argument("--variants", default="", help="recipe rows to run, comma-separated")
    parser.add_argument("--tokenizers", default="char,bpe", help="bpe section rows")
    parser.add_argument("--throughput-steps", type=int, default=250)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(
        f"python {platform.python_version()}, torch {torch.__version__}, numpy "
        f"{np.__version__}, {args.threads} torch thread(s), {platform.processor() or 'cpu'}",
        file=sys.stderr,
    )
    for name in args.sections.split(","):
        SECTIONS[name](args)


if __name__ == "__main__":
    main()
