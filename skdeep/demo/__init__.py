"""``python -m skdeep demo``: a tour of skdeep's estimators on bundled real data.

Each step (one module here per family) trains a model as a user would, inside a
scikit-learn pipeline on a real table or text, shows the training progress and prints the
scores it reached next to a classic scikit-learn baseline.
"""

from __future__ import annotations

from skdeep.demo.gan import gan_step
from skdeep.demo.lm import lm_step
from skdeep.demo.mlp import mlp_step
from skdeep.demo.text import text_step
from skdeep.demo.vae import vae_step

STEPS = [
    ("Tabular classification: DeepMLPClassifier", mlp_step),
    ("Text classification: LSTMTextClassifier", text_step),
    ("Autoencoder features and sampling: VAEEncoder", vae_step),
    ("Synthetic rows: GANSampler", gan_step),
    ("Language model: TransformerLMGenerator", lm_step),
]


def run(verbose=1):
    """Run every step of the tour; returns their results by step title."""
    results = {}
    for i, (title, step) in enumerate(STEPS, 1):
        print(f"\n[{i}/{len(STEPS)}] {title}\n{'-' * (len(title) + 6)}", flush=True)
        results[title] = step(verbose=verbose)
    print("\nDone. See README.md and docs/ for more.")
    return results
