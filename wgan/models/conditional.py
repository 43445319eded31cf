"""Class-conditional layers, and the one helper every architecture builds its conditional networks with.

With ``hp.conditional.enabled`` the generator takes ``[z, labels]`` and the critic ``[x, labels]``
(labels int32 [B] in [0, num_classes)); without it nothing here adds a layer, so unconditional
networks, their layer names and their checkpoints stay as they were. How a label enters:

* generator, every batch-normalized layer: **class-conditional batch norm**
  (``ConditionalBatchNormalization``): batch norm without its own scale and offset, then a
  gain and a bias per class and channel, looked up by the label (de Vries et al. 2017,
  "Modulating early visual processing by language", https://arxiv.org/abs/1707.00683;
  Dumoulin et al. 2017, https://arxiv.org/abs/1610.07629; the generator of Miyato & Koyama
  2018). Gains start at 1 and biases at 0, so at initialization it is plain batch norm.
* generator without batch norm (``g_norm`` "none" or "layer", e.g. the MLP): a learned label
  embedding of ``z_dim`` numbers concatenated with z (Mirza & Osindero 2014,
  https://arxiv.org/abs/1411.1784).
* critic: the **projection** term of Miyato & Koyama 2018, "cGANs with Projection
  Discriminator", https://arxiv.org/abs/1802.05637, eq. (3):
  ``f(x, y) = w . phi(x) + b + embed(y) . phi(x)``, phi(x) [B, F] the critic's last features
  before its output layer (``ClassProjection``). The critic's own normalization is left
  unconditional.

Layers compute in ``hp.precision`` (a per-layer dtype policy) like the rest of the network; the
projection, like the critic's score, runs in float32, so both networks' outputs stay float32.
"""

from dataclasses import dataclass

import keras
from keras import ops

from wgan.errors import ConfigError
from wgan.models.layers import kernel_initializer, normalize as plain_normalize

LABELS_INPUT = "labels"


@keras.saving.register_keras_serializable(package="wgan")
class ConditionalBatchNormalization(keras.layers.Layer):
    """Batch norm whose scale and offset are chosen by the class label.

    Call it on ``[x, labels]``: x [B, F] or [B, H, W, C] (channels last, C = F for flat
    features), labels int [B] in [0, num_classes). Returns ``gain[y] * BN(x) + bias[y]`` with
    x's shape, where BN normalizes over every axis but the last (batch statistics in
    training, the moving ones in inference; ``momentum``, ``epsilon``, ``synchronized`` as
    ``keras.layers.BatchNormalization``, held in the sublayer ``batch_norm``), and ``gain``
    and ``bias`` are float32 [num_classes, C] tables initialised to ones and zeros.
    """

    def __init__(self, num_classes, momentum=0.99, epsilon=1e-3, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.momentum, self.epsilon, self.synchronized = float(momentum), float(epsilon), bool(synchronized)
        # No affine of its own: the per-class gain and bias take its place.
        self.batch_norm = keras.layers.BatchNormalization(
            momentum=momentum, epsilon=epsilon, synchronized=synchronized, center=False, scale=False,
            dtype=self.dtype_policy, name="batch_norm")

    def build(self, input_shape):
        x_shape = tuple(input_shape[0])
        channels = x_shape[-1]
        self.batch_norm.build(x_shape)
        self.class_gain = self.add_weight(shape=(self.num_classes, channels), initializer="ones", name="class_gain")
        self.class_bias = self.add_weight(shape=(self.num_classes, channels), initializer="zeros", name="class_bias")

    def call(self, inputs, training=None):
        x, labels = inputs
        normalized = self.batch_norm(x, training=training)
        labels = ops.cast(labels, "int32")
        # [B, C] -> [B, 1, ..., 1, C]: one gain and bias per example and channel.
        shape = [-1] + [1] * (len(x.shape) - 2) + [x.shape[-1]]
        gain = ops.reshape(ops.cast(ops.take(self.class_gain, labels, axis=0), normalized.dtype), shape)
        bias = ops.reshape(ops.cast(ops.take(self.class_bias, labels, axis=0), normalized.dtype), shape)
        return normalized * gain + bias

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "momentum": self.momentum,
                "epsilon": self.epsilon, "synchronized": self.synchronized}


@keras.saving.register_keras_serializable(package="wgan")
class ClassProjection(keras.layers.Layer):
    """The projection discriminator's class term: ``embed(y) . phi(x)``.

    Call it on ``[features, labels]``: features phi(x) [B, F] (any float dtype), labels int
    [B] in [0, num_classes). Returns float32 [B, 1], ``sum_f V[y, f] * phi(x)_f`` with the
    embedding table V float32 [num_classes, F] (its variable is ``embeddings``, not
    ``kernel``: spectral normalization and the per-layer gradient norms look for kernels only).
    """

    def __init__(self, num_classes, embeddings_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)

    def build(self, input_shape):
        features = tuple(input_shape[0])[-1]
        self.embeddings = self.add_weight(shape=(self.num_classes, features), initializer=self.embeddings_initializer,
                                          name="embeddings")

    def call(self, inputs):
        features, labels = inputs
        embedded = ops.take(self.embeddings, ops.cast(labels, "int32"), axis=0)
        features = ops.cast(features, embedded.dtype)
        return ops.sum(embedded * features, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 1)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer)}


# ----- what the architecture modules call --------------------------------------------------
@dataclass(frozen=True)
class Condition:
    """What a conditional network's layers read: the labels input (int32 [B] ``keras.Input``) and
    the number of classes. Architecture code passes it around as None when unconditional."""

    labels: object
    num_classes: int


def _condition(hp):
    if hp.conditional.num_classes < 1:
        raise ConfigError("key 'conditional.enabled' is true but 'conditional.class_names' is empty; a run fills "
                          "it from its records when it starts (wgan.train.launch.with_classes)")
    return Condition(keras.Input((), dtype="int32", name=LABELS_INPUT), hp.conditional.num_classes)


def generator_head(hp):
    """The generator's inputs and the tensor its first layer reads: ``(inputs, x, condition)``.

    Unconditional: ``(z, z, None)``, z a float32 [B, z_dim] ``keras.Input`` named "z".
    Conditional: inputs ``[z, labels]`` (labels int32 [B], ``condition.labels``); x is z itself
    when the generator batch-normalizes (the labels enter through ``normalize``), else z
    concatenated with a label embedding, [B, 2 z_dim].
    """
    z = keras.Input((hp.z_dim,), dtype="float32", name="z")
    if not hp.conditional.enabled:
        return z, z, None
    condition = _condition(hp)
    x = z
    if hp.architecture.g_norm != "batch":
        embedded = keras.layers.Embedding(condition.num_classes, hp.z_dim, dtype=hp.precision,
                                          name="label_embedding")(condition.labels)
        x = keras.layers.Concatenate(dtype=hp.precision, name="z_and_label")([z, embedded])
    return [z, condition.labels], x, condition


def critic_head(hp, shape, name):
    """The critic's inputs: ``(inputs, x, condition)``; x the float32 ``keras.Input`` of ``shape``
    named ``name``, inputs x alone (condition None) or ``[x, labels]`` when conditional."""
    x = keras.Input(shape, dtype="float32", name=name)
    if not hp.conditional.enabled:
        return x, x, None
    condition = _condition(hp)
    return [x, condition.labels], x, condition


def normalize(x, condition, kind, arch, dtype, name, plain=plain_normalize):
    """``plain(x, kind, arch, dtype, name)`` (``layers.normalize`` or an architecture's own), except
    batch norm with a ``condition`` (a conditional generator): ``ConditionalBatchNormalization``
    under the same name, so a layer keeps its name whether the run is conditional or not."""
    if condition is None or kind != "batch":
        return plain(x, kind, arch, dtype, name)
    return ConditionalBatchNormalization(condition.num_classes, momentum=arch.bn_momentum,
                                         epsilon=arch.bn_epsilon, synchronized=arch.sync_batch_norm,
                                         dtype=dtype, name=name)([x, condition.labels])


def critic_score(hp, features, condition, use_bias=None):
    """The critic's float32 score [B, 1] from its last features phi(x) [B, F]: the dense layer
    "score" (unbounded, no sigmoid), plus ``ClassProjection`` "projection" of the labels when
    conditional (Miyato & Koyama 2018: the class term is added to the linear output)."""
    arch = hp.architecture
    score = keras.layers.Dense(1, use_bias=arch.use_bias if use_bias is None else use_bias,
                               kernel_initializer=kernel_initializer(arch.initializer), dtype="float32",
                               name="score")(features)
    if condition is None:
        return score
    projection = ClassProjection(condition.num_classes, kernel_initializer(arch.initializer), dtype="float32",
                                 name="projection")([features, condition.labels])
    return keras.layers.Add(dtype="float32", name="score_and_projection")([score, projection])
