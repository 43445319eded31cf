"""The Inception graph of 2015-12-05: the network behind published FID, KID and Inception Scores.

Every step follows a named reference, so the numbers can be set beside papers' numbers:

* **The file.** ``classify_image_graph_def.pb`` from ``inception-2015-12-05.tgz``
  (``DATA_URL``), as in TTUR's ``fid.py`` (``check_or_download_inception``) and
  improved-gan's ``inception_score/model.py`` (``_init_inception``). It is found
  (``wgan.metrics.inception_files``), in order,
  at the path given (``--inception_graph``), at ``$WGAN_INCEPTION_GRAPH``, or in the cache
  folder (``$WGAN_CACHE``, default ``~/.cache/wgan``); the ``.tgz`` itself is accepted
  anywhere the ``.pb`` is. Only when it is nowhere is a download into the cache tried; when
  that fails the error says where to get the archive and where to put it.
* **Import.** The frozen ``GraphDef`` is imported with ``tf.compat.v1.import_graph_def``
  inside ``tf.compat.v1.wrap_function``, which makes it a TensorFlow 2 function.
* **Input tensor.** ``ExpandDims:0``: float32 images [N, H, W, 3] with values 0..255, as
  TTUR feeds ``FID_Inception_Net/ExpandDims:0`` and improved-gan feeds ``ExpandDims:0``. The
  graph's own nodes after it do the rest: ``ResizeBilinear`` to 299 x 299, then ``Sub``
  (- 128) and ``Mul`` (/ 128). No resizing or scaling happens outside the graph; uint8
  images are only cast to float32 (grey images tiled to 3 channels, as pytorch-fid does).
  TF-GAN's ``classifier_metrics`` instead resizes outside the graph and feeds ``Mul:0`` of
  another file of the same network: that is the second source below.
* **Old batch norm.** The graph's convolutions are followed by ``BatchNormWithGlobalNormalization``
  nodes, an op removed from GraphDef version 9 on. A TF1 session runs them because the
  imported graph keeps its own old version; a TF2 function has the current version and
  refuses them (tensorflow/tensorflow#2164 tracks the deprecation for this very graph).
  ``replace_old_batch_norm`` rewrites each one, before import, into the ops of its kernel
  in the kernel's order, ``(t - mean) * (rsqrt(variance + epsilon) * gamma) + beta`` (without
  ``* gamma`` when ``scale_after_normalization`` is false), under the same node name. The
  tests check the rewritten graph against the original one run in a TF1 session.
* **Batch dimension.** The graph was frozen with batch 1 (``ExpandDims`` adds it). TTUR and
  improved-gan import it and then overwrite the static shape of every tensor whose first
  dimension is 1 with ``None``. Here ``input_map`` replaces ``ExpandDims:0`` by a
  [None, None, None, 3] input before TensorFlow infers the shapes, which frees the batch
  dimension the same way without touching private attributes.
* **Features.** ``pool_3:0`` [N, 1, 1, 2048] reshaped to [N, 2048], as TTUR's
  ``get_activations`` (batches of 50, ``BATCH_SIZE``; TTUR drops the last N mod 50 images,
  this code keeps them: identical for 10,000 and 50,000 images). Statistics are float64
  ``mean`` and ``cov(rowvar=False)`` (``wgan.metrics.frechet``).
* **Softmax for the Inception Score.** improved-gan's: ``softmax(pool_3 @ W)`` with ``W`` the
  second input of the ``softmax/logits/MatMul`` node, [2048, 1008], **without** the graph's
  bias (the reference leaves it out, and the WGAN-GP paper's scores come from that code).
  The score itself is in ``wgan.metrics.inception_score``.

**Two files, two registry entries** (``GraphFile``; ``wgan.metrics.extractors`` registers both):

* ``inception2015`` (``TTUR_GRAPH``): the steps above, ``classify_image_graph_def.pb`` of
  ``inception-2015-12-05.tgz``, fed at ``ExpandDims:0``.
* ``inception2015_tfgan`` (``TFGAN_GRAPH``): ``inceptionv1_for_inception_score.pb`` of
  ``frozen_inception_v1_2015_12_05.tar.gz``, the file TF-GAN's ``classifier_metrics``
  (``INCEPTION_FROZEN_GRAPH``) and google/compare_gan v1 (Lucic et al. 2018) load. TF-GAN's
  ``preprocess_image`` runs outside the graph: the TF1 ``resize_bilinear`` to 299 x 299
  (``align_corners=False`` and no half-pixel centres, the same legacy op as the TTUR graph's
  ``ResizeBilinear`` node), then ``(x - 128) / 128``; the result is fed at ``Mul:0``.
  Features are ``pool_3:0`` flattened, class probabilities ``softmax(logits:0)`` (TF-GAN's
  ``INCEPTION_OUTPUT``, with the graph's bias, unlike improved-gan). It is found at
  ``--inception_graph``, ``$WGAN_TFGAN_INCEPTION_GRAPH`` or the same cache folder.
"""

import numpy as np
import tensorflow as tf

from wgan.errors import DataError
from wgan.util.files import short_digest
# The files themselves (finding, fetching, unpacking) live apart, without TensorFlow; their names stay here too.
from wgan.metrics.inception_files import (  # noqa: F401
    ARCHIVE_FILE, CACHE_ENV, DATA_URL, DOWNLOAD_TIMEOUT, GRAPH_ENV, GRAPH_FILE, INPUT_TENSOR, POOL_TENSOR,
    SOFTMAX_MATMUL, TFGAN_GRAPH, TTUR_GRAPH, GraphFile, cache_dir, download_graph, find_graph, locate_graph,
    where_to_put_it)

FEATURE_DIM = 2048
NUM_CLASSES = 1008
IMAGE_SIZE = 299
BATCH_SIZE = 50
_SCOPE = "inception2015"


def read_graph_def(path, source=TTUR_GRAPH):
    """Parse and check a frozen GraphDef: it must have ``source``'s input, pool and probability nodes."""
    from google.protobuf.message import DecodeError

    graph_def = tf.compat.v1.GraphDef()
    try:
        with open(path, "rb") as handle:
            graph_def.ParseFromString(handle.read())
    except (OSError, DecodeError) as err:
        raise DataError(f"{path} is not a readable TensorFlow GraphDef ({err}); {where_to_put_it(source)}") from None
    names = {node.name for node in graph_def.node}
    missing = [n for n in source.required_nodes() if n not in names]
    if missing:
        raise DataError(f"{path} is not {source.member}, the Inception graph of 2015-12-05 that {source.label} reads "
                        f"(no node {', '.join(missing)}); {where_to_put_it(source)}")
    return graph_def


OLD_BATCH_NORM = "BatchNormWithGlobalNormalization"


def replace_old_batch_norm(graph_def):
    """A copy of ``graph_def`` whose ``BatchNormWithGlobalNormalization`` nodes are spelled in current ops.

    Inputs of the old op: t, mean, variance, beta, gamma; attributes ``variance_epsilon`` and
    ``scale_after_normalization``. The replacement keeps the node's name (its consumers are
    unchanged) and follows the kernel: ``(t - mean) * (rsqrt(variance + epsilon) [* gamma]) + beta``.
    """
    rewritten = tf.compat.v1.GraphDef()
    rewritten.versions.CopyFrom(graph_def.versions)
    rewritten.library.CopyFrom(graph_def.library)
    for node in graph_def.node:
        if node.op != OLD_BATCH_NORM:
            rewritten.node.add().CopyFrom(node)
            continue
        t, mean, variance, beta, gamma = node.input[:5]
        dtype = node.attr["T"].type
        name = node.name

        def add(op, suffix, inputs):
            new = rewritten.node.add(name=f"{name}/{suffix}" if suffix else name, op=op)
            new.input.extend(inputs)
            new.attr["T"].type = dtype
            return new.name

        epsilon = rewritten.node.add(name=f"{name}/variance_epsilon", op="Const")
        epsilon.attr["dtype"].type = dtype
        epsilon.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(node.attr["variance_epsilon"].f,
                                                                   tf.dtypes.as_dtype(dtype)))
        scale = add("Rsqrt", "rsqrt", [add("AddV2", "add_epsilon", [variance, epsilon.name])])
        if node.attr["scale_after_normalization"].b:
            scale = add("Mul", "scale", [scale, gamma])
        add("AddV2", "", [add("Mul", "scaled", [add("Sub", "centred", [t, mean]), scale]), beta])
    return rewritten


def tfgan_preprocess(images):
    """TF-GAN's ``preprocess_image``: float32 [N, H, W, 3] in 0..255 -> [N, 299, 299, 3] in -1..1.

    The TF1 bilinear resize (``align_corners=False``, no half-pixel centres: source pixel
    ``dst * in / out``), not ``tf.image.resize``, whose half-pixel centres give other values.
    """
    resized = tf.compat.v1.image.resize_bilinear(images, [IMAGE_SIZE, IMAGE_SIZE], align_corners=False)
    return (resized - 128.0) / 128.0


def wrap_graph(graph_def, source=TTUR_GRAPH):
    """The graph as a TF2 function: float32 images [N, H, W, 3] in 0..255 ->
    (pool features float32 [N, 2048], softmax float32 [N, 1008], rows summing to 1)."""
    graph_def = replace_old_batch_norm(graph_def)
    wanted = [POOL_TENSOR] + ([source.logits] if source.logits else [])

    def imported(images):
        fed = tfgan_preprocess(images) if source.resize_outside else images
        outputs = tf.compat.v1.import_graph_def(graph_def, input_map={source.input_tensor: fed},
                                                return_elements=wanted, name=_SCOPE)
        pool = outputs[0]
        if pool.shape[1:] != (1, 1, FEATURE_DIM):
            raise DataError(f"the Inception graph has pool_3 {pool.shape}, not [N, 1, 1, {FEATURE_DIM}]")
        features = tf.reshape(pool, [-1, FEATURE_DIM])
        if source.logits:
            logits = outputs[1]
            if logits.shape[-1] != NUM_CLASSES:
                raise DataError(f"the Inception graph has {source.logits} {logits.shape}, not [N, {NUM_CLASSES}]")
            logits = tf.reshape(logits, [-1, NUM_CLASSES])
        else:
            weights = tf.compat.v1.get_default_graph().get_operation_by_name(f"{_SCOPE}/{SOFTMAX_MATMUL}").inputs[1]
            if tuple(weights.shape) != (FEATURE_DIM, NUM_CLASSES):
                raise DataError(f"the Inception graph has softmax weights {weights.shape}, not "
                                f"[{FEATURE_DIM}, {NUM_CLASSES}]")
            logits = tf.matmul(features, weights)
        return features, tf.nn.softmax(logits)

    return tf.compat.v1.wrap_function(imported, [tf.TensorSpec([None, None, None, 3], tf.float32)])


class Inception2015:
    """FID/KID features and IS probabilities of a 2015-12-05 graph file (see the module docstring).

    ``source``: ``TTUR_GRAPH`` or ``TFGAN_GRAPH``; its label is the registry name. ``name``
    (which keys cached statistics) carries the first 8 hex digits of the graph file's
    sha256, so statistics of another file are never reused.
    """

    dim = FEATURE_DIM
    comparable = True
    has_probabilities = True

    def __init__(self, graph=None, download=True, batch_size=BATCH_SIZE, source=TTUR_GRAPH):
        self.label = source.label
        self.path = find_graph(graph, download, source)
        self.name = f"{self.label}-{short_digest(self.path)}"
        self._function = wrap_graph(read_graph_def(self.path, source), source)
        self.batch_size = batch_size

    def features_and_probabilities(self, images):
        """uint8 [N, H, W, 1|3] -> (float64 [N, 2048] pool_3 features, float64 [N, 1008] softmax)."""
        images = np.asarray(images)
        if images.dtype != np.uint8:
            raise TypeError(f"feature extractors take uint8 images, got {images.dtype}")
        features, probabilities = [], []
        for start in range(0, len(images), self.batch_size):
            batch = images[start:start + self.batch_size].astype(np.float32)
            if batch.shape[-1] == 1:
                batch = np.repeat(batch, 3, axis=-1)
            pool, softmax = self._function(tf.constant(batch))
            features.append(pool.numpy().astype(np.float64))
            probabilities.append(softmax.numpy().astype(np.float64))
        if not features:
            return np.zeros((0, FEATURE_DIM)), np.zeros((0, NUM_CLASSES))
        return np.concatenate(features), np.concatenate(probabilities)

    def __call__(self, images):
        """uint8 [N, H, W, 1|3] -> float64 [N, 2048] (the extractor interface)."""
        return self.features_and_probabilities(images)[0]
