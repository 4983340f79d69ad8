"""Variational autoencoder as a scikit-learn transformer: :class:`VAEEncoder`."""

from __future__ import annotations

import copy
import numbers

import numpy as np
import pandas as pd
import torch
from pandas.api import types as pdt
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_array, validate_data
from skorch.callbacks import PassthroughScoring
from skorch.utils import to_tensor

from skdeep._base import DeepEstimator, _make_seed
from skdeep._data import ArrayData
from skdeep._docs import AUTO_EARLY_STOPPING
from skdeep._training import TrainingNet
from skdeep._validation import (
    Int,
    Real,
    check_bool,
    check_finite,
    check_frame,
    check_int,
    check_layer_sizes,
)
from skdeep.nn.mlp import ACTIVATIONS
from skdeep.nn.vae import VAE, ELBOLoss
from skdeep.preprocessing.tabular import TabularEncoder

__all__ = ["VAEEncoder"]


class _VAENet(TrainingNet):
    """The training net with the beta-VAE objective as its loss.

    Batches are dicts ``{"x_num", "x_cat"}`` (passed to :class:`skdeep.nn.vae.VAE` as keyword
    arguments); there is no target. The loss of a batch is the mean over its rows of
    ``recon + beta * kl``; both terms are recorded per batch and averaged per epoch into
    ``train_recon`` / ``train_kl`` (and ``valid_recon`` / ``valid_kl`` on validation data).
    """

    @property
    def _default_callbacks(self):
        return [
            *super()._default_callbacks,
            ("train_recon", PassthroughScoring(name="train_recon", on_train=True)),
            ("train_kl", PassthroughScoring(name="train_kl", on_train=True)),
            ("valid_recon", PassthroughScoring(name="valid_recon")),
            ("valid_kl", PassthroughScoring(name="valid_kl")),
        ]

    def get_loss(self, y_pred, y_true, X=None, training=False):
        X = to_tensor(X, device=self.device)
        recon, kl = self.criterion_(y_pred, X["x_num"], X["x_cat"])
        prefix = "train" if training else "valid"
        self.history.record_batch(f"{prefix}_recon", recon.mean().item())
        self.history.record_batch(f"{prefix}_kl", kl.mean().item())
        return (recon + self.criterion_.beta * kl).mean()


def _encode_rows(module, x_num, x_cat):
    return module.encode(x_num, x_cat)  # (mu, log_var)


def _decode_means(module, z):
    num_mean, _, cat_logits = module.decode(z)
    return num_mean, cat_logits


def _is_mixed(frame):
    """True when a DataFrame has a column that is not int or float (bool counts as categorical,
    as in :class:`~skdeep.preprocessing.TabularEncoder`)."""
    return not all(
        pdt.is_integer_dtype(dtype) or pdt.is_float_dtype(dtype) for dtype in frame.dtypes
    )


class VAEEncoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, DeepEstimator):
    """Variational autoencoder (VAE) used like :class:`~sklearn.decomposition.PCA`.

    ``transform`` maps each row to the mean of its latent code, ``inverse_transform`` decodes
    codes back to rows, ``sample`` draws new rows, and ``score`` is the evidence lower bound
    (ELBO), so ``VAEEncoder(n_components=8)`` fits wherever ``PCA(n_components=8)`` does:
    pipelines, grid searches (unsupervised, on ``score``), ``set_output(transform="pandas")``.

    Input is a numeric array or a DataFrame with numeric and categorical columns (category,
    object, string or bool dtype). Columns go through a
    :class:`~skdeep.preprocessing.TabularEncoder`: numeric columns are standardised and
    modelled with a Gaussian likelihood (a learned variance per column), categorical columns
    are one-hot encoded and modelled with a categorical likelihood. A missing categorical value
    seen during fit is a category of its own; missing numeric values are refused.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the latent code, i.e. of the output of ``transform``; at least 1.
    hidden_layer_sizes : tuple of int, default=(128, 64)
        Hidden widths of the encoder network; the decoder uses them in reverse order.
    activation : {"relu", "gelu", "tanh", "silu"}, default="relu"
        Non-linearity after each hidden layer.
    beta : float, default=1.0
        Weight of the KL term in the training objective ``recon + beta * kl`` (a beta-VAE).
        Below 1 favours reconstruction, above 1 a smoother, more disentangled latent space.
        ``score`` always uses the plain ELBO (weight 1), so models trained with different
        ``beta`` compare fairly.
    dropout : float in [0, 1), default=0.0
        Dropout probability after each hidden activation, in both networks (training only).
    handle_unknown : {"error", "ignore"}, default="error"
        What ``transform`` and ``score`` do with a category not seen during fit, as in
        :class:`~sklearn.preprocessing.OneHotEncoder`: ``"error"`` raises a ``ValueError``
        naming the column; ``"ignore"`` encodes it as an all-zero one-hot block, and the
        column adds nothing to the reconstruction term of ``score_samples``.
    {shared_parameters}

    Attributes
    ----------
    n_components_ : int
        Latent dimension of the fitted model.
    encoder_ : skdeep.preprocessing.TabularEncoder
        The fitted column encoder (column types, scaling, categories).
    n_features_in_ : int
        Number of columns seen during ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names, when ``X`` was a DataFrame with string column names.
    n_iter_ : int
        Number of epochs run.
    history_ : list of dict
        One record per epoch: ``train_loss`` (the objective ``recon + beta * kl`` per row,
        with ``z`` drawn), ``train_recon`` (negative log-likelihood of a row given ``z``) and
        ``train_kl`` (KL divergence of the posterior from the prior), in nats per row; with
        ``early_stopping`` also ``valid_loss``, ``valid_recon``, ``valid_kl`` (``z`` at the
        posterior mean) and ``best_epoch``; ``dur`` in seconds.
    module_ : skdeep.nn.vae.VAE
        The trained network.
    net_ : skdeep.vae._VAENet
        The skorch ``NeuralNet`` (a :class:`skdeep._training.TrainingNet` with the ELBO as
        its loss) that trained it.

    See Also
    --------
    sklearn.decomposition.PCA : The linear counterpart.
    skdeep.preprocessing.TabularEncoder : The column encoding used inside.

    Notes
    -----
    ``score_samples`` returns the ELBO of each row, ``E_q[log p(x | z)] - KL(q(z | x) || p(z))``,
    with the expectation evaluated at the posterior mean ``z = mu`` (a deterministic one-point
    estimate: the same fitted model gives the same scores, row by row, whatever the batch).
    Numeric columns enter standardised, so the ELBO is that of the standardised table.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skdeep.vae import VAEEncoder
    >>> X = load_digits().data[:300] / 16
    >>> vae = VAEEncoder(n_components=2, hidden_layer_sizes=(32,), max_epochs=5, random_state=0)
    >>> Z = vae.fit_transform(X)
    >>> Z.shape
    (300, 2)
    >>> vae.inverse_transform(Z).shape
    (300, 64)
    >>> vae.sample(3, random_state=0).shape
    (3, 64)
    >>> vae.get_feature_names_out()
    array(['vaeencoder0', 'vaeencoder1'], dtype=object)
    """

    _parameter_constraints = {
        **DeepEstimator._parameter_constraints,
        "n_components": [Int(1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", numbers.Integral],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "beta": [Real(0, None, closed="left")],
        "dropout": [Real(0, 1, closed="left")],
        "handle_unknown": [StrOptions({"error", "ignore"})],
    }
    _module_params = ("n_components", "hidden_layer_sizes", "activation", "dropout")
    _fitted_attributes = (
        *DeepEstimator._fitted_attributes,
        "n_components_",
        "_fit_on_frame",
        "_numeric_range",
    )
    _adapters = {"encoder_": TabularEncoder}
    _net_class = _VAENet
    _parameter_docs = {
        "early_stopping": (
            'bool or "auto"',
            "Hold out ``validation_fraction`` of the rows, stop when the validation loss (the "
            "objective with ``z`` at the posterior mean) has not improved by ``tol`` for "
            "``n_iter_no_change`` epochs and restore the weights of the best epoch. When "
            "False, training stops once the training loss stops improving. " + AUTO_EARLY_STOPPING,
        ),
        "tol": (
            "float",
            "Minimum decrease of the monitored loss (nats per row) that counts as an improvement.",
        ),
        "random_state": (
            "int, RandomState instance or None",
            "Seeds weight initialisation, shuffling, dropout, the latent draws of training, "
            "the validation split and ``transform(X, sample=True)``. The same int gives "
            "bit-for-bit the same model on the CPU. The caller's global numpy and torch "
            "random states are never changed.",
        ),
    }

    def __init__(
        self,
        n_components=2,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        beta=1.0,
        dropout=0.0,
        alpha=1e-4,
        learning_rate=1e-3,
        optimizer="adam",
        batch_size=200,
        max_epochs=200,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        handle_unknown="error",
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.beta = beta
        self.dropout = dropout
        self.alpha = alpha
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.handle_unknown = handle_unknown
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks

    # --- fitting --------------------------------------------------------------------

    def fit(self, X, y=None):
        """Train the autoencoder on the rows of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric array, or DataFrame with numeric and categorical columns.
        y : None
            Ignored; present for pipelines.

        Returns
        -------
        self : VAEEncoder
            The fitted encoder.
        """
        return self._fit(X, partial=False)

    def _check_params(self):
        check_layer_sizes(self)

    def _prepare_data(self, X, y, sample_weight, *, first_call, partial, classes):
        table = self._validate_table(X, reset=first_call)
        if first_call:
            self.encoder_ = TabularEncoder(handle_unknown=self.handle_unknown).fit(table)
            self.n_components_ = int(self.n_components)
            self._fit_on_frame = isinstance(table, pd.DataFrame)
        x_num, x_cat = self._encode(table)
        if first_call:
            # sample() keeps draws within what training saw: a Gaussian tail would
            # otherwise give e.g. negative ages or hours beyond the week.
            self._numeric_range = np.stack([x_num.min(axis=0), x_num.max(axis=0)])
        data = ArrayData({"x_num": torch.from_numpy(x_num), "x_cat": torch.from_numpy(x_cat)})
        return data, None

    def _build_module(self):
        return VAE(
            len(self.encoder_.numeric_columns_),
            self.encoder_.cardinalities_,
            self.n_components_,
            hidden_layer_sizes=check_layer_sizes(self),
            activation=self.activation,
            dropout=self.dropout,
        )

    def _criterion(self):
        return ELBOLoss(self.encoder_.cardinalities_, beta=float(self.beta))

    # --- input ----------------------------------------------------------------------

    def _validate_table(self, X, *, reset):
        """Check ``X`` as scikit-learn would; return a DataFrame or a float ndarray.

        A DataFrame with categorical columns cannot go through ``validate_data`` (it would
        make every column float): its names and width are checked with scikit-learn's own
        helpers and its values by the column encoder, which names the column at fault.
        """
        name = type(self).__name__
        if isinstance(X, pd.DataFrame) and _is_mixed(X):
            return check_frame(self, X, reset=reset)
        if not reset and self.encoder_.categorical_columns_ and not isinstance(X, pd.DataFrame):
            raise ValueError(
                f"{name} was fitted on a DataFrame with categorical columns "
                f"{self.encoder_.categorical_columns_[:5]}; pass a DataFrame with the columns "
                "seen during fit."
            )
        array = validate_data(
            self, X, reset=reset, dtype=(np.float64, np.float32), ensure_all_finite=False
        )
        check_finite(
            array, estimator_name=name, feature_names=getattr(self, "feature_names_in_", None)
        )
        # At fit a numeric DataFrame itself goes to the encoder, which keeps its dtypes (ints
        # come back as ints from inverse_transform and sample).
        return X if reset and isinstance(X, pd.DataFrame) else array

    def _encode(self, table):
        """``(x_num float32, x_cat int64)`` for a validated table."""
        encoder = self.encoder_
        if isinstance(table, np.ndarray) and not encoder.categorical_columns_:
            # What TabularEncoder.transform computes, without building a DataFrame first
            # (which costs more than the network for a large numeric array).
            x_num = ((table - encoder.means_) / encoder.scales_).astype(np.float32)
            return x_num, np.empty((len(table), 0), dtype=np.int64)
        if isinstance(table, np.ndarray) and self._fit_on_frame:
            # Names (or their absence, with scikit-learn's warning) were checked already.
            table = pd.DataFrame(table, columns=encoder.columns_, copy=False)
        if encoder.handle_unknown != self.handle_unknown:  # changed with set_params after fit
            encoder = copy.copy(encoder)
            encoder.handle_unknown = self.handle_unknown
        return encoder.transform(table)

    # --- inference ------------------------------------------------------------------

    def transform(self, X, sample=False):
        """Latent codes of the rows of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows with the columns seen during fit.
        sample : bool, default=False
            False returns the posterior means (deterministic, like ``PCA.transform``). True
            draws ``z ~ q(z | x)`` for each row instead; the draws are seeded by the fitted
            ``random_state``, so repeated calls on the same ``X`` return the same codes.

        Returns
        -------
        Z : ndarray of shape (n_samples, ``n_components_``), dtype float64
        """
        self._check_fitted()
        check_bool("sample", sample)
        x_num, x_cat = self._encode(self._validate_table(X, reset=False))
        mu, log_var = (t.numpy() for t in self._infer(_encode_rows, x_num, x_cat))
        if not sample:
            return mu
        generator = torch.Generator().manual_seed(self._seed + 1)
        eps = torch.randn(mu.shape, generator=generator, dtype=torch.float64).numpy()
        return mu + np.exp(0.5 * log_var) * eps

    def inverse_transform(self, Z):
        """Decode latent codes into rows of the input space.

        Numeric columns take the decoder's Gaussian mean; categorical columns their most
        probable category.

        Parameters
        ----------
        Z : array-like of shape (n_samples, ``n_components_``)
            Latent codes, e.g. from :meth:`transform`.

        Returns
        -------
        X : ndarray or DataFrame of shape (n_samples, ``n_features_in_``)
            A DataFrame with the fitted columns, dtypes and categories (and a ``RangeIndex``)
            when the model was fitted on a DataFrame, else an ndarray of the fitted dtype.
        """
        self._check_fitted()
        Z = check_array(Z, dtype=(np.float64, np.float32), input_name="Z")
        if Z.shape[1] != self.n_components_:
            raise ValueError(
                f"Z has {Z.shape[1]} columns, but {type(self).__name__} has "
                f"n_components_={self.n_components_}; pass latent codes as returned by "
                "transform."
            )
        num_mean, cat_logits = (t.numpy() for t in self._infer(_decode_means, Z))
        return self.encoder_.inverse_transform_logits(num_mean, cat_logits)

    def sample(self, n_samples=1, random_state=None):
        """Draw new rows from the model.

        Draws ``z ~ N(0, I)``, decodes it, then draws each numeric value from its Gaussian
        (mean and learned variance), clipped to the range seen in training, and each
        category from its predicted distribution, so the samples vary like the data rather
        than collapsing onto the decoder means.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to draw.
        random_state : int, RandomState instance or None, default=None
            Seeds these draws only (through a private ``torch.Generator``); the global numpy
            and torch random states are untouched. An int gives the same rows every call.

        Returns
        -------
        X : ndarray or DataFrame of shape (n_samples, ``n_features_in_``)
            As returned by :meth:`inverse_transform`.
        """
        self._check_fitted()
        check_int("n_samples", n_samples, min_val=1)
        generator = torch.Generator().manual_seed(_make_seed(random_state))
        z = torch.randn(n_samples, self.n_components_, generator=generator).numpy()

        def decode(module, z):
            num_mean, num_log_var, cat_logits = module.decode(z)
            return num_mean, num_log_var.expand_as(num_mean), cat_logits

        num_mean, num_log_var, cat_logits = (t.numpy() for t in self._infer(decode, z))
        noise = torch.randn(num_mean.shape, generator=generator, dtype=torch.float64).numpy()
        x_num = num_mean + np.exp(0.5 * num_log_var) * noise
        x_num = np.clip(x_num, *self._numeric_range.astype(x_num.dtype))
        x_cat = np.empty((n_samples, len(self.encoder_.cardinalities_)), dtype=np.int64)
        blocks = torch.from_numpy(cat_logits).split(self.encoder_.cardinalities_, dim=1)
        for j, logits in enumerate(blocks if x_cat.shape[1] else ()):
            probs = torch.softmax(logits, dim=1)
            x_cat[:, j] = torch.multinomial(probs, 1, generator=generator)[:, 0].numpy()
        return self.encoder_.inverse_transform(x_num, x_cat)

    def score_samples(self, X):
        """Evidence lower bound (ELBO) of each row, in nats; higher is better.

        ``log p(x | z)`` at the posterior mean ``z = mu`` minus ``KL(q(z | x) || N(0, I))``,
        whatever ``beta`` was used in training (see Notes of the class).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        elbo : ndarray of shape (n_samples,), dtype float64
        """
        self._check_fitted()
        x_num, x_cat = self._encode(self._validate_table(X, reset=False))
        criterion = self.net_.criterion_

        def elbo(module, a, b):
            recon, kl = criterion(module(a, b), a, b)
            return (-(recon + kl),)

        return self._infer(elbo, x_num, x_cat)[0].numpy()

    def score(self, X, y=None):
        """Mean ELBO per row of ``X`` (see :meth:`score_samples`); higher is better.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    @property
    def _n_features_out(self):
        # ClassNamePrefixFeaturesOutMixin names the outputs vaeencoder0, vaeencoder1, ...
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.categorical = True
        tags.target_tags.required = False
        return tags
