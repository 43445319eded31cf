"""What is trained: the GAN model and everything its compiled iteration is made of.

* ``model``: the ``GAN`` tf.Module (both networks, optimizers, RNG, the compiled iteration);
* ``objectives``: the objective registry (``hp.model`` -> losses and default constraint);
* ``losses``: the loss pairs as pure per-example functions;
* ``optimizers``: optimizers and learning-rate schedules;
* ``distribute``: tf.distribute strategies and the replica arithmetic;
* ``strategy_names``: the strategy names, without TensorFlow (for fast ``--help``).

This file imports nothing, so that ``wgan.config`` can read the registries before
TensorFlow starts.
"""
