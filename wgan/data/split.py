"""The held-out split of a records folder, chosen by each image's content.

An image is held out when the first 8 bytes of the sha256 of its record pixels (uint8 HWC,
as stored), read as a big-endian integer, fall below ``per_mille`` modulo 1,000. The choice
depends on the pixels alone, so neither the build order nor ``--workers`` changes it, and
two identical images always land on the same side (no copy of a held-out image trains).

Held-out records live in ``<records>/heldout/``: shards with a manifest of their own that
the training reader never lists (it reads only the shards of ``<records>/dataset_info.json``).
Sources that ship a test split (mnist, fashion_mnist, cifar10) use that instead when it can
be had without a download (``wgan.data.inputs.heldout_records``).
"""

import hashlib
import os

HELDOUT_DIR = "heldout"
# 5%: about 90 of scikit-learn's 1,797 digits, 3,000 of MNIST's 60,000; enough images for a
# held-out Wasserstein estimate whose standard error is a fraction of the training one's.
DEFAULT_HELDOUT_PER_MILLE = 50
RULE = "sha256(uint8 pixels)[:8] as a big-endian integer mod 1000 < per_mille"


def bucket(pixels: bytes) -> int:
    """0..999: the content digest of one image's record pixels, modulo 1,000."""
    return int.from_bytes(hashlib.sha256(pixels).digest()[:8], "big") % 1000


def is_heldout(pixels: bytes, per_mille: int) -> bool:
    """True when the image with these record pixels belongs to the held-out split."""
    return per_mille > 0 and bucket(pixels) < per_mille


def heldout_dir(folder: str) -> str:
    """``<folder>/heldout``: the held-out records of the records folder ``folder``."""
    return os.path.join(folder, HELDOUT_DIR)
