"""The files of the Inception graph of 2015-12-05: where they are looked for, fetched and unpacked.

No TensorFlow here, so that a command's ``--help`` and the extractor registry
(``wgan.metrics.extractors``) can name the files without loading it; reading and running a
graph is ``wgan.metrics.inception2015``. A file is found, in order, at the path given
(``--inception_graph``), at its environment variable (``GraphFile.env``), or in the cache
folder (``$WGAN_CACHE``, default ``~/.cache/wgan``); the archive itself is accepted anywhere the
``.pb`` is. Only when it is nowhere is a download into the cache tried; when that fails the
error says where to get the archive and where to put it.
"""

import dataclasses
import os
import shutil
import tarfile
import urllib.error
import urllib.request

from wgan.errors import ConfigError, DataError
from wgan.util.files import atomic_path

DATA_URL = "http://download.tensorflow.org/models/image/imagenet/inception-2015-12-05.tgz"
ARCHIVE_FILE = "inception-2015-12-05.tgz"
GRAPH_FILE = "classify_image_graph_def.pb"
GRAPH_ENV = "WGAN_INCEPTION_GRAPH"
CACHE_ENV = "WGAN_CACHE"
INPUT_TENSOR = "ExpandDims:0"
POOL_TENSOR = "pool_3:0"
SOFTMAX_MATMUL = "softmax/logits/MatMul"
DOWNLOAD_TIMEOUT = 60  # seconds


@dataclasses.dataclass(frozen=True)
class GraphFile:
    """One frozen file of the 2015-12-05 network, and how its reference code feeds and reads it.

    ``resize_outside``: the images are resized and scaled (TF-GAN's ``preprocess_image``)
    before ``input_tensor``; else the graph's own nodes do it. ``logits``: the tensor whose
    softmax gives the class probabilities; None: ``pool_3 @ W`` of ``SOFTMAX_MATMUL``
    without the bias (improved-gan).
    """

    label: str
    url: str
    archive: str
    member: str
    env: str
    input_tensor: str
    resize_outside: bool
    logits: object
    reference: str

    def required_nodes(self):
        """Node names a file must have to be this one."""
        probabilities = self.logits.split(":")[0] if self.logits else SOFTMAX_MATMUL
        return self.input_tensor.split(":")[0], POOL_TENSOR.split(":")[0], probabilities


TTUR_GRAPH = GraphFile("inception2015", DATA_URL, ARCHIVE_FILE, GRAPH_FILE, GRAPH_ENV, INPUT_TENSOR, False, None,
                       "TTUR's fid.py and improved-gan's Inception Score")
TFGAN_GRAPH = GraphFile("inception2015_tfgan", "http://download.tensorflow.org/models/frozen_inception_v1_2015_12_05.tar.gz",
                        "frozen_inception_v1_2015_12_05.tar.gz", "inceptionv1_for_inception_score.pb",
                        "WGAN_TFGAN_INCEPTION_GRAPH", "Mul:0", True, "logits:0",
                        "TF-GAN's classifier_metrics and google/compare_gan v1")


def cache_dir():
    """Where a downloaded or user-placed graph lives: ``$WGAN_CACHE``, else ``~/.cache/wgan``."""
    return os.path.expanduser(os.environ.get(CACHE_ENV) or os.path.join("~", ".cache", "wgan"))


def where_to_put_it(source):
    return (f"download {source.url} on a machine with internet and put it (or the {source.member} inside it) in "
            f"{cache_dir()}/, or pass --inception_graph FILE, or set ${source.env}=FILE")


def _extract_graph(archive, folder, source):
    """Extract ``source.member`` from the .tgz ``archive`` into ``folder`` atomically; returns its path."""
    target = os.path.join(folder, source.member)
    os.makedirs(folder, exist_ok=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(source.member)
            if member is None:
                raise KeyError(source.member)
            # A killed extraction never leaves a half-written graph under the real name.
            with atomic_path(target) as temp, open(temp, "wb") as handle:
                shutil.copyfileobj(member, handle)
    except (tarfile.TarError, KeyError, OSError, EOFError) as err:
        raise DataError(f"{archive} is not the Inception archive (no readable {source.member} in it: {err}); "
                        f"{where_to_put_it(source)}") from None
    return target


def _usable(path, what, source):
    """A .pb path from a user-given .pb or .tgz path; ConfigError naming ``what`` when it does not exist."""
    path = os.path.expanduser(path)
    if not os.path.isfile(path):
        raise ConfigError(f"{what} {path} does not exist; {where_to_put_it(source)}")
    if path.endswith((".tgz", ".tar.gz")):
        return _extract_graph(path, cache_dir(), source)
    return path


def locate_graph(path=None, source=TTUR_GRAPH):
    """``source``'s file without downloading: ``path``, else its environment variable, else the cache; or None.

    A given path or variable that names no file is an error (ConfigError), not a fallback.
    """
    if path:
        return _usable(path, "--inception_graph", source)
    if os.environ.get(source.env):
        return _usable(os.environ[source.env], f"${source.env}", source)
    cached = os.path.join(cache_dir(), source.member)
    if os.path.isfile(cached):
        return cached
    archive = os.path.join(cache_dir(), source.archive)
    return _extract_graph(archive, cache_dir(), source) if os.path.isfile(archive) else None


def download_graph(source=TTUR_GRAPH):
    """Download ``source``'s archive into the cache folder and extract the graph; returns the graph's path.

    Raises DataError with where to get the file and where to put it when the download fails.
    """
    folder = cache_dir()
    os.makedirs(folder, exist_ok=True)
    archive = os.path.join(folder, source.archive)
    try:
        # A failed download removes its partial file and leaves no archive behind.
        with urllib.request.urlopen(source.url, timeout=DOWNLOAD_TIMEOUT) as response, atomic_path(archive) as temp, \
                open(temp, "wb") as handle:
            shutil.copyfileobj(response, handle)
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", None) or err
        raise DataError(f"the Inception graph ({source.member}) is not in {folder} and the download failed "
                        f"({reason}); {where_to_put_it(source)}") from None
    return _extract_graph(archive, folder, source)


def find_graph(path=None, download=True, source=TTUR_GRAPH):
    """``locate_graph``, then (when ``download``) ``download_graph``; DataError when both fail."""
    found = locate_graph(path, source)
    if found:
        return found
    if not download:
        raise DataError(f"the Inception graph ({source.member}) is not in {cache_dir()}; {where_to_put_it(source)}")
    return download_graph(source)
