import subprocess
import sys


def test_demo_runs_and_reports_scores():
    result = subprocess.run(
        [sys.executable, "-m", "skdeep", "demo", "--quiet"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    assert "DeepMLPClassifier (skdeep)" in result.stdout
    mlp_line = next(
        line
        for line in result.stdout.splitlines()
        if line.strip().startswith("DeepMLPClassifier (skdeep)")
    )
    accuracy = float(mlp_line.split()[2])
    assert accuracy > 0.84  # test-split accuracy on the Adult census table
