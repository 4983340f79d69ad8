import subprocess
import sys


def score_line(stdout, name):
    line = next(line for line in stdout.splitlines() if line.strip().startswith(name))
    return [float(v) for v in line.split()[-3:]]


def test_demo_runs_every_step_and_reports_scores():
    result = subprocess.run(
        [sys.executable, "-m", "skdeep", "demo", "--quiet"],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    out = result.stdout
    assert "[5/5]" in out and "Done." in out
    accuracy, auc, _ = score_line(out, "DeepMLPClassifier (skdeep)")
    assert accuracy > 0.84 and auc > 0.88  # Adult test split
    accuracy, spam_f1, _ = score_line(out, "LSTMTextClassifier (skdeep)")
    assert accuracy > 0.93 and spam_f1 > 0.75  # SMS spam test split
    assert "VAEEncoder(8) (skdeep)" in out and "vae.sample(5)" in out
    assert "conditions are always met" in out
    bigram = next(line for line in out.splitlines() if "character bigram" in line)
    nats, _, _ = score_line(out, "TransformerLMGenerator (skdeep)")
    bigram = float(bigram.split()[-2])
    assert nats < bigram  # the transformer beats the count baseline on held-out text
