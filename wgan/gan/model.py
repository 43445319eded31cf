"""The GAN as one ``tf.Module``: both networks, both optimizers, RNG, and the compiled iteration.

One generator iteration is ``n_critic`` critic updates, each on a fresh real batch pulled
from the tf.data iterator inside the graph, then ``g_steps`` generator updates. The training
loop runs a block of K of them in one ``tf.function`` call (``train_block``, K =
``hp.steps_per_call``): the host then waits for the device once per block, not once per
iteration. ``n_critic`` and K are tensor arguments, so the WGAN warm-up schedule and blocks
cut short change them without retracing. ``train_iteration`` is one iteration alone.

Objectives come from the registry ``wgan.gan.objectives`` (``hp.model``): its entry gives the
critic and generator losses and its default constraint. The constraint (``hp.constraint``,
an entry of ``wgan.gan.constraints``: none, the gradient penalty of WGAN-GP,
https://arxiv.org/abs/1704.00028, the weight clipping of WGAN,
https://arxiv.org/abs/1701.07875, spectral normalization, R1, R2; docs/constraints.md) is
applied generically: its loss term inside the critic update's tape (weighted by its
possibly scheduled weight, lazily every ``constraint_every`` updates), its projection after
each critic update, its wrapper on the built critic. An objective whose generator loss
needs real scores (``generator_needs_real``: rpgan) gets a real batch for each generator update.

Distribution: every update runs through ``strategy.run``, so a ``tf.distribute`` strategy
wraps the same code; the replica arithmetic (batch slices, global-batch averages, metric
shares, batch-norm statistics) lives in ``wgan.gan.distribute``. ``hp.batch_size`` is the global
batch. Noise is drawn statelessly for the whole global batch from seeds the iteration takes
from ``self.rng`` (cross-replica, so every replica and worker gets the same seeds), and each
replica keeps its own rows, so R replicas see exactly the z and alpha one device would see.
Gradients are summed over replicas once, here (``optimizers.all_reduce_gradients``), so that
the logged gradient norms and the float16 overflow check see the global gradient.

Class-conditional runs (``hp.conditional.enabled``, docs/conditional.md): the iterator yields
``(images, labels)``; every generated batch draws its labels in the graph at the training
set's class frequencies (``class_labels``) from its z's seed folded with ``LABEL_SALT``, so
the RNG stream, and so an exact resume, is that of the same run without labels. The critic
scores real images with their own labels and fakes with the labels they were generated for;
a penalty differentiates in the images only (``constraints.Labels``).

With ``hp.jit_compile`` the forward and backward passes of each update are compiled with
XLA; the all-reduce and the optimizer update stay outside the XLA cluster, because a
cross-replica synchronization inside a nested compiled function is not supported by
``MirroredStrategy`` on CPUs.
"""

import keras
import numpy as np
import tensorflow as tf

from wgan import models
from wgan.gan import augment, constraints, distribute, losses, objectives
from wgan.models import prior
from wgan.gan.optimizers import all_reduce_gradients, apply_schedules, make_optimizer

# Fixed latent vectors per run: a 4 x 16 image grid, or enough points for a toy scatter plot.
NUM_FIXED_IMAGES = 64
NUM_FIXED_POINTS = 512

CRITIC_METRICS = ("critic_loss", "wasserstein", "gradient_penalty", "d_real", "d_fake", "c_grad_norm",
                  "gp_grad_norm")
GENERATOR_METRICS = ("generator_loss", "g_grad_norm")
# The critic's input-gradient norm at a few real, generated and interpolated points, measured
# on the critic steps of the iterations the training loop logs (0 on the others), with the
# critic in inference mode so that measuring changes nothing (no power-iteration or
# batch-norm update). The issue every constraint addresses, seen directly: WGAN-GP pulls the
# norm at interpolates to 1, R1 and R2 pull it to 0 at the real or generated points.
PROBE_METRICS = ("c_input_grad_norm/real", "c_input_grad_norm/fake", "c_input_grad_norm/interpolates")
PROBE_EXAMPLES = 4  # per replica: a few examples keep the probe's cost negligible


# Latents for the moving-average generator's batch-norm statistics (one forward pass).
NUM_STATISTICS_SAMPLES = 512
# Folded into a generated batch's z seed for its class labels (augment.Augmenter.draw folds 1-4).
LABEL_SALT = 5


def class_logits(hp):
    """float32 [1, num_classes]: log class frequencies (uniform when missing), the logits generated
    labels are drawn from; None for an unconditional run. A class of frequency 0 gets -inf (never drawn)."""
    if not models.takes_labels(hp):
        return None
    freq = np.asarray(hp.conditional.class_frequencies or [1.0] * hp.conditional.num_classes, np.float64)
    with np.errstate(divide="ignore"):
        return tf.constant(np.log(freq / freq.sum())[None, :], tf.float32)


def class_labels(logits, n, seed):
    """Class labels int32 [n] from ``logits`` [1, C] (``class_logits``) and the int seed [2] of the
    batch's z, folded with ``LABEL_SALT``; None when ``logits`` is None (an unconditional run)."""
    if logits is None:
        return None
    seed = tf.random.experimental.stateless_fold_in(seed, LABEL_SALT)
    return tf.cast(tf.random.stateless_categorical(logits, n, seed)[0], tf.int32)


def split_batch(batch):
    """``(images, labels)`` of one real batch: ``(images, labels)`` as the iterator yields it for a
    conditional run, or images alone, whose labels are None."""
    if isinstance(batch, (tuple, list)):
        return batch[0], batch[1]
    return batch, None


def ema_decay(hp, updates):
    """The moving average's decay (float32 scalar) at generator update ``updates`` (int tensor, from 1).

    Its half-life, ln(0.5) / ln(ema_decay) updates at most, grows as ``ema_rampup`` times
    the updates done (StyleGAN2-ADA's ramp-up, Karras et al. 2020), so that early in a run
    the average spans the recent weights only, not weights the generator has long left
    behind. With ``ema_rampup`` 0 the decay is ``ema_decay`` from the first update.
    """
    decay = tf.constant(hp.ema_decay, tf.float32)
    if hp.ema_rampup <= 0 or hp.ema_decay <= 0:
        return decay
    half_life = tf.math.log(0.5) / tf.math.log(decay)
    ramped = tf.minimum(half_life, hp.ema_rampup * tf.cast(updates, tf.float32))
    return tf.pow(0.5, 1.0 / tf.maximum(ramped, 1e-6))


def mixture_centres(hp):
    """The latent mixture's centres as a float32 tensor [z_components, z_dim], or None for another prior."""
    return tf.constant(prior.mixture_centres(hp.z_dim, hp.z_components)) if hp.z_distribution == "mixture" else None


def stateless_latent(hp, n, seed, centres=None):
    """Latent batch float32 [n, z_dim] of the run's prior (``wgan.models.prior``) from the int seed [2]:
    N(0, 1), U[-1, 1], or a Gaussian of ``hp.z_component_std`` around one of ``centres``
    (``mixture_centres(hp)``), each drawn with probability 1 / ``hp.z_components``."""
    shape = [n, hp.z_dim]
    if hp.z_distribution == "uniform":
        return tf.random.stateless_uniform(shape, seed, -1.0, 1.0)
    if hp.z_distribution == "mixture":
        noise_seed, component_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        component = tf.random.stateless_uniform([n], component_seed, 0, hp.z_components, dtype=tf.int32)
        return tf.gather(centres, component) + hp.z_component_std * tf.random.stateless_normal(shape, noise_seed)
    return tf.random.stateless_normal(shape, seed)


def top_k_fraction(hp, step):
    """The fraction of a generator batch its update keeps (float32 scalar in (0, 1]) at generator
    iteration ``step`` (int tensor, from 0): 1 falling linearly to ``hp.top_k`` over
    ``hp.top_k_rampup`` iterations, then ``hp.top_k`` (Sinha et al. 2020 anneal k by 0.99 an
    epoch; a ramp in iterations does not depend on the data set's size)."""
    final = tf.constant(hp.top_k, tf.float32)
    if hp.top_k_rampup <= 0:
        return final
    progress = tf.minimum(tf.cast(step, tf.float32) / float(hp.top_k_rampup), 1.0)
    return 1.0 - (1.0 - final) * progress


def _counted_loop(count, body, names, go_on=None):
    """Run ``body(done, metrics) -> (done + 1, metrics)`` ``count`` times (an int32 scalar tensor) in a
    ``tf.while_loop``, stopping early once ``go_on()`` (a bool scalar read before each pass) is false.
    ``metrics``: {name: float32 scalar} with the keys ``names``, zeros before the first pass; returns
    the last pass's."""
    def more(done, metrics):
        return done < count if go_on is None else tf.logical_and(done < count, go_on())

    zeros = {name: tf.zeros([]) for name in names}
    _, metrics = tf.while_loop(more, lambda done, metrics: body(done, {k: metrics[k] for k in names}),
                               (tf.constant(0), zeros))
    return metrics


def _all_layers(model):
    """Every layer of a Keras model, nested models and sublayers (the batch norm inside a
    class-conditional one, ``wgan.models.conditional``) included."""
    yield from model._flatten_layers(include_self=False, recursive=True)


class GAN(tf.Module):
    """Generator, critic, their optimizers and training state for one run.

    Build it under the strategy that will run it (``strategy``; the current one otherwise).
    """

    def __init__(self, hp, strategy=None):
        super().__init__(name="gan")
        self.hp = hp
        self.strategy = strategy or tf.distribute.get_strategy()
        self.replica_batch = distribute.replica_batch(self.strategy, hp.batch_size)
        distribute.check_jit_sync_batch_norm(self.strategy, hp.architecture, hp.jit_compile)
        self.objective = objectives.of_run(hp)
        self.critic_loss_fn, self.generator_loss_fn = self.objective.critic_loss, self.objective.generator_loss
        self.constraint = self.objective.constraint_entry
        # Generator iterations done, and real images the critic has seen (for epochs). Plain
        # variables outside the strategy: only cross-replica code updates them, identically
        # on every worker, and the training loop reads them with int().
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.images_seen = tf.Variable(0, dtype=tf.int64, trainable=False, name="images_seen")
        # Differentiable augmentation of every critic input (wgan.gan.augment), None when off.
        self.augmenter = augment.Augmenter(hp) if augment.ops_of(hp) else None
        with self.strategy.scope():
            self.generator = models.make_generator(hp)
            self.critic = self.constraint.prepare_critic(models.make_critic(hp), hp)
            self.ema_generator = None
            if hp.ema_decay > 0:
                self.ema_generator = models.make_generator(hp)
                for ema_var, var in zip(self.ema_generator.variables, self.generator.variables):
                    ema_var.assign(var)
            self.g_opt = make_optimizer(hp.g_optimizer, hp.precision)
            self.c_opt = make_optimizer(hp.c_optimizer, hp.precision)
            self.g_opt.build(self.generator.trainable_variables)
            self.c_opt.build(self.critic.trainable_variables)
            self._mixture_centres = mixture_centres(hp)
            self._class_logits = class_logits(hp)
            # Only ever advanced in cross-replica context, so every replica gets the same seeds.
            self.rng = tf.random.Generator.from_seed(hp.seed)
            # Drawn from a separate stream so the grids compare the same z across the whole run.
            num_fixed = NUM_FIXED_POINTS if hp.data.is_toy else NUM_FIXED_IMAGES
            self.fixed_z = tf.Variable(
                self.latent(tf.random.Generator.from_seed(hp.seed + 1), num_fixed),
                trainable=False, name="fixed_z")
        self._statistics = distribute.ReplicaStatistics(self.strategy, (self.generator, self.critic),
                                                        hp.architecture.sync_batch_norm)
        # The moving average's batch-norm layers, traced once with momentum 0 (see refresh_ema_statistics).
        self._ema_norm_layers = [] if self.ema_generator is None else [
            layer for layer in _all_layers(self.ema_generator) if isinstance(layer, keras.layers.BatchNormalization)]
        for layer in self._ema_norm_layers:
            layer.momentum = 0.0
        self._statistics_rows = max(NUM_STATISTICS_SAMPLES, hp.batch_size)
        self._ema_statistics_step = 0  # at step 0 the average is a copy of the generator, statistics included
        self._ema_statistics_fn = tf.function(self._ema_statistics_pass)
        # Per-layer critic gradient norms, logged for every run: weight clipping makes them explode
        # or vanish from layer to layer (WGAN-GP paper, Figure 1b); a penalty keeps them level.
        self._critic_kernels = [(index, f"c_layer_grad_norm/{v.path.rsplit('/', 1)[0]}")
                                for index, v in enumerate(self.critic.trainable_variables)
                                if v.path.endswith("kernel")]
        # The scalars one iteration returns, in a fixed order (the block's bad-step record keeps them so).
        self.metric_names = (self._critic_metric_names() + GENERATOR_METRICS + ("lr_critic", "lr_generator")
                             + (self.augmenter.logged_names if self.augmenter is not None else ())
                             + (("top_k_fraction",) if hp.top_k < 1 else ())
                             + (("loss_scale",) if self._loss_scale(self.c_opt) is not None else ()))
        # The first step whose metrics were not all finite (-1: none yet) and those metrics, kept on
        # the device by train_block so that the host reads them only when it looks. Not checkpointed:
        # a run never saves past a bad step, so a restored run always starts clean.
        self.first_bad_step = tf.Variable(-1, dtype=tf.int64, trainable=False, name="first_bad_step")
        self._bad_values = tf.Variable(tf.zeros([len(self.metric_names)]), trainable=False, name="bad_values")
        self.trace_count = 0  # incremented in Python, i.e. once per trace
        # No autograph: the loops are written as tf.while_loop and the branches as tf.cond, so nothing
        # needs converting. Converting the hundred-odd functions an iteration calls took 5 of the 7
        # seconds it took to trace the toy MLP's block on the 2-core Xeon, in every new process.
        compile_update = ((lambda fn: tf.function(fn, jit_compile=True, autograph=False)) if hp.jit_compile
                          else (lambda fn: fn))
        self._critic_gradients_fn = compile_update(self._critic_gradients)
        self._generator_gradients_fn = compile_update(self._generator_gradients)
        self._compiled_iteration = tf.function(self._iteration, autograph=False)
        self._compiled_block = tf.function(self._block, autograph=False)
        self._constants = {}  # int32 scalars the loop passes every call, made once

    # ----- state -----------------------------------------------------------------------
    def checkpoint(self):
        """A ``tf.train.Checkpoint`` of everything a resume needs."""
        parts = dict(generator=self.generator, critic=self.critic, g_opt=self.g_opt, c_opt=self.c_opt,
                     step=self.step, images_seen=self.images_seen, rng=self.rng, fixed_z=self.fixed_z)
        if self.ema_generator is not None:
            parts["ema_generator"] = self.ema_generator
        if self.augmenter is not None:
            parts.update(self.augmenter.trackables())
        return tf.train.Checkpoint(**parts)

    @property
    def sampling_generator(self):
        """The generator to sample from: the moving average when the run keeps one, with its own statistics."""
        if self.ema_generator is None:
            return self.generator
        self.refresh_ema_statistics()
        return self.ema_generator

    def refresh_ema_statistics(self):
        """Give the moving-average generator the batch-norm statistics of its own weights.

        Its weights are an average the live generator never had, so the live generator's
        moving statistics do not fit them. One forward pass in training mode over
        ``NUM_STATISTICS_SAMPLES`` latents from a stream of their own, with every batch-norm
        momentum at 0, sets each moving mean and variance to that batch's statistics
        ("standing statistics", Brock et al. 2019). Cheap (one generator forward pass), and
        done at most once per step: before sampling, evaluating and saving.
        """
        if self.ema_generator is None or not self._ema_norm_layers:
            return
        step = int(self.step)
        if self._ema_statistics_step == step:
            return
        seed = tf.constant([self.hp.seed, step], tf.int64) + [0, 2**40]
        z = self.stateless_latent(self._statistics_rows, seed)
        self._ema_statistics_fn(z, self.class_labels(self._statistics_rows, seed))
        self._ema_statistics_step = step

    def _ema_statistics_pass(self, z, labels=None):
        # Every replica gets the same z (and labels), so every replica's statistics come out equal.
        self.strategy.run(lambda latent, y: self.ema_generator(models.generator_inputs(self.hp, latent, y),
                                                                training=True), args=(z, labels))

    def latent(self, rng, n):
        """Latent batch [n, z_dim] from the ``tf.random.Generator`` ``rng``: the run's prior (``wgan.models.prior``)."""
        shape = [n, self.hp.z_dim]
        if self.hp.z_distribution == "uniform":
            return rng.uniform(shape, -1.0, 1.0)
        if self.hp.z_distribution == "mixture":
            return self.stateless_latent(n, rng.make_seeds(1)[:, 0])
        return rng.normal(shape)

    def stateless_latent(self, n, seed):
        """Latent batch float32 [n, z_dim] from the int seed [2]: the run's prior (``stateless_latent``)."""
        return stateless_latent(self.hp, n, seed, self._mixture_centres)

    def class_labels(self, n, seed):
        """Generated batch labels int32 [n] for the z drawn from the int seed [2] (``class_labels``),
        or None for an unconditional run."""
        return class_labels(self._class_logits, n, seed)

    def _replica_rows(self, global_draw):
        """This replica's rows of a [batch_size, ...] draw (``distribute.replica_rows``); None stays None."""
        if global_draw is None:
            return None
        return distribute.replica_rows(global_draw, self.replica_batch)

    def _penalty_labels(self, real_labels, fake_labels):
        """``constraints.Labels`` for a conditional critic's penalty, None for an unconditional one."""
        return None if real_labels is None else constraints.Labels(real_labels, fake_labels)

    def _average(self, per_example):
        """This replica's share of the global-batch mean of per-example float32 values [b]."""
        return distribute.global_mean(per_example, self.hp.batch_size)

    @staticmethod
    def _loss_scale(optimizer):
        """The dynamic loss scale (float32 scalar) under float16, else None."""
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            return tf.convert_to_tensor(optimizer.dynamic_scale)
        return None

    def _gradient_norm(self, optimizer, grads):
        """Global norm of the summed, unscaled gradient that the optimizer applies.

        Under float16 the gradients carry the loss scale, which is divided out; an update
        the ``LossScaleOptimizer`` skips because the scaled gradient overflowed applies
        nothing and reports 0 (a skipped update is routine there, not a divergence, and
        must not trip the training loop's NaN check).
        """
        norm = tf.linalg.global_norm(grads)
        scale = self._loss_scale(optimizer)
        if scale is None:
            return norm
        norm = norm / scale
        return tf.where(tf.math.is_finite(norm), norm, tf.zeros_like(norm))

    # ----- forward and backward passes (per replica; XLA-compiled with jit_compile) ------
    def _critic_gradients(self, real, z, alpha, penalty_weight=None, probe=None, augmentation=None,
                          real_labels=None, fake_labels=None):
        """Critic gradients on ``real`` [b, H, W, C] in [-1, 1] (or [b, 2]) and metric shares.

        ``z``: latent [b, z_dim] for the fakes; ``alpha``: [b] uniform draws in [0, 1] for
        the constraint's loss term (the gradient penalty's interpolation weights). The
        gradients are this replica's part of the global-batch loss gradient (times the
        float16 loss scale). A constraint's loss term is logged as ``gradient_penalty`` and
        its per-example gradient norms as ``gp_grad_norm`` (0 without one).
        ``penalty_weight``: the loss term's weight now (float32 scalar; by default the
        constraint's ``weight`` at the current step); ``probe``: bool scalar, whether to
        measure ``PROBE_METRICS`` (None: not at all), on the images the critic saw.
        ``augmentation``: {"real": draws, "fake": draws} (``augment.draw``) or None: the critic,
        and the constraint, see the augmented images.
        ``real_labels``, ``fake_labels``: int32 [b] for a conditional run (the real images' own,
        the ones the fakes are generated for), else None.
        """
        hp = self.hp
        fake = self.generator(models.generator_inputs(hp, z, fake_labels), training=True)
        if augmentation is not None:
            real = self.augmenter(real, augmentation["real"])
            fake = self.augmenter(fake, augmentation["fake"])
        variables = self.critic.trainable_variables
        with tf.GradientTape() as tape:
            real_scores = self.critic(models.critic_inputs(hp, real, real_labels), training=True)
            fake_scores = self.critic(models.critic_inputs(hp, fake, fake_labels), training=True)
            loss = self._average(self.critic_loss_fn(real_scores, fake_scores))
            penalty = tf.zeros([])
            gp_norm = tf.zeros([])
            if self.constraint.penalizes:
                # Inside the tape: the outer gradient differentiates the term (second order).
                per_example_penalty, norms = self.constraint.loss_term(
                    self.critic, real, fake, alpha, loss_scale=self._loss_scale(self.c_opt),
                    update=self.c_opt.iterations, every=hp.constraint_every,
                    labels=self._penalty_labels(real_labels, fake_labels))
                penalty = self._average(per_example_penalty)
                gp_norm = self._average(norms)
                if penalty_weight is None:
                    penalty_weight = self.constraint.weight(hp, self.step)
                loss += penalty_weight * penalty
            # Identity except under float16 loss scaling, where apply_gradients unscales.
            scaled = self.c_opt.scale_loss(loss)
        grads = tape.gradient(scaled, variables)
        real_scores = tf.reshape(tf.cast(real_scores, tf.float32), [-1])
        fake_scores = tf.reshape(tf.cast(fake_scores, tf.float32), [-1])
        metrics = {
            "critic_loss": loss,
            "wasserstein": self._average(real_scores) - self._average(fake_scores),
            "gradient_penalty": penalty,
            "d_real": self._average(real_scores),
            "d_fake": self._average(fake_scores),
            "gp_grad_norm": gp_norm,
        }
        if probe is not None:
            metrics.update(self._input_gradient_probe(real, fake, alpha, probe,
                                                      self._penalty_labels(real_labels, fake_labels)))
        if self.augmenter is not None:
            metrics["augment/rt"] = self._average(self.augmenter.rt(real_scores, fake_scores))
        return grads, metrics

    def _input_gradient_probe(self, real, fake, alpha, now, labels=None):
        """``PROBE_METRICS`` shares: the mean input-gradient norm at the first ``PROBE_EXAMPLES`` real,
        fake and interpolated points of this replica when ``now`` (bool scalar), else zeros.
        ``labels``: ``constraints.Labels`` of a conditional critic (interpolates take the real ones,
        as in the gradient penalty), else None."""
        def measure():
            rows = min(PROBE_EXAMPLES, self.replica_batch)
            few_real, few_fake = real[:rows], tf.stop_gradient(fake[:rows])
            points = (few_real, few_fake, constraints.interpolate(few_real, few_fake, alpha[:rows]))
            at = (None,) * 3 if labels is None else (labels.real[:rows], labels.fake[:rows], labels.real[:rows])
            scale = self._loss_scale(self.c_opt)
            return tuple(tf.reduce_mean(constraints.reported_norms(constraints.squared_norms(
                constraints.input_gradients(self.critic, x, training=False, loss_scale=scale, labels=y)), 0.0))
                for x, y in zip(points, at))

        values = tf.cond(now, measure, lambda: (tf.zeros([]),) * len(PROBE_METRICS))
        return {name: distribute.replica_share(value) for name, value in zip(PROBE_METRICS, values)}

    def _generator_gradients(self, z, keep, real=None, augmentation=None, labels=None, real_labels=None):
        """Generator gradients on latent ``z`` [b, z_dim], and the loss share.

        ``keep`` (float32 scalar in (0, 1]): with top-k training (``hp.top_k`` < 1) the loss
        is the mean over the ``ceil(keep * b)`` fakes the critic scores highest on each replica.
        ``real`` [b, ...]: the real batch a relativistic generator loss pairs the fakes with
        (``generator_needs_real``), else None.
        ``augmentation``: {"real": draws, "fake": draws} (``augment.draw``) or None: the critic sees
        the fakes (and the paired real batch) augmented, as in its own update, and the gradient
        flows back through the augmentation.
        ``labels``: int32 [b], the classes the fakes are generated for, and ``real_labels`` the
        paired real batch's own (conditional runs), else None.
        """
        hp = self.hp
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            fake = self.generator(models.generator_inputs(hp, z, labels), training=True)
            if augmentation is not None:
                fake = self.augmenter(fake, augmentation["fake"])
                if real is not None:
                    real = self.augmenter(real, augmentation["real"])
            scores = self.critic(models.critic_inputs(hp, fake, labels), training=True)
            if real is None:
                per_example = self.generator_loss_fn(scores)
            else:
                per_example = self.generator_loss_fn(
                    scores, self.critic(models.critic_inputs(hp, real, real_labels), training=True))
            if self.hp.top_k < 1:
                # Weighted so the global-batch average is the mean over the kept fakes.
                per_example *= losses.top_k_weights(scores, keep)
            loss = self._average(per_example)
            scaled = self.g_opt.scale_loss(loss)
        return tape.gradient(scaled, variables), {"generator_loss": loss}

    # ----- one update of each network (per replica) --------------------------------------
    def _critic_step(self, real, seeds, last):
        """One critic update on this replica's ``real`` batch; returns metric shares.

        ``last``: bool scalar, whether it is the iteration's last critic update (the one whose
        metrics the iteration returns, so the only one a log step needs the probe of).

        ``seeds``: int64 [2, 2], column 0 for z and column 1 for the constraint's alpha. Noise
        is drawn here, outside the XLA-compiled part: XLA's stateless generators may use
        another algorithm than TensorFlow's kernels, and the noise must not depend on jit_compile.
        """
        variables = self.critic.trainable_variables
        real, real_labels = split_batch(real)
        z = self._replica_rows(self.stateless_latent(self.hp.batch_size, seeds[:, 0]))
        fake_labels = self._replica_rows(self.class_labels(self.hp.batch_size, seeds[:, 0]))
        alpha = self._replica_rows(tf.random.stateless_uniform([self.hp.batch_size], seeds[:, 1]))
        augmentation = None
        if self.augmenter is not None:  # folded from z's seed: the RNG stream is that of a run without augmentation
            augmentation = {side: tf.nest.map_structure(self._replica_rows,
                                                        self.augmenter.draw(seeds[:, 0], self.hp.batch_size, salt))
                            for side, salt in (("real", 1), ("fake", 2))}
        # Read here, outside the XLA cluster: the step counter is not a per-replica variable.
        weight = self.constraint.weight(self.hp, self.step) if self.constraint.penalizes else tf.zeros([])
        # Only where it is logged: the last critic update of an iteration that ends on a log step.
        probe = tf.logical_and(last, tf.equal(tf.math.floormod(self.step + 1, self.hp.log_every), 0))
        grads, metrics = self._critic_gradients_fn(real, z, alpha, weight, probe, augmentation, real_labels,
                                                   fake_labels)
        grads = all_reduce_gradients(grads)
        metrics["c_grad_norm"] = distribute.replica_share(self._gradient_norm(self.c_opt, grads))
        for index, name in self._critic_kernels:
            metrics[name] = distribute.replica_share(self._gradient_norm(self.c_opt, [grads[index]]))
        self.c_opt.apply_gradients(zip(grads, variables))
        # The constraint's projection (weight clipping), per replica: every replica applied the
        # same summed gradient to the same weights, so the copies are equal and an elementwise
        # projection keeps them equal, with no cross-replica synchronization.
        self.constraint.after_update(variables, self.hp)
        self._statistics.average()
        return metrics

    def _generator_step(self, seed, keep, real=None):
        """One generator update on a fresh latent batch, keeping the ``keep`` fraction of it
        (top-k training), paired with the ``real`` batch for a relativistic loss; returns metric shares."""
        variables = self.generator.trainable_variables
        real, real_labels = split_batch(real) if real is not None else (None, None)
        z = self._replica_rows(self.stateless_latent(self.hp.batch_size, seed))
        labels = self._replica_rows(self.class_labels(self.hp.batch_size, seed))
        augmentation = None
        if self.augmenter is not None:
            sides = (("fake", 3), ("real", 4)) if real is not None else (("fake", 3),)
            augmentation = {side: tf.nest.map_structure(self._replica_rows,
                                                        self.augmenter.draw(seed, self.hp.batch_size, salt))
                            for side, salt in sides}
        grads, metrics = self._generator_gradients_fn(z, keep, real, augmentation, labels, real_labels)
        grads = all_reduce_gradients(grads)
        metrics["g_grad_norm"] = distribute.replica_share(self._gradient_norm(self.g_opt, grads))
        self.g_opt.apply_gradients(zip(grads, variables))
        self._statistics.average()
        if self.ema_generator is not None:
            decay = ema_decay(self.hp, self.step + 1)
            # Per replica, like clipping: equal weights in, equal averages out. Only the
            # trainable weights are averaged: batch-norm statistics of the live generator do
            # not belong to the averaged weights, and are recomputed for them instead
            # (``refresh_ema_statistics``).
            for ema_var, var in zip(self.ema_generator.trainable_variables, self.generator.trainable_variables):
                ema_var.assign(decay * ema_var + (1.0 - decay) * var)
        return metrics

    # ----- the compiled iteration --------------------------------------------------------
    def _iteration(self, iterator, n_critic):
        """One generator iteration traced alone (``train_iteration``)."""
        self.trace_count += 1
        return self._iteration_body(iterator, n_critic)

    def _iteration_body(self, iterator, n_critic):
        """``n_critic`` critic updates then ``g_steps`` generator updates; returns float32 scalars
        {name: value} with the keys of ``metric_names``."""
        hp = self.hp
        c_lr = apply_schedules(self.c_opt, hp.c_optimizer, self.step, hp.train_steps)
        g_lr = apply_schedules(self.g_opt, hp.g_optimizer, self.step, hp.train_steps)

        def critic_update(update, metrics):
            seeds = self.rng.make_seeds(2)  # int64 [2, 2]: z and alpha
            last = tf.equal(update, n_critic - 1)
            per_replica = self.strategy.run(self._critic_step, args=(next(iterator), seeds, last))
            metrics = distribute.sum_shares(self.strategy, per_replica)
            if self.augmenter is not None:
                self.augmenter.after_critic_step(metrics["augment/rt"])
            return update + 1, metrics

        c_metrics = _counted_loop(n_critic, critic_update, self._critic_metric_names())
        self.images_seen.assign_add(tf.cast(n_critic, tf.int64) * hp.batch_size)

        keep = top_k_fraction(hp, self.step)

        def generator_update(update, metrics):
            seed = self.rng.make_seeds(1)[:, 0]
            # A relativistic generator loss pairs the fakes with a real batch of its own.
            real = next(iterator) if self.objective.generator_needs_real else None
            metrics = distribute.sum_shares(self.strategy,
                                            self.strategy.run(self._generator_step, args=(seed, keep, real)))
            return update + 1, metrics

        g_metrics = _counted_loop(tf.constant(hp.g_steps), generator_update, GENERATOR_METRICS)
        if self.objective.generator_needs_real:
            # Counted so that a resumed run skips these batches too (loop.train's skip_batches).
            self.images_seen.assign_add(hp.g_steps * hp.batch_size)
        self.step.assign_add(1)
        metrics = {**c_metrics, **g_metrics, "lr_critic": c_lr, "lr_generator": g_lr}
        if self.augmenter is not None:
            metrics.update(self.augmenter.after_iteration(self.step))
        if hp.top_k < 1:
            metrics["top_k_fraction"] = keep
        if self._loss_scale(self.c_opt) is not None:
            # float16: the critic's dynamic loss scale (halves on overflow, doubles after 2,000 clean steps).
            metrics["loss_scale"] = tf.convert_to_tensor(self.c_opt.dynamic_scale)
        assert tuple(metrics) == self.metric_names, (tuple(metrics), self.metric_names)  # at trace time
        return {name: tf.cast(value, tf.float32) for name, value in metrics.items()}

    def _block(self, iterator, iterations, n_critic):
        """``iterations`` generator iterations of ``n_critic`` critic updates each, in one graph.

        Returns the float32 scalars of the last iteration run. After each iteration a
        non-finite metric records that step and its metrics once (``first_bad_step``,
        ``_bad_values``); from then on no iteration runs, in this block or a later one, so
        that the weights and the step stay where the run went bad and the host can read
        the flag whenever it next looks (``first_bad``).
        """
        self.trace_count += 1

        def iteration(done, metrics):
            metrics = self._iteration_body(iterator, n_critic)
            values = tf.stack([metrics[name] for name in self.metric_names])

            def record_bad_step():
                self.first_bad_step.assign(self.step)
                self._bad_values.assign(values)

            tf.cond(tf.reduce_all(tf.math.is_finite(values)), lambda: None, record_bad_step)
            return done + 1, metrics

        return _counted_loop(iterations, iteration, self.metric_names, go_on=lambda: self.first_bad_step < 0)

    def _critic_metric_names(self):
        """The names of the critic update's metrics: fixed ones, per-layer gradient norms, augmentation's r_t."""
        names = CRITIC_METRICS + PROBE_METRICS + tuple(name for _, name in self._critic_kernels)
        return names + (("augment/rt",) if self.augmenter is not None else ())

    def _constant(self, value):
        if value not in self._constants:
            self._constants[value] = tf.constant(value, tf.int32)
        return self._constants[value]

    def train_iteration(self, iterator, n_critic):
        """Run one generator iteration; ``iterator`` yields real batches (distributed under a
        strategy, see ``inputs.distribute``). Returns a dict of float32 scalars."""
        return self._compiled_iteration(iterator, self._constant(n_critic))

    def train_block(self, iterator, iterations, n_critic):
        """Run ``iterations`` (K >= 1) generator iterations of ``n_critic`` critic updates each in
        one call, the weights and ``step`` advancing as K calls of ``train_iteration`` would.

        Returns the float32 scalars of the block's last iteration as device tensors: nothing
        waits for the device until they are read. A non-finite metric stops the run's
        iterations on the device at that step (``first_bad``); the host holds the step count.
        """
        return self._compiled_block(iterator, self._constant(iterations), self._constant(n_critic))

    def first_bad(self):
        """``None`` while every iteration's metrics were finite, else ``(step, {name: float})``: the
        first step (``gan.step`` after it) that produced a NaN or Inf, and all its metrics. One read
        from the device."""
        step = int(self.first_bad_step)
        if step < 0:
            return None
        return step, dict(zip(self.metric_names, (float(v) for v in self._bad_values.numpy())))

    def sample(self, z, training=False, labels=None, seed=0):
        """Images [N, H, W, C] in [-1, 1] (or points [N, 2]) from latent ``z`` [N, z_dim]; a conditional
        run's classes are ``labels`` (int32 [N]) or drawn by ``prior.labels(hp, N, seed)``."""
        # As tensors: Keras refuses a list that mixes tensors and NumPy arrays.
        inputs = tf.nest.map_structure(tf.convert_to_tensor, models.generator_inputs(self.hp, z, labels, seed))
        return self.sampling_generator(inputs, training=training)
