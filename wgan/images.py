"""Pictures of what a generator makes: image grids, GIFs and toy 2-D scatter plots.

All functions take uint8 images (use ``wgan.data.float_to_uint8`` on generator output in
[-1, 1]) and return or write uint8 arrays / files; nothing here touches TensorFlow.
"""

import io

import numpy as np
from PIL import Image


def make_grid(images, rows, margin=2, background=255):
    """Tile uint8 images [N, H, W, C] into one [rows*H + (rows+1)*m, cols*W + (cols+1)*m, C] array.

    ``cols = ceil(N / rows)``; empty cells and the margins are filled with ``background``.
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    n, h, w, c = images.shape
    cols = -(-n // rows)
    grid = np.full((rows * h + (rows + 1) * margin, cols * w + (cols + 1) * margin, c), background, np.uint8)
    for i, image in enumerate(images):
        r, col = divmod(i, cols)
        top, left = margin + r * (h + margin), margin + col * (w + margin)
        grid[top:top + h, left:left + w] = image
    return grid


def zoom(array, factor):
    """Enlarge uint8 [H, W, C] by an integer ``factor``, nearest neighbour (pixels stay crisp)."""
    return array if factor == 1 else np.repeat(np.repeat(array, factor, axis=0), factor, axis=1)


def to_pil(array):
    """uint8 [H, W, 1|3] -> a PIL image (mode L or RGB)."""
    array = np.asarray(array, np.uint8)
    return Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)


def save_png(array, path):
    """Write uint8 [H, W, 1|3] as a PNG; the bytes depend only on the pixels."""
    to_pil(array).save(path, format="PNG")


def save_gif(frames, path, duration_ms=400):
    """Write uint8 frames [H, W, 1|3] as a looping animated GIF, one frame each."""
    pictures = [to_pil(f).convert("RGB") for f in frames]
    pictures[0].save(path, format="GIF", save_all=True, append_images=pictures[1:], duration=duration_ms,
                     loop=0, optimize=False)


def plot_points(real, fake, critic_grid=None, extent=2.0, size=360, title=None):
    """Toy 2-D frame: real points (orange), generated points (green), critic contours.

    ``real``/``fake`` are [N, 2] float arrays; ``critic_grid`` is ``(xs, ys, values)`` with
    values [len(ys), len(xs)] of the critic's score. Returns uint8 [size, size, 3].
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig = plt.figure(figsize=(size / 100, size / 100), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    if critic_grid is not None:
        xs, ys, values = critic_grid
        ax.contourf(xs, ys, values, levels=20, cmap="Blues", alpha=0.7)
        ax.contour(xs, ys, values, levels=10, colors="k", linewidths=0.3)
    ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:orange", label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=2, c="tab:green", label="generated")
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.text(0.02, 0.97, title, transform=ax.transAxes, va="top", fontsize=8)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("RGB"))
