"""A conditional GAN for tables as a scikit-learn estimator: :class:`GANSampler`."""

from __future__ import annotations

import functools
import math
import numbers
import sys

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import validate_data
from skorch.callbacks import PassthroughScoring

from skdeep._base import DeepEstimator, _make_seed
from skdeep._data import ConditionalRows, DrawnBatchIterator
from skdeep._gan_sampling import ConditionSampler
from skdeep._training import TrainingNet
from skdeep._validation import Int, Real, check_frame, check_layer_sizes, parameter_error
from skdeep.nn.gan import (
    Discriminator,
    Generator,
    apply_activations,
    conditional_loss,
    gradient_penalty,
)
from skdeep.preprocessing.tabular import TabularEncoder

__all__ = ["GANSampler"]

# Fixed as in the CTGAN paper: Adam's betas (a short memory suits the moving target of a
# GAN), a light weight decay, and the Gumbel-softmax temperature of the generator's one-hots.
ADAM_BETAS = (0.5, 0.9)
WEIGHT_DECAY = 1e-6
GUMBEL_TAU = 0.2
# Rows generated per forward pass at sample time: bounds memory whatever n_samples is.
SAMPLE_ROWS = 16384
# Conditional sampling gives up after this many draws per wanted row (see sample()).
MAX_DRAWS_PER_ROW = 1000


class _GANNet(TrainingNet):
    """The skorch net of the GAN: the generator is ``module_``, the critic ``discriminator_``,
    each with its Adam optimiser (``optimizer_`` and ``optimizer_discriminator_``); skorch
    registers all four, so saving and loading the estimator keeps both networks and both
    optimisers. :meth:`train_step` runs ``discriminator_steps`` critic updates (WGAN-GP) and
    one generator update (adversarial loss + conditional cross-entropy) per batch; the
    generator update reuses the rows generated for the last critic update.
    """

    def __init__(
        self,
        module,
        *args,
        discriminator,
        discriminator_lr,
        spans,
        category_slices,
        embedding_dim,
        gradient_penalty,
        **kwargs,
    ):
        super().__init__(module, *args, **kwargs)
        self.discriminator = discriminator
        self.discriminator_lr = discriminator_lr
        self.spans = spans
        self.category_slices = category_slices
        self.embedding_dim = embedding_dim
        self.gradient_penalty = gradient_penalty

    @property
    def _default_callbacks(self):
        return [
            *super()._default_callbacks,
            ("generator_loss", PassthroughScoring(name="generator_loss", on_train=True)),
            ("discriminator_loss", PassthroughScoring(name="discriminator_loss", on_train=True)),
        ]

    def initialize_module(self):
        super().initialize_module()
        # ``discriminator`` is a factory (skorch refuses a module as a plain attribute); the
        # critic made here, inside initialize_module, is registered by skorch as a module of
        # its own (moved to the device, saved and loaded with the generator).
        self.discriminator_ = self.discriminator()
        return self

    def initialize_optimizer(self, triggered_directly=None):
        # Two optimisers, one per network; skorch registers both (names start "optimizer").
        # foreach: one kernel per step over all tensors, instead of a Python loop over them
        # (on the CPU torch's default is the loop, which costs as much as a small network).
        kwargs = {"betas": ADAM_BETAS, "weight_decay": self.weight_decay, "foreach": True}
        self.optimizer_ = torch.optim.Adam(self.module_.parameters(), lr=self.lr, **kwargs)
        self.optimizer_discriminator_ = torch.optim.Adam(
            self.discriminator_.parameters(), lr=self.discriminator_lr, **kwargs
        )
        return self

    def _noise(self, n):
        return torch.randn(n, self.embedding_dim, device=self.device)

    def train_step(self, batch, **fit_params):
        self._set_training(True)
        X, _ = batch
        real = X["real"].to(self.device)
        cond = X["cond"].to(self.device)
        mask = X["mask"].to(self.device)
        generator, critic = self.module_, self.discriminator_
        n, steps = real.shape[0], real.shape[1]
        for step in range(steps):
            c = cond[:, step]
            if step < steps - 1:  # the critic's update needs no gradient through the generator
                with torch.no_grad():
                    fake = apply_activations(generator(self._noise(n), c), self.spans, GUMBEL_TAU)
            else:
                # The last critic step and the generator step share one generated batch (as
                # the DCGAN recipe does): one generator forward pass less per step.
                raw = generator(self._noise(n), c)
                fake_g = apply_activations(raw, self.spans, GUMBEL_TAU)
                fake = fake_g.detach()
            fake_in = torch.cat([fake, c], dim=1)
            real_in = torch.cat([real[:, step], c], dim=1)
            # One critic pass over both halves (n is a multiple of pac: no pack mixes them).
            scores = critic(torch.cat([real_in, fake_in]))
            # The critic scores real packs high and fake ones low: minimise the gap's negative.
            wasserstein = scores[: n // critic.pac].mean() - scores[n // critic.pac :].mean()
            penalty = gradient_penalty(critic, real_in, fake_in, self.gradient_penalty)
            loss_d = penalty - wasserstein
            self.optimizer_discriminator_.zero_grad(set_to_none=True)
            loss_d.backward()
            self.optimizer_discriminator_.step()

        # The generator step: fool the updated critic, and produce the conditioned category.
        # The critic's weights are frozen meanwhile: their gradients would be thrown away, and
        # its first layer (pac rows wide) is the largest matrix of the whole model.
        critic.requires_grad_(False)
        loss_g = -critic(torch.cat([fake_g, c], dim=1)).mean()
        loss_g = loss_g + conditional_loss(raw, c, mask[:, -1], self.category_slices)
        self.optimizer_.zero_grad(set_to_none=True)
        loss_g.backward()
        critic.requires_grad_(True)
        self.optimizer_.step()
        self.history.record_batch("generator_loss", loss_g.item())
        self.history.record_batch("discriminator_loss", loss_d.item())
        return {"loss": loss_g.detach(), "y_pred": None}


class GANSampler(DeepEstimator):
    """Conditional GAN for tables (CTGAN): learn a table, sample realistic synthetic rows.

    ``GANSampler().fit(df).sample(10_000)`` returns a DataFrame with the columns, dtypes and
    category sets of ``df`` whose rows follow its distribution. The model is CTGAN (Xu et al.,
    2019): numeric columns are encoded mode by mode (a variational Gaussian mixture per
    column, see :class:`~skdeep.preprocessing.TabularEncoder` with ``numeric_encoding="mode"``;
    frequent values such as a column's zeros are point masses, reproduced exactly), the
    generator is conditioned on one category of one discrete column at a time
    (training-by-sampling, so rare categories are learned), categories and modes are drawn
    with a Gumbel-softmax, and the critic is trained with the WGAN-GP loss on packs of ``pac``
    rows (PacGAN). ``sample(conditions=...)`` returns rows that all meet the conditions.

    Parameters
    ----------
    generator_dim : tuple of int, default=(256, 256)
        Widths of the generator's residual blocks (linear, batch norm, ReLU, input passed on).
    discriminator_dim : tuple of int, default=(256, 256)
        Widths of the critic's hidden layers (linear, LeakyReLU 0.2, dropout 0.5).
    embedding_dim : int, default=128
        Size of the generator's noise vector.
    pac : int, default=10
        Rows the critic scores together (PacGAN); ``batch_size`` must be a multiple of it.
    generator_lr : float, default=2e-4
        Adam learning rate of the generator (betas 0.5, 0.9, weight decay 1e-6).
    discriminator_lr : float, default=2e-4
        Adam learning rate of the critic (same betas and weight decay).
    discriminator_steps : int, default=1
        Critic updates per generator update.
    gradient_penalty : float, default=10.0
        Weight of the WGAN-GP gradient penalty.
    discrete_columns : list or None, default=None
        Columns modelled as categories (and usable in ``conditions``). None: the columns of
        category, object, string and bool dtype. A list names further columns, e.g. an int
        column of codes (positions when fitting on an array).
    {shared_parameters}

    Attributes
    ----------
    encoder_ : skdeep.preprocessing.TabularEncoder
        The fitted encoder (mode-specific normalisation of the numeric columns, codes of the
        discrete ones).
    n_features_in_ : int
        Number of columns seen during ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names, when ``X`` was a DataFrame with string column names.
    n_iter_ : int
        Number of epochs run.
    history_ : list of dict
        One record per epoch: ``generator_loss`` (the adversarial loss plus the conditional
        cross-entropy; also ``train_loss``), ``discriminator_loss`` (the critic's loss, the
        negative Wasserstein estimate plus the gradient penalty), both averaged over the
        epoch's steps, and ``dur`` in seconds.
    module_ : skdeep.nn.gan.Generator
        The trained generator.
    discriminator_ : skdeep.nn.gan.Discriminator
        The trained critic.
    net_ : skdeep.gan._GANNet
        The skorch ``NeuralNet`` that trained both.

    See Also
    --------
    skdeep.vae.VAEEncoder : A variational autoencoder, which also samples rows.
    skdeep.metrics.synthetic_data_report : How close sampled rows are to real ones.

    Notes
    -----
    Input handling: missing numeric values (NaN) are a component of their own and come back at
    their real rate; infinite values raise a ``ValueError``. A missing category is a category.
    A column of all missing values comes back all missing; a constant column comes back
    constant; a category with a single row is learned like any other (training-by-sampling
    draws it at log-frequency). Integer columns come back as integers, numeric columns stay
    within the range seen at fit, datetime columns are supported (as timestamps). An object
    column mixing types (e.g. strings and numbers) raises a ``TypeError`` naming it.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skdeep.gan import GANSampler
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({
    ...     "age": rng.integers(20, 60, 200),
    ...     "pet": pd.Categorical(rng.choice(["cat", "dog"], 200)),
    ... })
    >>> gan = GANSampler(generator_dim=(32,), discriminator_dim=(32,), embedding_dim=8,
    ...                  batch_size=50, max_epochs=2, random_state=0).fit(df)
    >>> rows = gan.sample(5, random_state=0)
    >>> rows.dtypes.equals(df.dtypes)
    True
    >>> bool((gan.sample(20, conditions={"pet": "dog"}, random_state=0)["pet"] == "dog").all())
    True
    """

    _parameter_constraints = {
        **DeepEstimator._parameter_constraints,
        "generator_dim": ["array-like", numbers.Integral],
        "discriminator_dim": ["array-like", numbers.Integral],
        "embedding_dim": [Int(1, None, closed="left")],
        "pac": [Int(1, None, closed="left")],
        "generator_lr": [Real(0, None, closed="neither")],
        "discriminator_lr": [Real(0, None, closed="neither")],
        "discriminator_steps": [Int(1, None, closed="left")],
        "gradient_penalty": [Real(0, None, closed="left")],
        "discrete_columns": ["array-like", None],
    }
    _module_params = (
        "generator_dim",
        "discriminator_dim",
        "embedding_dim",
        "pac",
        "discrete_columns",
    )
    _fitted_attributes = (
        *DeepEstimator._fitted_attributes,
        "_category_counts",
    )
    _adapters = {"encoder_": TabularEncoder}
    _net_class = _GANNet
    _iterator = DrawnBatchIterator
    _stops_on_convergence = False
    _progress_keys = ("generator_loss", "discriminator_loss")
    _parameter_docs = {
        "batch_size": (
            "int",
            "Rows per training step, a multiple of ``pac``. An epoch is ``n_samples // "
            "batch_size`` steps (at least one), each batch drawn by training-by-sampling.",
        ),
        "max_epochs": (
            "int",
            "Number of epochs. A GAN's losses do not settle, so training always runs them "
            "all (there is no early stopping or tolerance).",
        ),
        "random_state": (
            "int, RandomState instance or None",
            "Seeds the mixtures of the numeric encoding, weight initialisation, the "
            "training-by-sampling draws, the noise and dropout of training. The same int "
            "gives bit-for-bit the same model on the CPU. The caller's global numpy and torch "
            "random states are never changed. (``sample`` has its own ``random_state``.)",
        ),
        "verbose": (
            "int",
            "0 is silent; 1 shows a progress bar over epochs with both losses; 2 prints one "
            "line per epoch; 3 adds a bar over batches. Progress goes to stderr; ``sample`` "
            "with conditions also reports its draws.",
        ),
    }

    def __init__(
        self,
        generator_dim=(256, 256),
        discriminator_dim=(256, 256),
        embedding_dim=128,
        pac=10,
        batch_size=500,
        max_epochs=300,
        generator_lr=2e-4,
        discriminator_lr=2e-4,
        discriminator_steps=1,
        gradient_penalty=10.0,
        discrete_columns=None,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        self.generator_dim = generator_dim
        self.discriminator_dim = discriminator_dim
        self.embedding_dim = embedding_dim
        self.pac = pac
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.generator_lr = generator_lr
        self.discriminator_lr = discriminator_lr
        self.discriminator_steps = discriminator_steps
        self.gradient_penalty = gradient_penalty
        self.discrete_columns = discrete_columns
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks

    # --- fitting --------------------------------------------------------------------

    def fit(self, X, y=None):
        """Learn the distribution of the rows of ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The table: numeric (int, float, datetime) and discrete (category, object,
            string, bool, or named in ``discrete_columns``) columns.
        y : None
            Ignored; present for pipelines.

        Returns
        -------
        self : GANSampler
            The fitted sampler.
        """
        return self._fit(X, partial=False)

    def _check_params(self):
        check_layer_sizes(self, "generator_dim")
        check_layer_sizes(self, "discriminator_dim")
        if self.batch_size % self.pac:
            raise parameter_error(
                self,
                "batch_size",
                f"a multiple of pac={self.pac} (the critic scores packs of pac rows)",
                self.batch_size,
            )

    def _prepare_data(self, X, y, sample_weight, *, first_call, partial, classes):
        table = self._validate_table(X, reset=first_call)
        if first_call:
            encoder = TabularEncoder(
                categorical_columns="auto"
                if self.discrete_columns is None
                else list(self.discrete_columns),
                numeric_encoding="mode",
                random_state=_make_seed(self.random_state),
            ).fit(table)
        else:
            encoder = self.encoder_
        values, codes = encoder.transform(table)
        flat = encoder.codes_to_flat(values, codes)
        n_discrete = len(encoder.categorical_columns_)
        sampler = ConditionSampler(codes[:, :n_discrete], encoder.cardinalities_[:n_discrete])
        if first_call:  # set only now that the data is known to be valid
            self.encoder_ = encoder
            self._category_counts = sampler.counts
        steps = int(self.discriminator_steps)
        return ConditionalRows(torch.from_numpy(flat), sampler, steps), None

    def _validate_table(self, X, *, reset):
        """Check ``X`` as scikit-learn would; return a DataFrame or an ndarray.

        A DataFrame goes to the encoder as it is (its columns keep their dtypes, and the
        encoder names the column at fault); an array is checked by ``validate_data``, with
        NaN allowed (a missing value) and inf refused by the encoder.
        """
        if isinstance(X, pd.DataFrame):
            return check_frame(self, X, reset=reset)
        return validate_data(self, X, reset=reset, dtype=None, ensure_all_finite="allow-nan")

    def _build_module(self):
        return Generator(
            int(self.embedding_dim),
            self._cond_dim(),
            check_layer_sizes(self, "generator_dim"),
            self._data_dim(),
        )

    def _criterion(self):
        # The GAN's losses are computed in _GANNet.train_step; skorch wants a criterion.
        return torch.nn.Identity()

    def _net_params(self):
        spans = self.encoder_.flat_spans()
        offsets = ConditionSampler.from_counts(self._category_counts).offsets
        category_slices = [
            (span.start, offset, span.width)
            for span, offset in zip(
                [s for s in spans if s.role == "category"], offsets, strict=True
            )
        ]
        discriminator = functools.partial(
            Discriminator,
            self._data_dim() + self._cond_dim(),
            check_layer_sizes(self, "discriminator_dim"),
            pac=int(self.pac),
        )
        return {
            "criterion": self._criterion(),
            "optimizer": torch.optim.Adam,
            "lr": self.generator_lr,
            "weight_decay": WEIGHT_DECAY,
            "discriminator": discriminator,
            "discriminator_lr": self.discriminator_lr,
            "spans": [(span.width, span.kind) for span in spans],
            "category_slices": category_slices,
            "embedding_dim": int(self.embedding_dim),
            "gradient_penalty": float(self.gradient_penalty),
        }

    def _continued_params(self):
        # The critic's learning rate lives in its own optimiser, which skorch's set_params
        # does not reach: update it here, where a continuation takes the new parameters.
        for group in self.net_.optimizer_discriminator_.param_groups:
            group["lr"] = self.discriminator_lr
        return {"lr": self.generator_lr}

    def _cond_dim(self):
        return sum(len(counts) for counts in self._category_counts)

    def _data_dim(self):
        last = self.encoder_.flat_spans()[-1]
        return last.start + last.width

    @property
    def discriminator_(self):
        """The trained critic (a :class:`skdeep.nn.gan.Discriminator`)."""
        if not self._is_fitted():
            raise AttributeError(f"{type(self).__name__} has no discriminator_ before fit.")
        return self.net_.discriminator_

    # --- sampling -------------------------------------------------------------------

    def sample(self, n_samples=None, conditions=None, random_state=None, return_n_draws=False):
        """Draw synthetic rows.

        Parameters
        ----------
        n_samples : int or None, default=None
            Number of rows. None: 1, or one per row of a ``conditions`` DataFrame.
        conditions : dict, DataFrame or None, default=None
            Values the rows must have in discrete columns. A dict ``{column: value}`` applies
            to every row (a value of None or NaN asks for the missing category). A DataFrame
            has one row of conditions per wanted row, in order; a missing cell there means no
            condition on that column for that row. Every returned row meets its conditions:
            the generator is conditioned on the rarest wanted category and the rows that miss
            any condition are drawn again (rejection sampling), so the rows follow the
            model's distribution given the conditions.
        random_state : int, RandomState instance or None, default=None
            Seeds these draws only; an int gives the same rows on every call.
        return_n_draws : bool, default=False
            Also return the number of rows generated to obtain the result (equal to the
            number of rows without conditions; more with conditions, by the rejections).

        Returns
        -------
        X : DataFrame or ndarray of shape (n_samples, ``n_features_in_``)
            A DataFrame with the training columns, dtypes and category sets (and a
            ``RangeIndex``) when fitted on a DataFrame, else an ndarray of the fitted dtype.
        n_draws : int
            Only with ``return_n_draws=True``.

        Raises
        ------
        ValueError
            For conditions on unknown or non-discrete columns or with values not seen during
            fit (the message names them), and when fewer than ``n_samples`` rows met the
            conditions after 1000 draws per wanted row.
        """
        self._check_fitted()
        generator = torch.Generator().manual_seed(_make_seed(random_state))
        if conditions is None:
            n = self._check_n_samples(n_samples, None)
            parts = [self._decode(*self._draw(n, None, generator))]
            n_draws = n
        else:
            wanted, counts, keys = self._parse_conditions(conditions, n_samples)
            parts, n_draws = [], 0
            for codes, n in zip(wanted, counts, strict=True):
                part, draws = self._draw_matching(codes, n, generator)
                parts.append(part)
                n_draws += draws
            if self.verbose:
                total = sum(counts)
                print(
                    f"{type(self).__name__}.sample: generated {n_draws} rows to keep {total} "
                    f"that meet the conditions ({total / n_draws:.1%} kept).",
                    file=sys.stderr,
                )
            parts = self._order_parts(parts, keys)
        out = _concat(parts)
        return (out, n_draws) if return_n_draws else out

    def _check_n_samples(self, n_samples, n_conditions):
        if n_samples is None:
            return 1 if n_conditions is None else n_conditions
        if (
            not isinstance(n_samples, numbers.Integral)
            or isinstance(n_samples, bool)
            or n_samples < 1
        ):
            raise ValueError(f"n_samples must be an int >= 1, got {n_samples!r}.")
        if n_conditions is not None and n_samples != n_conditions:
            raise ValueError(
                f"n_samples={n_samples} but conditions has {n_conditions} rows (one per wanted "
                "row); leave n_samples at None."
            )
        return int(n_samples)

    def _draw(self, n, cond, generator):
        """``(X_num, X_cat)`` codes of ``n`` generated rows, chunk by chunk.

        ``cond``: None (conditional vectors drawn with the real frequencies), or a
        ``(column, code)`` pair to condition every row on.
        """
        sampler = ConditionSampler.from_counts(self._category_counts)
        spans = self.encoder_.flat_spans()
        softmax = np.concatenate(
            [np.arange(s.start, s.start + s.width) for s in spans if s.kind == "softmax"]
        )
        tanh = np.array([s.start for s in spans if s.kind == "tanh"], dtype=int)
        X_num, X_cat = [], []
        for start in range(0, n, SAMPLE_ROWS):
            m = min(SAMPLE_ROWS, n - start)
            z = torch.randn(m, int(self.embedding_dim), generator=generator)
            c = sampler.sample_original(m, generator) if cond is None else sampler.fixed(*cond, m)
            (raw,) = self._infer(lambda module, z, c: module(z, c), z.numpy(), c.numpy())
            # Gumbel-max: argmax(logits + Gumbel noise) is a draw from softmax(logits), the
            # category (or mode) a Gumbel-softmax would make nearly one-hot in training.
            exponential = torch.empty(m, len(softmax), dtype=torch.float64)
            gumbel = -exponential.exponential_(generator=generator).log()
            flat = raw.numpy().copy()
            flat[:, softmax] += gumbel.numpy()
            flat[:, tanh] = np.tanh(flat[:, tanh])
            num, cat = self.encoder_.flat_to_codes(flat)
            X_num.append(num)
            X_cat.append(cat)
        return np.concatenate(X_num), np.concatenate(X_cat)

    def _decode(self, X_num, X_cat):
        return self.encoder_.inverse_transform(X_num, X_cat)

    def _draw_matching(self, wanted, n, generator):
        """``n`` decoded rows whose discrete codes equal ``wanted`` ({column index: code})."""
        sampler = ConditionSampler.from_counts(self._category_counts)
        cond = sampler.rarest(wanted) if wanted else None
        columns = np.array(list(wanted), dtype=int)
        codes = np.array(list(wanted.values()), dtype=np.int64)
        kept, n_kept, draws, limit = [], 0, 0, MAX_DRAWS_PER_ROW * n
        while n_kept < n:
            if draws >= limit:
                encoder = self.encoder_
                names = {
                    encoder.categorical_columns_[j]: (
                        encoder.categories_[j][c] if c < len(encoder.categories_[j]) else None
                    )
                    for j, c in wanted.items()
                }
                raise ValueError(
                    f"Only {n_kept} of {n} rows met the conditions {names} after "
                    f"{draws} draws: the model rarely generates this combination. Ask for "
                    "fewer conditions, or train longer."
                )
            # Draw about what is still missing at the acceptance rate seen so far.
            rate = n_kept / draws if n_kept else 0.5
            m = int(min(SAMPLE_ROWS, max(256, math.ceil(1.2 * (n - n_kept) / max(rate, 1e-3)))))
            X_num, X_cat = self._draw(m, cond, generator)
            draws += m
            ok = (X_cat[:, columns] == codes).all(axis=1)
            take = np.flatnonzero(ok)[: n - n_kept]
            if len(take):
                kept.append(self._decode(X_num[take], X_cat[take]))
                n_kept += len(take)
        return _concat(kept), draws

    def _parse_conditions(self, conditions, n_samples):
        """Groups of wanted codes ({discrete column index: code}), their row counts, and the
        group key of each row of a conditions DataFrame (None for a dict)."""
        encoder = self.encoder_
        if not encoder.categorical_columns_:
            raise ValueError(
                "conditions need discrete columns, and this model has none; name some in "
                "discrete_columns."
            )
        if isinstance(conditions, dict):
            n = self._check_n_samples(n_samples, None)
            frame = pd.DataFrame({key: [value] for key, value in conditions.items()})
            if not len(frame.columns):
                raise ValueError("conditions is empty; pass None to sample without conditions.")
        elif isinstance(conditions, pd.DataFrame):
            n = self._check_n_samples(n_samples, len(conditions))
            frame = conditions
            if not len(frame) or not len(frame.columns):
                raise ValueError(f"conditions has shape {frame.shape}; it needs rows and columns.")
        else:
            raise TypeError(
                f"conditions must be a dict or a DataFrame, got {type(conditions).__name__}."
            )
        names = self._condition_columns(list(frame.columns))
        if isinstance(conditions, dict):
            # A dict's None or NaN asks for the missing category.
            row = {
                j: int(encoder.category_codes(name, [frame[key].iloc[0]])[0])
                for key, name, j in names
            }
            return [row], [n], None
        # One group per distinct combination; a missing cell means "no condition".
        cells = frame.astype(object).where(frame.notna(), None)
        keys = [tuple(row) for row in cells.itertuples(index=False, name=None)]
        counts = {}
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
        wanted = []
        for key in counts:
            row = {}
            for (_, name, j), value in zip(names, key, strict=True):
                if value is not None:
                    row[j] = int(encoder.category_codes(name, [value])[0])
            wanted.append(row)
        return wanted, list(counts.values()), keys

    def _condition_columns(self, keys):
        """(key, column name, discrete column index) of each condition key."""
        encoder = self.encoder_
        on_array = not hasattr(self, "feature_names_in_") and all(
            isinstance(k, numbers.Integral) for k in keys
        )
        out, unknown, numeric = [], [], []
        for key in keys:
            name = encoder.columns_[key] if on_array and 0 <= key < len(encoder.columns_) else key
            if name in encoder.categorical_columns_:
                out.append((key, name, encoder.categorical_columns_.index(name)))
            elif name in encoder.numeric_columns_:
                numeric.append(key)
            else:
                unknown.append(key)
        if unknown:
            raise ValueError(
                f"conditions name unknown columns {unknown}; the columns are "
                f"{encoder.columns_ if not on_array else list(range(len(encoder.columns_)))}."
            )
        if numeric:
            raise ValueError(
                f"conditions name numeric columns {numeric}; only discrete columns "
                f"{encoder.categorical_columns_} can be conditioned on (name a column in "
                "discrete_columns to model it as discrete)."
            )
        return out

    def _order_parts(self, parts, keys):
        """Put the rows of each condition group back at their rows of a conditions frame."""
        if keys is None:
            return parts
        group_of = {key: g for g, key in enumerate(dict.fromkeys(keys))}
        position = np.empty(len(keys), dtype=np.int64)
        seen = [0] * len(parts)
        offsets = np.cumsum([0, *[len(p) for p in parts]])
        for row, key in enumerate(keys):
            g = group_of[key]
            position[row] = offsets[g] + seen[g]
            seen[g] += 1
        out = _concat(parts)
        if isinstance(out, pd.DataFrame):
            return [out.iloc[position].reset_index(drop=True)]
        return [out[position]]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # a missing value is modelled, not refused
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.target_tags.required = False
        return tags


def _concat(parts):
    if isinstance(parts[0], pd.DataFrame):
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return np.concatenate(parts)
