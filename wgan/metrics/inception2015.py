"""The Inception graph of 2015-12-05: the network behind published FID, KID and Inception Scores.

Every step follows a named reference, so the numbers can be set beside papers' numbers:

* **The file.** ``classify_image_graph_def.pb`` from ``inception-2015-12-05.tgz``
  (``DATA_URL``), as in TTUR's ``fid.py`` (``check_or_download_inception``) and
  improved-gan's ``inception_score/model.py`` (``_init_inception``). It is found, in order,
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
  TF-GAN's ``classifier_metrics`` instead resizes itself and feeds ``Mul:0``; that is not
  what TTUR's published statistics were computed with, so it is not followed here.
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
"""

import os
import shutil
import tarfile
import urllib.error
import urllib.request

import numpy as np
import tensorflow as tf

from wgan.errors import ConfigError, DataError
from wgan.files import atomic_path, short_digest

DATA_URL = "http://download.tensorflow.org/models/image/imagenet/inception-2015-12-05.tgz"
ARCHIVE_FILE = "inception-2015-12-05.tgz"
GRAPH_FILE = "classify_image_graph_def.pb"
GRAPH_ENV = "WGAN_INCEPTION_GRAPH"
CACHE_ENV = "WGAN_CACHE"
INPUT_TENSOR = "ExpandDims:0"
POOL_TENSOR = "pool_3:0"
SOFTMAX_MATMUL = "softmax/logits/MatMul"
FEATURE_DIM = 2048
NUM_CLASSES = 1008
BATCH_SIZE = 50
DOWNLOAD_TIMEOUT = 60
_SCOPE = "inception2015"


def cache_dir():
    """Where a downloaded or user-placed graph lives: ``$WGAN_CACHE``, else ``~/.cache/wgan``."""
    return os.path.expanduser(os.environ.get(CACHE_ENV) or os.path.join("~", ".cache", "wgan"))


def _where_to_put_it():
    return (f"download {DATA_URL} on a machine with internet and put it (or the {GRAPH_FILE} inside it) in "
            f"{cache_dir()}/, or pass --inception_graph FILE, or set ${GRAPH_ENV}=FILE")


def _extract_graph(archive, folder):
    """Extract ``GRAPH_FILE`` from the .tgz ``archive`` into ``folder`` atomically; returns its path."""
    target = os.path.join(folder, GRAPH_FILE)
    os.makedirs(folder, exist_ok=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(GRAPH_FILE)
            if member is None:
                raise KeyError(GRAPH_FILE)
            # A killed extraction never leaves a half-written graph under the real name.
            with atomic_path(target) as temp, open(temp, "wb") as handle:
                shutil.copyfileobj(member, handle)
    except (tarfile.TarError, KeyError, OSError, EOFError) as err:
        raise DataError(f"{archive} is not the Inception archive (no readable {GRAPH_FILE} in it: {err}); "
                        f"{_where_to_put_it()}") from None
    return target


def _usable(path, what):
    """A .pb path from a user-given .pb or .tgz path; ConfigError naming ``what`` when it does not exist."""
    path = os.path.expanduser(path)
    if not os.path.isfile(path):
        raise ConfigError(f"{what} {path} does not exist; {_where_to_put_it()}")
    if path.endswith((".tgz", ".tar.gz")):
        return _extract_graph(path, cache_dir())
    return path


def locate_graph(path=None):
    """The graph file without downloading: ``path``, else ``$WGAN_INCEPTION_GRAPH``, else the cache; or None.

    A given path or variable that names no file is an error (ConfigError), not a fallback.
    """
    if path:
        return _usable(path, "--inception_graph")
    if os.environ.get(GRAPH_ENV):
        return _usable(os.environ[GRAPH_ENV], f"${GRAPH_ENV}")
    cached = os.path.join(cache_dir(), GRAPH_FILE)
    if os.path.isfile(cached):
        return cached
    archive = os.path.join(cache_dir(), ARCHIVE_FILE)
    return _extract_graph(archive, cache_dir()) if os.path.isfile(archive) else None


def download_graph(url=DATA_URL):
    """Download the archive into the cache folder and extract the graph; returns the graph's path.

    Raises DataError with where to get the file and where to put it when the download fails.
    """
    folder = cache_dir()
    os.makedirs(folder, exist_ok=True)
    archive = os.path.join(folder, ARCHIVE_FILE)
    try:
        # A failed download removes its partial file and leaves no archive behind.
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response, atomic_path(archive) as temp, \
                open(temp, "wb") as handle:
            shutil.copyfileobj(response, handle)
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", None) or err
        raise DataError(f"the Inception graph ({GRAPH_FILE}) is not in {folder} and the download failed "
                        f"({reason}); {_where_to_put_it()}") from None
    return _extract_graph(archive, folder)


def find_graph(path=None, download=True):
    """``locate_graph``, then (when ``download``) ``download_graph``; DataError when both fail."""
    found = locate_graph(path)
    if found:
        return found
    if not download:
        raise DataError(f"the Inception graph ({GRAPH_FILE}) is not in {cache_dir()}; {_where_to_put_it()}")
    return download_graph()


def read_graph_def(path):
    """Parse and check a frozen GraphDef: it must have the reference's input, pool and softmax nodes."""
    from google.protobuf.message import DecodeError

    graph_def = tf.compat.v1.GraphDef()
    try:
        with open(path, "rb") as handle:
            graph_def.ParseFromString(handle.read())
    except (OSError, DecodeError) as err:
        raise DataError(f"{path} is not a readable TensorFlow GraphDef ({err}); {_where_to_put_it()}") from None
    names = {node.name for node in graph_def.node}
    missing = [n for n in (INPUT_TENSOR.split(":")[0], POOL_TENSOR.split(":")[0], SOFTMAX_MATMUL) if n not in names]
    if missing:
        raise DataError(f"{path} is not the Inception graph of 2015-12-05 (no node {', '.join(missing)}); "
                        f"{_where_to_put_it()}")
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


def wrap_graph(graph_def):
    """The graph as a TF2 function: float32 images [N, H, W, 3] in 0..255 ->
    (pool features float32 [N, 2048], softmax float32 [N, 1008], rows summing to 1)."""
    graph_def = replace_old_batch_norm(graph_def)

    def imported(images):
        pool, = tf.compat.v1.import_graph_def(graph_def, input_map={INPUT_TENSOR: images},
                                              return_elements=[POOL_TENSOR], name=_SCOPE)
        weights = tf.compat.v1.get_default_graph().get_operation_by_name(f"{_SCOPE}/{SOFTMAX_MATMUL}").inputs[1]
        if pool.shape[1:] != (1, 1, FEATURE_DIM) or tuple(weights.shape) != (FEATURE_DIM, NUM_CLASSES):
            raise DataError(f"the Inception graph has pool_3 {pool.shape} and softmax weights {weights.shape}, "
                            f"not [N, 1, 1, {FEATURE_DIM}] and [{FEATURE_DIM}, {NUM_CLASSES}]")
        features = tf.reshape(pool, [-1, FEATURE_DIM])
        return features, tf.nn.softmax(tf.matmul(features, weights))

    return tf.compat.v1.wrap_function(imported, [tf.TensorSpec([None, None, None, 3], tf.float32)])


class Inception2015:
    """FID/KID features and IS probabilities of the 2015-12-05 graph (see the module docstring).

    ``name`` (which keys cached statistics) carries the first 8 hex digits of the graph
    file's sha256, so statistics of another file are never reused.
    """

    dim = FEATURE_DIM
    label = "inception2015"
    comparable = True
    has_probabilities = True

    def __init__(self, graph=None, download=True, batch_size=BATCH_SIZE):
        self.path = find_graph(graph, download)
        self.name = f"{self.label}-{short_digest(self.path)}"
        self._function = wrap_graph(read_graph_def(self.path))
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
