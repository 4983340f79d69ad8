"""LSTMTextClassifier against TF-IDF + LogisticRegression and hand-written torch loops.

Two real text sets, each split 80/20 (stratified, random_state=0):

* SMS Spam Collection (bundled, ``skdeep.datasets.load_sms_spam``): ham/spam, 5,574 SMS;
* rt-polarity (Pang & Lee 2005, read from ``../shared/data/rt_polarity``, research use only,
  never bundled): positive/negative movie-review sentences, 10,662.

For each set, in one process:

1. Quality: ``TfidfVectorizer + LogisticRegression`` (sklearn defaults, ``C`` tuned by 5-fold
   GridSearchCV on the training split; also with digits replaced by 0, as the LSTM reads
   them) beside ``LSTMTextClassifier`` (configuration chosen by CV on each training split,
   ``benchmarks/tune_text.py``: embedding 64, biLSTM 64, max pooling, batch 64,
   ``normalize_digits``, early stopping; dropout 0.2 and word dropout 0.25 for SMS,
   dropout 0.5 for rt-polarity):
   accuracy, F1 of the positive class, fit time.
2. Training throughput in real (non-padding) tokens per second, one epoch at a time, the
   same ``TextLSTM`` module and batch size everywhere: skdeep's fit (epoch time from
   ``history_``) against hand-written minimal loops over pre-built batches: length-bucketed
   padded batches (the floor), randomly composed padded batches, and packed sequences with
   ``nn.LSTM(bidirectional=True)``. Repeats are interleaved; medians are reported.
3. Prediction throughput on 10,000 texts (test texts repeated), raw strings in.

    python benchmarks/bench_text.py [--repeats 3] [--threads 1] [--device cpu]
                                     [--quality-only | --throughput-only]

4. ``--defaults`` (issue 13), instead of 1-3: ``LSTMTextClassifier(random_state=seed)``, the
   defaults exactly as a user gets them, against TF-IDF + LogisticRegression (``C`` tuned by
   5-fold GridSearchCV inside each training set) on SMS (the benchmark's split and 3-fold CV
   on its training split), rt-polarity (3-fold CV on the training split: these two chose
   the defaults), ag_news (3-fold CV on its 7,600 rows) and small data (2,000-text
   stratified subsamples of ag_news titles and of rt-polarity, 3-fold CV), seeds 0-2;
   ``--old`` adds the defaults before issue 13 (set explicitly). Every fit is appended to
   ``--log`` (JSON lines) and skipped when found there, so an interrupted run resumes.

    python benchmarks/bench_text.py --defaults [--sets sms rt ag_news ...] [--seeds 0 1 2]
                                     [--old] [--config NAME JSON] [--log PATH]

Prints markdown tables; paste them into benchmarks/RESULTS.md with the machine they ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

EMBEDDING, HIDDEN, BATCH, LR = 64, 128, 64, 1e-3
POOL_BATCHES = 50
DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


# --- data -----------------------------------------------------------------------------


def load_sms():
    from skdeep.datasets import load_sms_spam

    X, y = load_sms_spam(return_X_y=True)
    return "SMS Spam Collection", list(X), np.asarray(y), "spam"


def load_rt_polarity(data_dir):
    folder = Path(data_dir) / "rt_polarity"
    # cp1252, split on "\n" only: see the data set's README (0x85 is an ellipsis there).
    pos = (folder / "rt-polarity.pos").read_bytes().decode("cp1252").split("\n")
    neg = (folder / "rt-polarity.neg").read_bytes().decode("cp1252").split("\n")
    pos, neg = [t for t in pos if t], [t for t in neg if t]
    y = np.array(["pos"] * len(pos) + ["neg"] * len(neg))
    return "rt-polarity", pos + neg, y, "pos"


def split(X, y):
    from sklearn.model_selection import train_test_split

    return train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)


# --- quality --------------------------------------------------------------------------


def lowercase_zero_digits(text):
    """TfidfVectorizer's default preprocessing plus LSTMTextClassifier's normalize_digits."""
    return re.sub(r"\d", "0", text.lower())


def fit_tfidf(X, y, positive, normalize_digits=False, grid=(0.1, 1.0, 10.0, 100.0)):
    """TF-IDF + LogisticRegression, ``C`` chosen from ``grid`` by 5-fold CV on ``X``: by the
    F1 of ``positive``, or by accuracy when ``positive`` is None."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, make_scorer
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    vectorizer = TfidfVectorizer(preprocessor=lowercase_zero_digits if normalize_digits else None)
    start = time.perf_counter()
    search = GridSearchCV(
        make_pipeline(vectorizer, LogisticRegression()),
        {"logisticregression__C": list(grid)},
        scoring="accuracy" if positive is None else make_scorer(f1_score, pos_label=positive),
        cv=5,
    ).fit(X, y)
    tuning = time.perf_counter() - start
    best = search.best_estimator_
    start = time.perf_counter()
    best.fit(X, y)  # the fit time of the chosen pipeline alone
    seconds = time.perf_counter() - start
    note = f"C={search.best_params_['logisticregression__C']:g}, tuning {tuning:.1f} s"
    return best, seconds, note


# LSTM configurations, each chosen by 3-fold CV on its own training split only
# (benchmarks/tune_text.py), as the TF-IDF baseline's C is. The throughput loops below
# keep the reference size, LSTM 128, and the defaults.
COMMON_LSTM = dict(
    embedding_dim=EMBEDDING,
    hidden_size=64,
    batch_size=BATCH,
    learning_rate=5e-3,
    max_epochs=25,
    early_stopping=True,
    n_iter_no_change=5,
    normalize_digits=True,
)
LSTM_PARAMS = {
    "SMS Spam Collection": dict(COMMON_LSTM, dropout=0.2, word_dropout=0.25),
    "rt-polarity": dict(COMMON_LSTM, dropout=0.5),
}


def fit_lstm(X, y, params, device):
    from skdeep.text import LSTMTextClassifier

    clf = LSTMTextClassifier(**params, device=device, random_state=0)
    start = time.perf_counter()
    clf.fit(X, y)
    seconds = time.perf_counter() - start
    best = clf.history_[-1].get("best_epoch", clf.n_iter_)
    return clf, seconds, f"{clf.n_iter_} epochs (best {best}), early stopping"


# --- throughput: one epoch of each training loop ----------------------------------------


def make_module(n_tokens, seed=0):
    from skdeep.nn.text import TextLSTM

    torch.manual_seed(seed)
    return TextLSTM(n_tokens, 2, embedding_dim=EMBEDDING, hidden_size=HIDDEN, pooling="max")


def padded(sequences, y):
    lengths = torch.tensor([len(s) for s in sequences])
    ids = torch.zeros(len(sequences), int(lengths.max()), dtype=torch.int64)
    for i, s in enumerate(sequences):
        ids[i, : len(s)] = torch.from_numpy(s)
    return ids, lengths, torch.as_tensor(y)


def bucketed_batches(sequences, y, rng):
    """Shuffle, sort by length within pools of batches, cut into batches."""
    order = rng.permutation(len(sequences))
    pool = BATCH * POOL_BATCHES
    chunks = [order[i : i + pool] for i in range(0, len(order), pool)]
    order = np.concatenate(
        [c[np.argsort([len(sequences[i]) for i in c], kind="stable")] for c in chunks]
    )
    return [
        padded([sequences[i] for i in order[s : s + BATCH]], y[order[s : s + BATCH]])
        for s in range(0, len(order), BATCH)
    ]


def random_batches(sequences, y, rng):
    order = rng.permutation(len(sequences))
    return [
        padded([sequences[i] for i in order[s : s + BATCH]], y[order[s : s + BATCH]])
        for s in range(0, len(order), BATCH)
    ]


class PackedLSTM(nn.Module):
    """The same model on packed sequences (nn.LSTM handles the lengths itself)."""

    def __init__(self, n_tokens, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.embedding = nn.Embedding(n_tokens, EMBEDDING, padding_idx=0)
        self.lstm = nn.LSTM(EMBEDDING, HIDDEN, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * HIDDEN, 2)

    def forward(self, ids, lengths):
        packed = pack_padded_sequence(
            self.embedding(ids), lengths, batch_first=True, enforce_sorted=False
        )
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, padding_value=-1e9)
        return self.head(out.amax(dim=1))


def hand_epoch(module, batches, device, seed):
    """The minimal loop: pre-built batches, shuffled order, forward, backward, step."""
    optimizer = torch.optim.Adam(module.parameters(), lr=LR)
    module.train()
    order = torch.randperm(len(batches), generator=torch.Generator().manual_seed(seed))
    start = time.perf_counter()
    for i in order.tolist():
        ids, lengths, target = batches[i]
        optimizer.zero_grad()
        loss = F.cross_entropy(module(ids.to(device), lengths.to(device)), target.to(device))
        loss.backward()
        optimizer.step()
    if device != "cpu":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def skdeep_epoch(X, y, device, seed):
    """Epoch time of LSTMTextClassifier.fit, from its history (tokenising excluded)."""
    from sklearn.exceptions import ConvergenceWarning

    from skdeep.text import LSTMTextClassifier

    clf = LSTMTextClassifier(
        embedding_dim=EMBEDDING,
        hidden_size=HIDDEN,
        batch_size=BATCH,
        learning_rate=LR,
        alpha=0.0,
        # The hand loops' model and data: no dropout, every training text, digits as read.
        dropout=0.0,
        word_dropout=0.0,
        normalize_digits=False,
        early_stopping=False,
        max_epochs=1,
        device=device,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        clf.fit(X, y)
        whole = time.perf_counter() - start
    return clf.history_[0]["dur"], whole


def throughput(X, y, repeats, device):
    from skdeep._data import BucketIterator, TextData
    from skdeep.preprocessing.text import TextVocabulary

    vocabulary = TextVocabulary(max_vocab_size=20000, max_length=256).fit(X)
    sequences = vocabulary.transform(X)
    target = np.unique(y, return_inverse=True)[1]
    tokens = sum(len(s) for s in sequences)
    rng = np.random.RandomState(0)
    loops = {
        "hand loop, bucketed padded batches (floor)": (
            lambda: make_module(len(vocabulary)).to(device),
            bucketed_batches(sequences, target, rng),
        ),
        "hand loop, random padded batches": (
            lambda: make_module(len(vocabulary)).to(device),
            random_batches(sequences, target, rng),
        ),
        "hand loop, packed sequences (nn.LSTM)": (
            lambda: PackedLSTM(len(vocabulary)).to(device),
            random_batches(sequences, target, rng),
        ),
    }
    padded_tokens = {
        name: sum(b[0].numel() for b in batches) for name, (_, batches) in loops.items()
    }
    padded_tokens["hand loop, packed sequences (nn.LSTM)"] = None  # packing skips padding
    data = TextData.from_sequences(sequences, torch.from_numpy(target))
    with torch.random.fork_rng():  # skdeep's iterators shuffle with torch's generator
        torch.manual_seed(0)
        padded_tokens["skdeep LSTMTextClassifier"] = sum(
            X["ids"].numel() for X, _ in BucketIterator(data, BATCH, shuffle=True)
        )
    # Warm-up, untimed: one epoch of the floor and one of skdeep, so that neither pays for
    # first-seen batch shapes (kernel and allocator set-up) inside the timed repeats.
    build, batches = loops["hand loop, bucketed padded batches (floor)"]
    hand_epoch(build(), batches, device, 0)
    skdeep_epoch(X, y, device, repeats)
    times = {name: [] for name in ["skdeep LSTMTextClassifier", *loops]}
    whole = []
    for r in range(repeats):
        epoch, fit = skdeep_epoch(X, y, device, r)
        times["skdeep LSTMTextClassifier"].append(epoch)
        whole.append(fit)
        for name, (build, batches) in loops.items():
            times[name].append(hand_epoch(build(), batches, device, r))
    return tokens, padded_tokens, {k: statistics.median(v) for k, v in times.items()}, whole


# --- prediction -----------------------------------------------------------------------


def predict_seconds(model, texts, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_proba(texts)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- report -----------------------------------------------------------------------------


def run(dataset, repeats, device, quality=True, throughput=True):

    name, X, y, positive = dataset
    X_train, X_test, y_train, y_test = split(X, y)
    print(f"\n### {name}: {len(X_train):,} training / {len(X_test):,} test texts\n")
    if quality:
        report_quality(X_train, X_test, y_train, y_test, name, positive, device)
    if throughput:
        report_throughput(X_train, y_train, name, repeats, device)


def report_quality(X_train, X_test, y_train, y_test, name, positive, device):
    from sklearn.metrics import accuracy_score, f1_score

    sys.stderr.write(f"{name}: quality...\n")
    rows = {}
    for label, fit in (
        ("TF-IDF + LogisticRegression", lambda: fit_tfidf(X_train, y_train, positive)),
        # The same digit normalisation as the LSTM's, to show what it alone is worth.
        (
            "TF-IDF + LogisticRegression, digits as 0",
            lambda: fit_tfidf(X_train, y_train, positive, normalize_digits=True),
        ),
        (
            "skdeep LSTMTextClassifier",
            lambda: fit_lstm(X_train, y_train, LSTM_PARAMS[name], device),
        ),
    ):
        model, seconds, note = fit()
        pred = model.predict(X_test)
        texts = list(np.resize(np.array(X_test, dtype=object), 10_000))
        rows[label] = dict(
            accuracy=accuracy_score(y_test, pred),
            f1=f1_score(y_test, pred, pos_label=positive),
            fit=seconds,
            predict=predict_seconds(model, texts),
            note=note,
        )
    print(
        f"| model | accuracy | F1 ({positive}) | fit (s) | predict 10k texts (s) "
        "| texts/s | notes |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for label, r in rows.items():
        print(
            f"| {label} | {r['accuracy']:.4f} | {r['f1']:.4f} | {r['fit']:.1f} | "
            f"{r['predict']:.2f} | {10_000 / r['predict']:,.0f} | {r['note']} |"
        )


def report_throughput(X_train, y_train, name, repeats, device):
    sys.stderr.write(f"{name}: training throughput...\n")
    tokens, padded_tokens, times, whole = throughput(X_train, y_train, repeats, device)
    floor = tokens / times["hand loop, bucketed padded batches (floor)"]
    print(
        f"\nTraining throughput, one epoch over the {len(X_train):,} training texts "
        f"({tokens:,} real tokens), median of {repeats}:\n"
    )
    print("| training loop | epoch (s) | real tokens/s | vs floor | padded / real tokens |")
    print("|---|---:|---:|---:|---:|")
    for label, seconds in times.items():
        pad = padded_tokens[label]
        pad_text = "packed" if pad is None else f"{pad / tokens:.2f}"
        print(
            f"| {label} | {seconds:.2f} | {tokens / seconds:,.0f} | "
            f"{tokens / seconds / floor:.2f}x | {pad_text} |"
        )
    print(
        f"\nskdeep's whole 1-epoch fit (tokenising, vocabulary, set-up included): "
        f"median {statistics.median(whole):.2f} s."
    )


# --- defaults (issue 13): LSTMTextClassifier(random_state=seed) as a user gets it --------

# LSTMTextClassifier's defaults before issue 13, set explicitly (each is still a parameter).
OLD_DEFAULTS = dict(
    hidden_size=128,
    learning_rate=1e-3,
    dropout=0.0,
    word_dropout=0.0,
    normalize_digits=False,
    early_stopping=False,
    max_epochs=10,
    n_iter_no_change=3,
)
# C for TF-IDF + LogisticRegression: half-decade steps, wide enough that no set's choice
# sits on an edge of it.
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0)
SMALL = 2000  # texts in the small-data sets
DEFAULTS_LOG = Path(tempfile.gettempdir()) / "bench_text_defaults.jsonl"


def load_ag_news(data_dir, titles_only=False):
    """AG News' official test split (7,600 news items, 4 topics; research and non-commercial
    use only, read from ``../shared/data/ag_news``, never bundled): title + ". " +
    description, as its README loads it, or the titles alone."""
    import pandas as pd

    folder = Path(data_dir) / "ag_news"
    frame = pd.read_csv(folder / "test.csv", header=None, names=["label", "title", "description"])
    classes = np.array((folder / "classes.txt").read_text().split("\n")[:4])
    texts = frame.title if titles_only else frame.title + ". " + frame.description
    return list(texts), classes[frame.label.to_numpy() - 1]


def stratified_subsample(X, y, n, exclude=()):
    """``n`` texts drawn stratified (``random_state=0``) from those not in ``exclude``."""
    from sklearn.model_selection import train_test_split

    excluded = set(exclude)
    keep = [i for i, text in enumerate(X) if text not in excluded]
    X, y = [X[i] for i in keep], np.asarray(y)[keep]
    X_small, _, y_small, _ = train_test_split(X, y, train_size=n, stratify=y, random_state=0)
    return list(X_small), np.asarray(y_small)


def defaults_sets(data_dir):
    """name -> (description, X, y, positive class or None for multiclass, protocol).

    The protocol "split+cv" scores the benchmark's 80/20 split and 3-fold CV on its
    training part; "cv" 3-fold CV on all the texts given.
    """
    _, X_sms, y_sms, _ = load_sms()
    _, X_rt, y_rt, _ = load_rt_polarity(data_dir)
    X_ag, y_ag = load_ag_news(data_dir)
    X_titles, y_titles = load_ag_news(data_dir, titles_only=True)
    titles_2k = stratified_subsample(X_titles, y_titles, SMALL)
    rt_test = split(X_rt, y_rt)[1::2]
    return {
        "sms": ("SMS spam", X_sms, y_sms, "spam", "split+cv"),
        "rt": ("rt-polarity", X_rt, y_rt, "pos", "train-cv"),
        "ag_news": ("ag_news (title. description)", X_ag, y_ag, None, "cv"),
        "ag_titles_2k": (f"ag_news titles, {SMALL:,} stratified", *titles_2k, None, "cv"),
        "rt_2k": (
            f"rt-polarity, {SMALL:,} stratified",
            *stratified_subsample(X_rt, y_rt, SMALL),
            "pos",
            "cv",
        ),
        # Two more small sets, drawn after the two above had shaped the choice of early
        # stopping's monitor: other ag_news titles, and rt-polarity's test split (which no
        # choice ever read).
        "ag_titles_2k_b": (
            f"ag_news titles, another {SMALL:,}",
            *stratified_subsample(X_titles, y_titles, SMALL, exclude=titles_2k[0]),
            None,
            "cv",
        ),
        "rt_test_2k": (
            f"rt-polarity test split, {SMALL:,}",
            *stratified_subsample(*rt_test, SMALL),
            "pos",
            "cv",
        ),
    }


def evaluations(X, y, protocol):
    """(name, train index, test index) of each evaluation of a set."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    index = np.arange(len(X))
    out = []
    if protocol in ("split+cv", "train-cv"):
        train, test = train_test_split(index, test_size=0.2, stratify=y, random_state=0)
        if protocol == "split+cv":
            out.append(("split", train, test))
        index = train  # the CV runs on the training split only, as tune_text.py did
    folds = StratifiedKFold(3, shuffle=True, random_state=0).split(index, np.asarray(y)[index])
    out.extend((f"cv{k}", index[a], index[b]) for k, (a, b) in enumerate(folds))
    return out


def score_fit(model_name, params, seed, X_train, y_train, X_test, y_test, positive):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import accuracy_score, f1_score

    from skdeep.text import LSTMTextClassifier

    record = {}
    start = time.perf_counter()
    if params is None:  # the baseline
        model, seconds, _ = fit_tfidf(X_train, y_train, positive, grid=C_GRID)
        record.update(C=model[-1].C, with_tuning=time.perf_counter() - start)
    else:
        model = LSTMTextClassifier(**params, random_state=seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        record.update(
            epochs=model.n_iter_,
            best_epoch=model.history_[-1].get("best_epoch"),
            early_stopping=bool(model.do_early_stopping_),
            hit_max_epochs=any(issubclass(w.category, ConvergenceWarning) for w in caught),
        )
    pred = model.predict(X_test)
    f1 = (
        f1_score(y_test, pred, average="macro")
        if positive is None
        else f1_score(y_test, pred, pos_label=positive)
    )
    record.update(accuracy=accuracy_score(y_test, pred), f1=f1, fit=seconds)
    return record


def read_log(path):
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run_defaults(data_dir, names, seeds, configs, log):
    sets = defaults_sets(data_dir)
    done = {(r["set"], r["eval"], r["model"], r["seed"]) for r in read_log(log)}
    for name in names:
        _, X, y, positive, protocol = sets[name]
        X, y = np.array(X, dtype=object), np.asarray(y)
        for eval_name, train, test in evaluations(X, y, protocol):
            jobs = [("TF-IDF + LogisticRegression", None, None)]
            jobs += [(label, params, seed) for label, params in configs.items() for seed in seeds]
            for model_name, params, seed in jobs:
                if (name, eval_name, model_name, seed) in done:
                    continue
                record = score_fit(
                    model_name,
                    params,
                    seed,
                    list(X[train]),
                    y[train],
                    list(X[test]),
                    y[test],
                    positive,
                )
                record = dict(set=name, eval=eval_name, model=model_name, seed=seed, **record)
                with Path(log).open("a") as f:
                    f.write(json.dumps(record) + "\n")
                sys.stderr.write(f"{record}\n")


def summarize_defaults(data_dir, log):
    """Markdown tables from the log: per set and evaluation (the split, or the CV mean per
    seed), the mean over seeds ± their std and the range, accuracy as a ratio to TF-IDF's."""
    rows = read_log(log)
    descriptions = {k: f"{v[0]} ({len(v[1]):,})" for k, v in defaults_sets(data_dir).items()}
    print(
        "| data | evaluation | model | accuracy | F1 | accuracy / TF-IDF | fit (s) "
        "| epochs run (best) | seeds |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for name, description in descriptions.items():
        here = [r for r in rows if r["set"] == name]
        if not here:
            continue
        for protocol in ("split", "cv"):
            part = [r for r in here if r["eval"].startswith(protocol)]
            if not part:
                continue
            label = "80/20 split" if protocol == "split" else "3-fold CV"
            if protocol == "cv" and name in ("sms", "rt"):
                label += " (training split)"
            models = list(dict.fromkeys(r["model"] for r in part))
            base = None
            for model in models:
                per_seed = {}
                for r in part:
                    if r["model"] == model:
                        per_seed.setdefault(r["seed"], []).append(r)
                # Per seed: the mean over the evaluations (3 folds, or the one split).
                # Only seeds with every evaluation done (a run may be under way).
                most = max(len(v) for v in per_seed.values())
                full = {s: v for s, v in per_seed.items() if len(v) == most}
                acc = [statistics.mean(r["accuracy"] for r in v) for v in full.values()]
                f1 = [statistics.mean(r["f1"] for r in v) for v in full.values()]
                fit = statistics.mean(r["fit"] for v in full.values() for r in v)
                if model.startswith("TF-IDF"):
                    base = statistics.mean(acc)
                    cs = sorted({r["C"] for v in full.values() for r in v})
                    epochs = "C " + "/".join(f"{c:g}" for c in cs)
                else:
                    runs = [r for v in full.values() for r in v]
                    best = [r["best_epoch"] or r["epochs"] for r in runs]
                    hit = sum(r["hit_max_epochs"] for r in runs)
                    epochs = (
                        f"{statistics.mean(r['epochs'] for r in runs):.1f} "
                        f"({statistics.mean(best):.1f}), {min(r['epochs'] for r in runs)}-"
                        f"{max(r['epochs'] for r in runs)}"
                        + (f", {hit} hit max_epochs" if hit else "")
                    )
                ratio = f"{statistics.mean(acc) / base:.3f}x" if base else ""
                print(
                    f"| {description} | {label} | {model} | {_spread(acc)} | {_spread(f1)} "
                    f"| {ratio} | {fit:.1f} | {epochs} | {len(full)} |"
                )
    print(
        "\naccuracy, F1: mean over seeds (of the mean over the 3 folds, for CV) ± the std "
        "over seeds, [lowest, highest seed]; F1 of the positive class (spam, pos) or "
        "macro-F1 (ag_news). TF-IDF is deterministic (one row per evaluation)."
    )


def _spread(values):
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return (
        f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f} "
        f"[{min(values):.4f}, {max(values):.4f}]"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    # One thread by default: on a shared 2-core machine, two OpenMP threads spend more
    # time waiting on each other than computing (measured: up to 4x slower epochs).
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-dir", default=str(DATA_DIR))
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--throughput-only", action="store_true", help="skip the quality tables")
    only.add_argument("--quality-only", action="store_true", help="skip the throughput loops")
    only.add_argument(
        "--defaults", action="store_true", help="LSTMTextClassifier's defaults (issue 13)"
    )
    parser.add_argument(
        "--sets",
        nargs="+",
        default=["sms", "rt", "ag_news", "ag_titles_2k", "rt_2k", "ag_titles_2k_b", "rt_test_2k"],
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--old", action="store_true", help="also the defaults before issue 13")
    parser.add_argument(
        "--config",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "JSON"),
        help="also LSTMTextClassifier(**JSON), e.g. --config wide '{\"hidden_size\": 128}'",
    )
    parser.add_argument("--log", default=str(DEFAULTS_LOG))
    parser.add_argument("--summary-only", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {args.threads} threads, device {args.device}."
    )
    if args.defaults:
        configs = {"LSTMTextClassifier(random_state=seed)": {}}
        if args.old:
            configs["defaults before issue 13"] = OLD_DEFAULTS
        configs.update((name, json.loads(params)) for name, params in args.config)
        if not args.summary_only:
            run_defaults(args.data_dir, args.sets, args.seeds, configs, args.log)
        summarize_defaults(args.data_dir, args.log)
        return
    for dataset in (load_sms(), load_rt_polarity(args.data_dir)):
        run(
            dataset,
            args.repeats,
            args.device,
            quality=not args.throughput_only,
            throughput=not args.quality_only,
        )


if __name__ == "__main__":
    main()
