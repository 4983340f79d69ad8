import os
import warnings

import pytest
import torch
from sklearn.exceptions import ConvergenceWarning


def pytest_configure(config):
    # The project's thread policy (docs/user_guide, "Threads"): what the project runs itself
    # trains in one torch thread. A test run shares the machine (CI runners, pytest-xdist,
    # a developer's other work), and there 2 threads on 2 cores measured 1.5-2.2x slower
    # than 1 (benchmarks/bench_threads.py). SKDEEP_TEST_THREADS=k overrides it.
    torch.set_num_threads(int(os.environ.get("SKDEEP_TEST_THREADS", "1")))


@pytest.fixture(autouse=True)
def _quiet_convergence():
    # Tests train for a few epochs on purpose; the warning is tested where it matters.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        yield
