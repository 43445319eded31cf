"""Turn one raw image (a file or an array) into the uint8 pixels stored in a record.

Pipeline for every image: decode -> apply EXIF orientation -> center crop ->
convert the mode (alpha composited over white, 16-bit scaled to 8-bit) -> resize
with Lanczos. ``prepare`` runs in the build's worker processes, so this module
imports only PIL and numpy: spawned workers must not pay for a TensorFlow import.
"""

import os
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# File types read from folders (case-insensitive); for a GIF only the first frame is used.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif")

# Lanczos (a windowed sinc over 3 lobes) is antialiased in PIL: on downscaling its
# support grows with the scale factor, so every source pixel contributes and no
# aliasing appears, and it keeps more detail than BOX or BILINEAR at 108 -> 64.
RESAMPLE = Image.Resampling.LANCZOS
RESAMPLE_NAME = "lanczos"

# Transparent pixels are composited over white, the background such images are
# designed to be seen on (web pages, sprite sheets); dropping alpha instead would
# expose whatever colour happens to be stored under transparent pixels.
ALPHA_BACKGROUND = (255, 255, 255, 255)
ALPHA_POLICY = "composited over white"

NO_CROP_POLICY = "center square of side min(width, height)"

# Reasons an image is skipped (the keys of the manifest's ``skipped`` counts).
EMPTY_FILE = "empty_file"
NOT_AN_IMAGE = "not_an_image"
TRUNCATED = "truncated"
CORRUPT = "corrupt"
UNREADABLE = "unreadable"
TOO_LARGE = "too_large"
UNSUPPORTED_MODE = "unsupported_mode"
SMALLER_THAN_CROP = "smaller_than_crop"

_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_PLAIN_MODES = ("1", "L", "P", "RGB", "RGBX", "CMYK", "YCbCr")


class Skip(Exception):
    """An image that cannot be used; ``reason`` is one of the reason constants above."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def crop_box(width: int, height: int, crop: int | None) -> tuple[int, int, int, int]:
    """The (left, top, right, bottom) box of the center crop, in PIL's convention.

    With ``crop`` the box is the ``crop`` x ``crop`` square at
    left = floor((width - crop) / 2), top = floor((height - crop) / 2); for a
    178x218 CelebA image and crop 108 it is (35, 55, 143, 163). Without a crop it is
    the largest centered square (side min(width, height)), so non-square images are
    never distorted by the resize.

    Raises:
        Skip: (smaller_than_crop) when the image is narrower or lower than ``crop``.
    """
    if crop:
        if width < crop or height < crop:
            raise Skip(SMALLER_THAN_CROP, f"{width}x{height} is smaller than the {crop}x{crop} crop")
        side = crop
    else:
        side = min(width, height)
    left = (width - side) // 2
    top = (height - side) // 2
    return left, top, left + side, top + side


def _sixteen_bit_to_grey(image: Image.Image) -> Image.Image:
    # PIL's own I;16 -> L conversion clips at 255 instead of scaling, which would
    # turn most of a 16-bit image white. Scale 0..65535 to 0..255 (x / 257, rounded);
    # mode I (32-bit) is what some decoders give for 16-bit data, so it is clipped
    # to the 16-bit range first.
    values = np.clip(np.asarray(image).astype(np.int64), 0, 65535)
    return Image.fromarray(((values * 255 + 32767) // 65535).astype(np.uint8))


def normalize_mode(image: Image.Image, channels: int) -> Image.Image:
    """Convert any supported PIL mode to ``RGB`` (channels 3) or ``L`` (channels 1).

    * 16-bit greyscale (I;16*, I) is scaled to 8 bits (not clipped);
    * anything with transparency (RGBA, LA, PA, premultiplied modes, P or L/RGB with
      a transparency key) is composited over white;
    * 1, L, P, CMYK, YCbCr, RGBX use PIL's conversions (CMYK naively, ICC profiles
      are ignored); RGB -> L uses the ITU-R 601-2 luma weights.

    Raises:
        Skip: (unsupported_mode) for other modes (for example F, HSV, LAB).
    """
    if image.mode in _SIXTEEN_BIT_MODES:
        image = _sixteen_bit_to_grey(image)
    elif image.mode not in _ALPHA_MODES + _PLAIN_MODES:
        raise Skip(UNSUPPORTED_MODE, f"image mode {image.mode} is not supported")
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, ALPHA_BACKGROUND), rgba)
    target = "RGB" if channels == 3 else "L"
    return image if image.mode == target else image.convert(target)


def prepare_image(image: Image.Image, crop: int | None, resize: int, channels: int) -> Image.Image:
    """Center-crop (see ``crop_box``), convert the mode, resize to ``resize`` x ``resize``.

    The result is an ``RGB`` (channels 3) or ``L`` (channels 1) image. Cropping
    comes first so that mode conversion only touches the pixels kept (every
    conversion is per pixel, so the order does not change the result), and it is a
    separate step so that the filter sees only pixels inside the box (PIL's
    ``resize(box=...)`` would also read pixels around it).
    """
    image = normalize_mode(image.crop(crop_box(image.width, image.height, crop)), channels)
    if image.size != (resize, resize):
        image = image.resize((resize, resize), RESAMPLE)
    return image


def open_image(path: str) -> Image.Image:
    """Decode the (first frame of the) image file at ``path``, EXIF orientation applied.

    Raises:
        Skip: empty_file, unreadable, not_an_image, too_large, truncated or corrupt.
    """
    try:
        if os.path.getsize(path) == 0:
            raise Skip(EMPTY_FILE, "file is empty")
        image = Image.open(path)
    except Skip:
        raise
    except UnidentifiedImageError:
        raise Skip(NOT_AN_IMAGE, "not a recognised image format") from None
    except Image.DecompressionBombError as err:
        raise Skip(TOO_LARGE, str(err)) from None
    except OSError as err:
        raise Skip(UNREADABLE, str(err)) from None
    try:
        with image:
            image.seek(0)
            image.load()
            # exif_transpose returns a new image (or a copy), so the file can be closed.
            return ImageOps.exif_transpose(image)
    except Image.DecompressionBombError as err:
        raise Skip(TOO_LARGE, str(err)) from None
    except OSError as err:
        reason = TRUNCATED if "truncated" in str(err) else CORRUPT
        raise Skip(reason, str(err) or type(err).__name__) from None
    except Exception as err:  # plugins also raise SyntaxError, ValueError, struct.error ...
        raise Skip(CORRUPT, f"{type(err).__name__}: {err}") from None


def array_to_image(array: np.ndarray) -> Image.Image:
    """A uint8 array of shape [H, W], [H, W, 1] or [H, W, 3] as a PIL ``L`` or ``RGB`` image."""
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    return Image.fromarray(np.ascontiguousarray(array, dtype=np.uint8))


def prepare(task, crop: int | None, resize: int, channels: int) -> tuple[bytes | None, str | None, str | None]:
    """Produce the record pixels of one image.

    Args:
        task: a file path (str) or a uint8 array [H, W] / [H, W, C] with values 0..255.
        crop: center-crop side, or None for the centered short-side square.
        resize: output side.
        channels: 3 (RGB) or 1 (greyscale).

    Returns:
        ``(pixels, None, None)`` with ``pixels`` the raw uint8 bytes of a
        [resize, resize, channels] array in HWC order (values 0..255), or
        ``(None, reason, detail)`` when the image is skipped.
    """
    try:
        # Decoder warnings (corrupt EXIF, palette transparency ...) would tear the
        # progress bar apart; the image is either converted deliberately or skipped.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = open_image(task) if isinstance(task, str) else array_to_image(task)
            return prepare_image(image, crop, resize, channels).tobytes(), None, None
    except Skip as skip:
        return None, skip.reason, skip.detail
