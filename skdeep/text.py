"""Text classification from raw strings: :class:`LSTMTextClassifier`.

The estimator learns a :class:`~skdeep.preprocessing.text.TextVocabulary` in ``fit``, encodes
every text once into a compact :class:`TextData` (one flat id tensor plus offsets and
lengths) and trains a :class:`~skdeep.nn.text.TextLSTM` on length-bucketed, right-padded
batches built on the fly (:class:`BucketIterator`), so padding stays small without the cost of
packed sequences.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import _check_y

from skdeep._base import DeepEstimator
from skdeep._classification import ClassifierTraining
from skdeep._training import ArrayData, TrainingNet
from skdeep._validation import check_bool, check_int, check_real
from skdeep.nn.text import TextLSTM, parse_pooling
from skdeep.preprocessing.text import PAD_ID, UNK_ID, TextVocabulary, check_texts

__all__ = ["BucketIterator", "LSTMTextClassifier", "TextData", "TextTrainingNet"]

# Texts sorted by length are cut into batches inside pools of this many batches: enough
# to find texts of similar length, few enough that every batch still mixes texts from all
# over the (shuffled) data.
POOL_BATCHES = 50
# Prediction batches: at most this many texts, and at most this many padded steps, which
# bounds activation memory whatever ``max_length`` is.
PREDICT_TEXTS = 512
PREDICT_STEPS = 2**16


class TextData(ArrayData):
    """Token id sequences stored compactly, with targets and per-sample weights.

    ``ids`` is one flat LongTensor of every sequence end to end, ``offsets[i]`` where
    sequence ``i`` starts and ``lengths[i]`` its length (>= 1). A batch is a right-padded
    ``(n, longest length in the batch)`` tensor built by one gather, so memory holds the
    real tokens only, never a padded matrix of the whole data.
    """

    def __init__(self, ids, offsets, lengths, y=None, weight=None):
        super().__init__(None, y, weight)
        self.ids = ids
        self.offsets = offsets
        self.lengths = lengths

    @classmethod
    def from_sequences(cls, sequences, y=None, weight=None):
        """From a list of 1-D int64 arrays (the output of ``TextVocabulary.transform``)."""
        lengths = torch.tensor([len(s) for s in sequences], dtype=torch.int64)
        offsets = torch.cumsum(lengths, 0) - lengths
        return cls(torch.from_numpy(np.concatenate(sequences)), offsets, lengths, y, weight)

    def __len__(self):
        return len(self.lengths)

    def _padded(self, index):
        lengths = self.lengths[index]
        steps = torch.arange(int(lengths.max()))
        valid = steps.unsqueeze(0) < lengths.unsqueeze(1)
        positions = self.offsets[index].unsqueeze(1) + steps.unsqueeze(0)
        # Positions past a sequence's end point into the next ones (or past the end of the
        # data): clamp them, then overwrite them with padding.
        ids = self.ids[positions.clamp_(max=len(self.ids) - 1)].masked_fill_(~valid, PAD_ID)
        return {"ids": ids, "lengths": lengths}

    def batch(self, index):
        y = None if self.y is None else self.y[index]
        if self.weight is not None:
            y = (y, self.weight[index])
        return self._padded(index), y

    def subset(self, index):
        index = torch.as_tensor(index, dtype=torch.int64)
        lengths = self.lengths[index]
        offsets = torch.cumsum(lengths, 0) - lengths
        # Token k of the new flat tensor is token (k - new offset + old offset) of the old
        # one: one repeat_interleave gives every token its sequence's shift.
        shift = torch.repeat_interleave(self.offsets[index] - offsets, lengths)
        ids = self.ids[torch.arange(len(shift)) + shift]
        y = None if self.y is None else self.y[index]
        weight = None if self.weight is None else self.weight[index]
        return TextData(ids, offsets, lengths, y, weight)


class BucketIterator:
    """Mini-batches of texts of similar length, so that padded batches stay small.

    Training (``shuffle=True``): the texts are shuffled, sorted by length within pools of
    ``POOL_BATCHES`` batches, cut into batches, and the batches are shuffled, all from one
    seeded generator. Otherwise the texts are sorted by length once.
    """

    def __init__(self, data, batch_size, shuffle=False, seed=0):
        self.data = data
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed) if shuffle else None

    def __len__(self):
        return -(-len(self.data) // self.batch_size)

    def __iter__(self):
        lengths = self.data.lengths
        if self.shuffle:
            order = torch.randperm(len(lengths), generator=self.generator)
            # Sort by (pool, length) in one stable argsort: the pool number is the major key.
            pool = torch.arange(len(order)) // (self.batch_size * POOL_BATCHES)
            key = pool * (int(lengths.max()) + 1) + lengths[order]
            order = order[torch.argsort(key, stable=True)]
            batches = list(torch.split(order, self.batch_size))
            shuffled = torch.randperm(len(batches), generator=self.generator).tolist()
            batches = [batches[i] for i in shuffled]
        else:
            batches = torch.split(torch.argsort(lengths, stable=True), self.batch_size)
        for index in batches:
            yield self.data.batch(index)


class TextTrainingNet(TrainingNet):
    """:class:`~skdeep._training.TrainingNet` with length-bucketed text batches."""

    def get_iterator(self, dataset, training=False):
        seed = self.seed + len(self.history)
        return BucketIterator(dataset, self.batch_size, shuffle=training, seed=seed)


_TOKENIZER_DOC = """
    tokenizer : "word" or callable, default="word"
        ``"word"``: Unicode-aware regex word tokens (runs of letters, digits and combining
        marks; every punctuation mark, symbol or emoji is a token of its own). A callable
        ``str -> list of str`` is used as is; a model with a callable tokenizer can be
        pickled (if the callable can) but not saved with :func:`skdeep.save`.
    lowercase : bool, default=True
        Lowercase the tokens.
    max_vocab_size : int or None, default=20000
        Keep the most frequent tokens only (ties broken alphabetically); None keeps all.
        Other tokens map to the out-of-vocabulary id.
    min_freq : int, default=1
        Keep only tokens seen at least this many times in the training texts.
    max_length : int or None, default=256
        Keep the first ``max_length`` tokens of each text, at fit and at predict; this
        bounds time and memory on very long texts. None keeps every token.
    normalize_digits : bool, default=False
        Replace every digit in the tokens by ``0``, so that numbers of the same shape
        (phone numbers, prices, dates) share one learned token and a number never seen in
        training is not out-of-vocabulary. On the SMS spam benchmark, chosen by
        cross-validation on the training split, it raised the CV spam F1 from 0.939 to
        0.952 (``benchmarks/RESULTS.md``)."""

_MODEL_DOC = """
    embedding_dim : int, default=64
        Width of the token embeddings.
    hidden_size : int, default=128
        Width of the LSTM state, per direction.
    num_layers : int, default=1
        Number of stacked LSTM layers.
    bidirectional : bool, default=True
        Also read each text backwards; the two directions' states are concatenated.
    dropout : float in [0, 1), default=0.0
        Dropout on the embeddings, between LSTM layers and before the output layer
        (training only).
    word_dropout : float in [0, 1), default=0.0
        Probability that a token is replaced by the out-of-vocabulary token during
        training. The ``<unk>`` embedding is then learned (otherwise, when every training
        token is in the vocabulary, unknown words at predict time all read as its random
        initial vector), and the model cannot lean on single words.
    pooling : str, default="max"
        How the per-token LSTM states become one vector per text: ``"last"`` (the final
        state of each direction), ``"max"`` or ``"mean"`` over the tokens, or a
        ``+``-joined combination whose parts are concatenated, e.g. ``"last+max"``.
        Padding never enters any of them.
    pretrained_embeddings : dict of str to array-like, or None, default=None
        Pretrained word vectors ``{token: vector of length embedding_dim}`` (e.g. read from
        a GloVe file). Rows of vocabulary tokens found in it start from these vectors (a
        token is looked up as the tokenizer emits it, so lowercase keys with
        ``lowercase=True``); the others start random. The embeddings are then fine-tuned.
        The dict is a parameter, so :func:`skdeep.save` stores it: pass only the vectors
        of the tokens in your corpus."""


class LSTMTextClassifier(ClassifierMixin, ClassifierTraining, DeepEstimator):
    __doc__ = f"""Text classifier from raw strings: word tokens, embedding, (bi)LSTM, pooling.

    Takes a sequence of texts (list, array, pandas Series or one-column DataFrame of
    ``str``) and their labels, learns a vocabulary and trains the network; it fits in a
    :class:`~sklearn.pipeline.Pipeline`, a grid search or a cross-validation like
    ``TfidfVectorizer() + LogisticRegression()`` does, with raw text in.

    Training batches hold texts of similar length (length bucketing), so the padding
    stays small; padding never reaches the result (see :class:`skdeep.nn.text.TextLSTM`).
    An empty text, or one made only of unknown words, is read as a single
    out-of-vocabulary token and gets a prediction like any other text.

    Parameters
    ----------{_MODEL_DOC}{_TOKENIZER_DOC}
    alpha : float, default=1e-4
        L2 penalty on the weight matrices (embedding included, biases not). With
        ``optimizer="adam"`` or ``"sgd"`` it adds ``alpha / 2 * ||W||^2`` to the loss; with
        ``"adamw"`` it is AdamW's decoupled weight decay.
    learning_rate : float, default=1e-3
        Step size of the optimiser.
    optimizer : {{"adam", "adamw", "sgd"}}, default="adam"
        ``"sgd"`` uses Nesterov momentum 0.9.
    batch_size : int, default=64
        Texts per training step.
    max_epochs : int, default=10
        Maximum number of passes over the training texts.
    class_weight : dict, "balanced" or None, default=None
        Weights per class (``{{label: weight}}``) multiplied into the per-sample loss;
        ``"balanced"`` uses ``n_samples / (n_classes * np.bincount(y))``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the texts (stratified), stop when the
        validation loss stops improving and restore the weights of the best epoch. When
        False, training stops once the training loss stops improving.
    validation_fraction : float in (0, 1), default=0.1
        Share of the training texts held out when ``early_stopping=True``.
    n_iter_no_change : int, default=3
        Epochs without an improvement of at least ``tol`` before training stops.
    tol : float, default=1e-4
        Minimum decrease of the monitored loss that counts as an improvement.
    device : str, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation split. The same
        int gives bit-for-bit the same model on the CPU. The caller's global numpy and
        torch random states are never changed.
    verbose : int, default=0
        0 is silent; 1 shows a progress bar over epochs; 2 prints one line per epoch; 3
        adds a bar over batches. Progress goes to stderr.
    warm_start : bool, default=False
        When True, ``fit`` continues training the current model, with the vocabulary
        learned by the first fit, instead of starting anew.
    callbacks : list of skorch callbacks or None, default=None
        Extra ``skorch.callbacks.Callback`` objects (or ``(name, callback)`` pairs).
        They are copied at fit; the fitted copies are in ``net_.callbacks_``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted as ``numpy.unique`` sorts them.
    vocabulary_ : skdeep.preprocessing.text.TextVocabulary
        The fitted tokenizer and vocabulary (``vocabulary_.tokens_`` lists the tokens by
        id; id 0 is padding, id 1 the out-of-vocabulary token).
    n_iter_ : int
        Number of epochs run (over all ``fit`` / ``partial_fit`` calls with warm start).
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``valid_loss`` and ``valid_score``
        (accuracy, with ``early_stopping``), ``dur`` (seconds), ``best_epoch`` (when best
        weights were restored).
    module_ : torch.nn.Module
        The trained network (:class:`skdeep.nn.text.TextLSTM`).
    net_ : skdeep.text.TextTrainingNet
        The skorch ``NeuralNet`` that trained it.

    See Also
    --------
    skdeep.preprocessing.text.TextVocabulary : the tokenizer and vocabulary it learns.

    Examples
    --------
    >>> from skdeep.text import LSTMTextClassifier
    >>> X = ["good movie", "great film", "loved it", "bad movie", "awful film",
    ...      "hated it"] * 5
    >>> y = ["pos", "pos", "pos", "neg", "neg", "neg"] * 5
    >>> clf = LSTMTextClassifier(embedding_dim=16, hidden_size=16, learning_rate=1e-2,
    ...                          max_epochs=30, tol=1e-2, n_iter_no_change=2,
    ...                          random_state=0).fit(X, y)
    >>> clf.predict(["a great movie", "an awful one"]).tolist()
    ['pos', 'neg']
    >>> clf.predict_proba(["loved it"]).shape
    (1, 2)
    """

    _fitted_attributes = (*DeepEstimator._fitted_attributes, "classes_")
    _net_class = TextTrainingNet

    def __init__(
        self,
        embedding_dim=64,
        hidden_size=128,
        num_layers=1,
        bidirectional=True,
        dropout=0.0,
        word_dropout=0.0,
        pooling="max",
        pretrained_embeddings=None,
        tokenizer="word",
        lowercase=True,
        max_vocab_size=20000,
        min_freq=1,
        max_length=256,
        normalize_digits=False,
        alpha=1e-4,
        learning_rate=1e-3,
        optimizer="adam",
        batch_size=64,
        max_epochs=10,
        class_weight=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=3,
        tol=1e-4,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        self.embedding_dim = embedding_dim
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.word_dropout = word_dropout
        self.pooling = pooling
        self.pretrained_embeddings = pretrained_embeddings
        self.tokenizer = tokenizer
        self.lowercase = lowercase
        self.max_vocab_size = max_vocab_size
        self.min_freq = min_freq
        self.max_length = max_length
        self.normalize_digits = normalize_digits
        self.alpha = alpha
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.class_weight = class_weight
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks

    # --- fitting --------------------------------------------------------------------

    def fit(self, X, y, sample_weight=None):
        """Learn the vocabulary from the texts ``X`` and train the network on labels ``y``.

        Parameters
        ----------
        X : sequence of str of length n_samples
            Raw texts: list, tuple, 1-D numpy array, pandas Series or one-column DataFrame.
        y : array-like of shape (n_samples,)
            Class labels (ints, strings, bools; binary or multiclass).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights (multiplied with ``class_weight``).

        Returns
        -------
        self : LSTMTextClassifier
        """
        return self._fit(X, y, sample_weight, partial=False)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on ``(X, y)``, building the model on the first call.

        The vocabulary is learned from the texts of the **first call only**; later calls
        reuse it (their new words map to the out-of-vocabulary id), because the embedding's
        size is fixed once the network exists. Make the first batch representative, or
        fit a vocabulary on all the texts first and pass them in the first call.

        Parameters
        ----------
        X : sequence of str of length n_samples
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever appear; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : LSTMTextClassifier
        """
        self._check_partial_fit_call(classes)
        return self._fit(X, y, sample_weight, partial=True, classes=classes)

    def _check_model_params(self):
        check_int("embedding_dim", self.embedding_dim, min_val=1)
        check_int("hidden_size", self.hidden_size, min_val=1)
        check_int("num_layers", self.num_layers, min_val=1)
        check_bool("bidirectional", self.bidirectional)
        for name in ("dropout", "word_dropout"):
            check_real(
                name, getattr(self, name), min_val=0.0, max_val=1.0, include_boundaries="left"
            )
        parse_pooling(self.pooling)
        self._pretrained_vectors()  # validates the dict's shape

    def _new_vocabulary(self):
        vocabulary = TextVocabulary(
            tokenizer=self.tokenizer,
            lowercase=self.lowercase,
            max_vocab_size=self.max_vocab_size,
            min_freq=self.min_freq,
            max_length=self.max_length,
            normalize_digits=self.normalize_digits,
        )
        vocabulary._check_params()  # its errors name the parameter, as ours do
        return vocabulary

    def _fit(self, X, y, sample_weight, *, partial, classes=None):
        self._check_model_params()
        device = self._check_training_params()
        first_call = not self._is_fitted() or (not partial and not self.warm_start)
        vocabulary = self._new_vocabulary() if first_call else self.vocabulary_
        texts = check_texts(X, name="X")
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = _check_y(y, estimator=self)  # NaN and 2-D y get sklearn's messages
        if len(texts) != len(y):
            raise ValueError(
                f"X and y have different lengths: X has {len(texts)} texts, y has {len(y)} "
                "values; they must describe the same samples."
            )
        if first_call:
            vocabulary.fit(texts)
        target, stratify, weight = self._encode_target(
            y, sample_weight, texts, first_call, classes, partial
        )
        data = TextData.from_sequences(vocabulary.transform(texts), target, weight)
        # Only now, with the data valid: a failed call must leave a fitted model intact.
        self.vocabulary_ = vocabulary
        self._run_training(
            data, device=device, first_call=first_call, partial=partial, stratify=stratify
        )
        return self

    def _pretrained_vectors(self):
        """``pretrained_embeddings`` as ``{token: float32 vector}``, validated, or None."""
        vectors = self.pretrained_embeddings
        if vectors is None:
            return None
        if not isinstance(vectors, dict):
            raise TypeError(
                "pretrained_embeddings must be None or a dict {token: vector}, got "
                f"{type(vectors).__name__}."
            )
        out = {}
        for token, vector in vectors.items():
            array = np.asarray(vector, dtype=np.float32)
            if array.shape != (self.embedding_dim,) or not np.all(np.isfinite(array)):
                raise ValueError(
                    f"pretrained_embeddings[{token!r}] must be a finite vector of length "
                    f"embedding_dim={self.embedding_dim}, got shape {array.shape}."
                )
            out[token] = array
        return out

    def _build_module(self):
        module = TextLSTM(
            len(self.vocabulary_),
            len(self.classes_),
            embedding_dim=self.embedding_dim,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            pooling=self.pooling,
            padding_idx=PAD_ID,
            word_dropout=self.word_dropout,
            unknown_idx=UNK_ID,
        )
        vectors = self._pretrained_vectors()
        if vectors:
            found = [
                (i, vectors[token])
                for token, i in self.vocabulary_.vocabulary_.items()
                if token in vectors and i != PAD_ID
            ]
            if found:
                rows, values = zip(*found, strict=True)
                with torch.no_grad():
                    module.embedding.weight[list(rows)] = torch.from_numpy(np.stack(values))
        return module

    # --- prediction -----------------------------------------------------------------

    def _logits(self, X):
        """Logits (float64, CPU) for the texts ``X``, in their order."""
        self._check_fitted()
        texts = check_texts(X, name="X")
        data = TextData.from_sequences(self.vocabulary_.transform(texts))
        module, device = self.net_.module_, self.net_.device
        if module.training:
            module.eval()
        order = torch.argsort(data.lengths, stable=True)
        lengths = data.lengths[order]
        logits = torch.empty(len(data), len(self.classes_), dtype=torch.float64)
        start = 0
        with torch.inference_mode():
            while start < len(order):
                # Ascending lengths: the last text of a window is its longest.
                stop = min(start + PREDICT_TEXTS, len(order))
                rows = max(1, min(stop - start, PREDICT_STEPS // int(lengths[stop - 1])))
                index = order[start : start + rows]
                batch = data.batch(index)[0]
                out = module(**{k: v.to(device) for k, v in batch.items()})
                logits[index] = out.cpu().double()
                start += rows
        return logits

    def predict_proba(self, X):
        """Class probabilities, columns ordered as ``classes_``.

        Parameters
        ----------
        X : sequence of str of length n_samples

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return torch.softmax(self._logits(X), dim=1).numpy()

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed stably from the logits."""
        return torch.log_softmax(self._logits(X), dim=1).numpy()

    def predict(self, X):
        """Most probable class label for each text (original label values)."""
        best = self._logits(X).argmax(dim=1).numpy()  # checks fitted before classes_
        return self.classes_[best]

    # --- persistence and tags -------------------------------------------------------

    def _get_fitted_state(self):
        attributes, tensors = super()._get_fitted_state()
        try:
            attributes["_vocabulary"] = self.vocabulary_.get_state()
        except TypeError as exc:
            raise TypeError(
                f"{type(self).__name__} with a callable tokenizer cannot be saved by "
                f"skdeep.save, which stores no code ({exc}). Use tokenizer='word', or "
                "pickle/joblib the model if you trust where it will be loaded."
            ) from None
        return attributes, tensors

    def _set_fitted_state(self, attributes, tensors):
        attributes = dict(attributes)
        self.vocabulary_ = TextVocabulary.from_state(attributes.pop("_vocabulary"))
        return super()._set_fitted_state(attributes, tensors)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Raw texts in, as CountVectorizer: sklearn's checks then skip the numeric-matrix
        # tests (tests/test_text_classifier.py runs the applicable ones on texts).
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.input_tags.allow_nan = False
        tags.target_tags.required = True
        tags.classifier_tags.multi_label = False
        return tags
