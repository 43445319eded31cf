"""The GAN as one ``tf.Module``: both networks, both optimizers, RNG, and the compiled iteration.

One generator iteration is one ``tf.function`` call: ``n_critic`` critic updates, each on a
fresh real batch pulled from the tf.data iterator inside the graph, then ``g_steps``
generator updates. ``n_critic`` is a tensor argument, so the WGAN warm-up schedule changes
the count without retracing.

Objectives: DCGAN (https://arxiv.org/abs/1511.06434, non-saturating loss), WGAN with weight
clipping (https://arxiv.org/abs/1701.07875) and WGAN-GP (https://arxiv.org/abs/1704.00028).

The per-replica step functions run through ``strategy.run`` and average losses over the
global batch, so a ``tf.distribute`` strategy can wrap the same code.
"""

import keras
import tensorflow as tf

from wgan import losses, models
from wgan.optimizers import make_optimizer, scheduled_learning_rate

# Fixed latent vectors per run: a 4 x 16 image grid, or enough points for a toy scatter plot.
NUM_FIXED_IMAGES = 64
NUM_FIXED_POINTS = 512

CRITIC_METRICS = ("critic_loss", "wasserstein", "gradient_penalty", "d_real", "d_fake", "c_grad_norm",
                  "gp_grad_norm")
GENERATOR_METRICS = ("generator_loss", "g_grad_norm")


class GAN(tf.Module):
    """Generator, critic, their optimizers and training state for one run.

    Build it under the strategy scope that will run it (the default strategy otherwise).
    """

    def __init__(self, hp, strategy=None):
        super().__init__(name="gan")
        self.hp = hp
        self.strategy = strategy or tf.distribute.get_strategy()
        self.critic_loss_fn, self.generator_loss_fn = losses.LOSSES[hp.model]
        with self.strategy.scope():
            self.generator = models.make_generator(hp)
            self.critic = models.make_critic(hp)
            self.ema_generator = None
            if hp.ema_decay > 0:
                self.ema_generator = models.make_generator(hp)
                for ema_var, var in zip(self.ema_generator.variables, self.generator.variables):
                    ema_var.assign(var)
            self.g_opt = make_optimizer(hp.g_optimizer, hp.precision)
            self.c_opt = make_optimizer(hp.c_optimizer, hp.precision)
            self.g_opt.build(self.generator.trainable_variables)
            self.c_opt.build(self.critic.trainable_variables)
            # Generator iterations done, and real images the critic has seen (for epochs).
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.images_seen = tf.Variable(0, dtype=tf.int64, trainable=False, name="images_seen")
            self.rng = tf.random.Generator.from_seed(hp.seed)
            # Drawn from a separate stream so the grids compare the same z across the whole run.
            num_fixed = NUM_FIXED_POINTS if hp.data.is_toy else NUM_FIXED_IMAGES
            self.fixed_z = tf.Variable(
                self.latent(tf.random.Generator.from_seed(hp.seed + 1), num_fixed),
                trainable=False, name="fixed_z")
        self.trace_count = 0  # incremented in Python, i.e. once per trace
        self._compiled_iteration = tf.function(self._iteration, jit_compile=hp.jit_compile or None)

    # ----- state -----------------------------------------------------------------------
    def checkpoint(self):
        """A ``tf.train.Checkpoint`` of everything a resume needs."""
        parts = dict(generator=self.generator, critic=self.critic, g_opt=self.g_opt, c_opt=self.c_opt,
                     step=self.step, images_seen=self.images_seen, rng=self.rng, fixed_z=self.fixed_z)
        if self.ema_generator is not None:
            parts["ema_generator"] = self.ema_generator
        return tf.train.Checkpoint(**parts)

    @property
    def sampling_generator(self):
        """The generator to sample from: the moving average when the run keeps one."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def latent(self, rng, n):
        """Latent batch [n, z_dim]: N(0, 1) or U[-1, 1] per ``z_distribution``."""
        shape = [n, self.hp.z_dim]
        if self.hp.z_distribution == "uniform":
            return rng.uniform(shape, -1.0, 1.0)
        return rng.normal(shape)

    @property
    def replica_batch(self):
        return self.hp.batch_size // self.strategy.num_replicas_in_sync

    def _average(self, per_example):
        return tf.nn.compute_average_loss(per_example, global_batch_size=self.hp.batch_size)

    # ----- one update of each network (per replica) --------------------------------------
    def _critic_step(self, real):
        """One critic update on ``real`` [B, H, W, C] in [-1, 1] (or [B, 2]); returns metrics."""
        hp = self.hp
        fake = self.generator(self.latent(self.rng, tf.shape(real)[0]), training=True)
        variables = self.critic.trainable_variables
        with tf.GradientTape() as tape:
            real_scores = self.critic(real, training=True)
            fake_scores = self.critic(fake, training=True)
            loss = self._average(self.critic_loss_fn(real_scores, fake_scores))
            penalty = tf.zeros([])
            gp_norm = tf.zeros([])
            if hp.model == "wgan-gp":
                alpha = self.rng.uniform([tf.shape(real)[0]])
                per_example_penalty, norms = losses.gradient_penalty(self.critic, real, fake, alpha=alpha)
                penalty = self._average(per_example_penalty)
                gp_norm = tf.reduce_mean(norms)
                loss += hp.gp_lambda * penalty
            # Identity except under float16 loss scaling, where apply_gradients unscales.
            scaled = self.c_opt.scale_loss(loss)
        grads = tape.gradient(scaled, variables)
        self.c_opt.apply_gradients(zip(grads, variables))
        if hp.model == "wgan":
            losses.clip_weights(variables, hp.clip_value)
        real_scores = tf.cast(real_scores, tf.float32)
        fake_scores = tf.cast(fake_scores, tf.float32)
        return {
            "critic_loss": loss,
            "wasserstein": losses.wasserstein_estimate(real_scores, fake_scores),
            "gradient_penalty": penalty,
            "d_real": tf.reduce_mean(real_scores),
            "d_fake": tf.reduce_mean(fake_scores),
            "c_grad_norm": tf.linalg.global_norm(grads),
            "gp_grad_norm": gp_norm,
        }

    def _generator_step(self, batch_size):
        """One generator update on a fresh latent batch of ``batch_size``; returns metrics."""
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            fake = self.generator(self.latent(self.rng, batch_size), training=True)
            loss = self._average(self.generator_loss_fn(self.critic(fake, training=True)))
            scaled = self.g_opt.scale_loss(loss)
        grads = tape.gradient(scaled, variables)
        self.g_opt.apply_gradients(zip(grads, variables))
        if self.ema_generator is not None:
            decay = self.hp.ema_decay
            for ema_var, var in zip(self.ema_generator.variables, self.generator.variables):
                # Trainable weights are averaged; batch-norm statistics are copied as they are.
                ema_var.assign(decay * ema_var + (1.0 - decay) * var if var.trainable else var)
        return {"generator_loss": loss, "g_grad_norm": tf.linalg.global_norm(grads)}

    # ----- the compiled iteration --------------------------------------------------------
    def _reduce(self, per_replica):
        return {k: self.strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None) for k, v in per_replica.items()}

    def _iteration(self, iterator, n_critic):
        """``n_critic`` critic updates then ``g_steps`` generator updates; returns float32 scalars."""
        self.trace_count += 1
        hp = self.hp
        c_lr = scheduled_learning_rate(hp.c_optimizer, self.step)
        g_lr = scheduled_learning_rate(hp.g_optimizer, self.step)
        self.c_opt.learning_rate.assign(c_lr)
        self.g_opt.learning_rate.assign(g_lr)

        c_metrics = {k: tf.zeros([]) for k in CRITIC_METRICS}
        for _ in tf.range(n_critic):
            c_metrics = self._reduce(self.strategy.run(self._critic_step, args=(next(iterator),)))
        self.images_seen.assign_add(tf.cast(n_critic, tf.int64) * hp.batch_size)

        g_metrics = {k: tf.zeros([]) for k in GENERATOR_METRICS}
        for _ in tf.range(hp.g_steps):
            g_metrics = self._reduce(self.strategy.run(self._generator_step, args=(self.replica_batch,)))
        self.step.assign_add(1)
        return {**c_metrics, **g_metrics, "lr_critic": c_lr, "lr_generator": g_lr}

    def train_iteration(self, iterator, n_critic):
        """Run one generator iteration; ``iterator`` yields real batches. Returns a dict of scalars."""
        return self._compiled_iteration(iterator, tf.constant(n_critic, tf.int32))

    def sample(self, z, training=False):
        """Images [N, H, W, C] in [-1, 1] (or points [N, 2]) from latent ``z`` [N, z_dim]."""
        return self.sampling_generator(z, training=training)
