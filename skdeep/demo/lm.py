"""Tour step: TransformerLMGenerator on tinyshakespeare, beside a character bigram model."""

from __future__ import annotations

import itertools
import math
import time
import warnings
from collections import Counter

from sklearn.exceptions import ConvergenceWarning

from skdeep.datasets import load_tiny_shakespeare
from skdeep.lm import TransformerLMGenerator


def bigram_nats_per_char(train, valid):
    """Cross-entropy (nats per character) of an add-one-smoothed character bigram model:
    the classic count-based baseline a language model must beat."""
    alphabet = sorted(set(train) | set(valid))
    pairs = Counter(itertools.pairwise(train))
    firsts = Counter(train[:-1])
    total = 0.0
    for a, b in itertools.pairwise(valid):
        total -= math.log((pairs[a, b] + 1) / (firsts[a] + len(alphabet)))
    return total / (len(valid) - 1)


def lm_step(verbose=1):
    """Train a small GPT on characters for a short budget; generate and score it."""
    train = load_tiny_shakespeare(split="train", return_text=True)
    valid = load_tiny_shakespeare(split="validation", return_text=True)[:20_000]
    print(f"  tinyshakespeare: {len(train):,} training characters, scored on 20,000 held out")
    # A short budget (300 steps of 12 windows) keeps the step within ~30 s on 2 cores;
    # benchmarks/RESULTS.md has the full 2000-step figures.
    lm = TransformerLMGenerator(
        n_layer=2,
        n_head=4,
        n_embd=64,
        block_size=64,
        batch_size=12,
        max_epochs=3,
        steps_per_epoch=100,
        learning_rate=3e-3,
        random_state=0,
        verbose=verbose,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        # A fixed budget on purpose: "not converged yet" would only distract here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        lm.fit(train)
    seconds = time.perf_counter() - start
    nats = -lm.score([valid])
    baseline = bigram_nats_per_char(train, valid)
    print(f"\n  {'model':<34} {'nats/char':>9} {'perplexity':>10} {'fit (s)':>8}")
    print(f"  {'character bigram (counts)':<34} {baseline:>9.3f} {math.exp(baseline):>10.2f}")
    print(
        f"  {'TransformerLMGenerator (skdeep)':<34} {nats:>9.3f} {math.exp(nats):>10.2f}"
        f" {seconds:>8.1f}"
    )
    text = lm.generate("ROMEO:", max_new_tokens=120, temperature=0.8, random_state=0)
    print("\n  lm.generate('ROMEO:', temperature=0.8):\n")
    print("    ROMEO:" + text.replace("\n", "\n    "))
    return {"bigram": baseline, "skdeep": nats, "seconds": seconds}
