"""Sliced Wasserstein distance between image patches at several scales: a judge that needs no weights.

A folder without class subfolders has no classifier, and a machine without the Inception
graph (or Keras' InceptionV3 weights) has no FID. What such a run does have is its real
images. Karras et al. 2018 ("Progressive Growing of GANs", ICLR, section 5 and appendix D)
compare generated and real images by the statistics of their local patches at every level of
a Laplacian pyramid: the distance between the two sets of 7x7 patches, at each scale, is
estimated by the sliced Wasserstein distance (the mean over random unit directions of the
1-D Wasserstein distance of the projected patches). Fine levels see texture and edges, the
coarse level the layout of the image. Lower is better; 0 for identical sets.

This module follows that description (not its code) at the sizes of this toolkit:

* levels: the Laplacian levels from the full side down to the first side below
  ``2 * MIN_SIDE``, which keeps its blurred image (28x28: a 28 Laplacian and a 14 Gaussian level;
  64x64: 64, 32, 16 Laplacian and 8 Gaussian);
* ``PATCHES_PER_IMAGE`` random 7x7xC patches per image and level, at positions fixed by the seed;
* each set's patches normalised per channel by their own mean and standard deviation (as the
  paper does), so a global shift of brightness or colour balance is not what is measured;
* ``DIRECTIONS`` random directions, drawn ``REPEATS`` times; each level's distance times 1,000
  (the paper's unit); ``swd`` is the mean over levels.

Every evaluation of a run uses the same patch positions and directions (fixed by its seed) and
the same real patches, so values at different steps differ only by the generator. It is a pixel
statistic, not a learned one, and not comparable with published numbers. On 2,000 Fashion-MNIST
images as a flat folder (docs/own-data.md) it fell with the classifier FID through a run (rank
correlation 0.88 over 9 checkpoints, 1.0 over the 7 evenly spaced snapshots), but among the last
checkpoints its differences were within its noise (real images against other real images score
about 13): the lowest in-training value came at a checkpoint with classifier FID 14.0, while the
newest scored 9.7. So it is not a primary metric: it draws a run's progress where nothing
else can, and no best snapshot follows it.
"""

import numpy as np

PATCH = 7
PATCHES_PER_IMAGE = 32
MIN_SIDE = 8
DIRECTIONS = 128
REPEATS = 4
# Generated images behind a training evaluation's swd, and real images behind its reference.
SAMPLES = 1000
REFERENCE_IMAGES = 2000
# The 5-tap binomial filter of a Laplacian pyramid (Burt & Adelson 1983).
_KERNEL = np.array([1.0, 4.0, 6.0, 4.0, 1.0], np.float32) / 16.0


def _blur(images):
    """float32 [N, H, W, C] smoothed by the separable 5-tap binomial filter (reflected edges)."""
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="reflect")
    height, width = images.shape[1:3]
    rows = sum(w * padded[:, i:i + height, :, :] for i, w in enumerate(_KERNEL))
    return sum(w * rows[:, :, i:i + width, :] for i, w in enumerate(_KERNEL))


def _upsample(images, height, width):
    """float32 [N, h, w, C] to [N, height, width, C]: zeros between the pixels, then the blur (times 4)."""
    out = np.zeros((images.shape[0], height, width, images.shape[3]), np.float32)
    out[:, ::2, ::2, :] = images[:, :(height + 1) // 2, :(width + 1) // 2, :]
    return 4.0 * _blur(out)


def pyramid(images):
    """The Laplacian pyramid of float32 images [N, H, W, C]: a list of float32 [N, h, w, C], finest first.

    Each level but the last is an image minus its blurred, halved and re-expanded self; the
    last is the blurred image at the first side below ``2 * MIN_SIDE`` (the whole image when
    the side is already below it).
    """
    levels, current = [], np.asarray(images, np.float32)
    while min(current.shape[1:3]) >= 2 * MIN_SIDE:
        smaller = _blur(current)[:, ::2, ::2, :]
        levels.append(current - _upsample(smaller, *current.shape[1:3]))
        current = smaller
    levels.append(current)
    return levels


def patches(level, rng, per_image=PATCHES_PER_IMAGE):
    """``per_image`` random PATCH x PATCH patches of each image of ``level`` [N, h, w, C] (h, w >= PATCH),
    normalised per channel over the whole set: float32 [N * per_image, PATCH * PATCH * C]."""
    count, height, width, channels = level.shape
    windows = np.lib.stride_tricks.sliding_window_view(level, (PATCH, PATCH), axis=(1, 2))  # [N, y, x, C, P, P]
    rows = rng.integers(0, height - PATCH + 1, (count, per_image))
    cols = rng.integers(0, width - PATCH + 1, (count, per_image))
    picked = windows[np.arange(count)[:, None], rows, cols]  # [N, per_image, C, P, P]
    picked = picked.reshape(count * per_image, channels, PATCH * PATCH).astype(np.float32)
    picked -= picked.mean(axis=(0, 2), keepdims=True)
    picked /= picked.std(axis=(0, 2), keepdims=True) + 1e-8
    return picked.reshape(len(picked), -1)


def sliced_wasserstein(a, b, rng, directions=DIRECTIONS, repeats=REPEATS):
    """The sliced W1 between descriptor sets float32 [Na, D] and [Nb, D]: mean over ``repeats`` x ``directions``
    random unit directions of the mean absolute difference of the sorted projections. The larger set is
    subsampled to the smaller one's size first (the same for every direction)."""
    count = min(len(a), len(b))
    a = a[np.sort(rng.choice(len(a), count, replace=False))] if len(a) > count else a
    b = b[np.sort(rng.choice(len(b), count, replace=False))] if len(b) > count else b
    distances = []
    for _ in range(repeats):
        unit = rng.standard_normal((a.shape[1], directions)).astype(np.float32)
        unit /= np.linalg.norm(unit, axis=0, keepdims=True)
        projected_a, projected_b = np.sort(a @ unit, axis=0), np.sort(b @ unit, axis=0)
        distances.append(float(np.mean(np.abs(projected_a - projected_b))))
    return float(np.mean(distances))


class PatchReference:
    """The real side, computed once: per level, the patches of ``images`` uint8 [N, H, W, C] (0..255).

    ``seed`` fixes the real patches' positions; ``describe`` draws the generated patches' positions
    and the directions from it too, so every evaluation of a run is measured the same way.
    """

    def __init__(self, images, seed=0):
        images = np.asarray(images)
        if images.ndim != 4 or len(images) < 2:
            raise ValueError(f"the patch reference needs uint8 images [N >= 2, H, W, C], got shape {images.shape}")
        if min(images.shape[1:3]) < PATCH:
            raise ValueError(f"images of side {min(images.shape[1:3])} are smaller than a {PATCH}x{PATCH} patch")
        self.seed, self.count, self.shape = seed, len(images), images.shape[1:]
        rng = np.random.default_rng([seed, 1])
        self.levels = [patches(level, rng) for level in pyramid(_to_float(images))]

    def distance(self, images):
        """``(swd, per_level)`` of generated uint8 images [N >= 2, H, W, C] against the reference: the mean
        over levels (float) and each level's distance (list of float, finest first), both times 1,000."""
        images = np.asarray(images)
        if images.shape[1:] != self.shape:
            raise ValueError(f"generated images of shape {images.shape[1:]}, the reference's are {self.shape}")
        rng = np.random.default_rng([self.seed, 2])
        fake = [patches(level, rng) for level in pyramid(_to_float(images))]
        per_level = [1000.0 * sliced_wasserstein(f, r, rng) for f, r in zip(fake, self.levels)]
        return float(np.mean(per_level)), per_level


def _to_float(images):
    """uint8 [N, H, W, C] -> float32 in [-1, 1] (the scale is irrelevant after each set's normalisation)."""
    return np.asarray(images, np.float32) / 127.5 - 1.0
