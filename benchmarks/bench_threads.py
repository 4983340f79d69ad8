"""How many torch intra-op threads should skdeep's runs use? 1 thread vs every core.

Trains the MLP benchmark's network (bench_mlp.py: 50k x 100 rows, 100-256-256-4, batch 256)
for 3 epochs and the text benchmark's biLSTM (bundled SMS spam, 1 epoch) with
``torch.set_num_threads(k)`` for k = 1 and k = os.cpu_count(), each run in a fresh process,
repeats interleaved; then the same with a competing CPU-bound process (another fit) running
beside it, as on a shared machine, a CI runner or under ``n_jobs=2``. Reports the median
wall time of each and the ratio.

    python benchmarks/bench_threads.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

import torch

WORKLOAD = {
    "MLP, 3 epochs": """
import numpy as np
from sklearn.datasets import make_classification
from skdeep import DeepMLPClassifier
X, y = make_classification(n_samples=50_000, n_features=100, n_informative=30, n_classes=4,
                           random_state=0)
X = (X - X.mean(0)) / X.std(0)
DeepMLPClassifier(hidden_layer_sizes=(256, 256), batch_size=256, max_epochs=3, alpha=0.0,
                  random_state=0, device="cpu").fit(X, y)
""",
    "LSTM, 1 epoch": """
from skdeep.datasets import load_sms_spam
from skdeep import LSTMTextClassifier
X, y = load_sms_spam(return_X_y=True)
LSTMTextClassifier(max_epochs=1, random_state=0, device="cpu").fit(X, y)
""",
}


def timed_run(code, threads):
    program = (
        f"import time, torch, warnings\nwarnings.simplefilter('ignore')\n"
        f"torch.set_num_threads({threads})\nstart = time.perf_counter()\n{code}\n"
        "print(time.perf_counter() - start)"
    )
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    cores = os.cpu_count()
    print(
        f"Machine: {platform.processor() or platform.machine()}, {cores} cores, torch "
        f"{torch.__version__}; median of {args.repeats} runs, each in a fresh process.\n"
    )
    print(f"| workload | competing process | 1 thread (s) | {cores} threads (s) | ratio |")
    print("|---|---|---:|---:|---:|")
    for competing in (False, True):
        for name, code in WORKLOAD.items():
            times = {1: [], cores: []}
            for _ in range(args.repeats):
                for threads in times:
                    rival = None
                    if competing:  # a second fit of the same workload, 1 thread, looping
                        loop = f"while True:\n    exec({code!r})"
                        rival = subprocess.Popen(
                            [
                                sys.executable,
                                "-c",
                                f"import torch\ntorch.set_num_threads(1)\n{loop}",
                            ]
                        )
                        time.sleep(3)
                    try:
                        times[threads].append(timed_run(code, threads))
                    finally:
                        if rival is not None:
                            rival.kill()
                            rival.wait()
            one, many = statistics.median(times[1]), statistics.median(times[cores])
            print(
                f"| {name} | {'yes' if competing else 'no'} | {one:.1f} | {many:.1f} | "
                f"{many / one:.2f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
