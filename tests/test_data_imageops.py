"""Per-image preparation: crop box, mode conversion, EXIF orientation, bad files (no TensorFlow)."""

import numpy as np
import pytest
from PIL import Image

from wgan.data import imageops
from wgan.data.imageops import Skip, crop_box, normalize_mode, open_image, prepare, prepare_image


def test_crop_box_celeba():
    assert crop_box(178, 218, 108) == (35, 55, 143, 163)


def test_crop_box_floors_odd_margins():
    # (101 - 50) / 2 = 25.5 -> 25 on the left, the extra column goes right.
    assert crop_box(101, 100, 50) == (25, 25, 75, 75)


def test_crop_box_without_crop_is_centered_short_side_square():
    assert crop_box(178, 218, None) == (0, 20, 178, 198)
    assert crop_box(300, 100, None) == (100, 0, 200, 100)


@pytest.mark.parametrize("size", [(100, 200), (200, 100), (107, 107)])
def test_image_smaller_than_crop_is_skipped(size):
    with pytest.raises(Skip) as caught:
        crop_box(*size, 108)
    assert caught.value.reason == imageops.SMALLER_THAN_CROP
    pixels, reason, detail = prepare(np.zeros(size[::-1] + (3,), np.uint8), 108, 64, 3)
    assert pixels is None and reason == imageops.SMALLER_THAN_CROP and "108" in detail


def test_prepare_matches_pil_crop_then_lanczos():
    rng = np.random.default_rng(0)
    array = rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)
    pixels, _, _ = prepare(array, 108, 64, 3)
    expected = Image.fromarray(array).crop((35, 55, 143, 163)).resize((64, 64), Image.Resampling.LANCZOS)
    assert pixels == expected.tobytes()
    assert len(pixels) == 64 * 64 * 3


def _rgb(image):
    return normalize_mode(image, 3).getpixel((0, 0))


def test_rgba_composited_over_white():
    assert _rgb(Image.new("RGBA", (2, 2), (255, 0, 0, 0))) == (255, 255, 255)
    assert _rgb(Image.new("RGBA", (2, 2), (0, 0, 255, 255))) == (0, 0, 255)
    half = _rgb(Image.new("RGBA", (2, 2), (0, 0, 0, 128)))
    assert all(abs(channel - 127) <= 1 for channel in half)


def test_la_composited_over_white():
    assert _rgb(Image.new("LA", (2, 2), (0, 0))) == (255, 255, 255)
    assert _rgb(Image.new("LA", (2, 2), (40, 255))) == (40, 40, 40)


def _palette_image(transparent: bool):
    image = Image.new("P", (2, 2), 0)
    image.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    image.putpixel((1, 1), 1)
    if transparent:
        image.info["transparency"] = 0
    return image


def test_palette_and_palette_with_transparency():
    plain = normalize_mode(_palette_image(False), 3)
    assert plain.getpixel((0, 0)) == (10, 20, 30) and plain.getpixel((1, 1)) == (200, 100, 50)
    keyed = normalize_mode(_palette_image(True), 3)
    assert keyed.getpixel((0, 0)) == (255, 255, 255) and keyed.getpixel((1, 1)) == (200, 100, 50)


def test_cmyk():
    assert _rgb(Image.new("CMYK", (2, 2), (0, 255, 0, 0))) == (255, 0, 255)


@pytest.mark.parametrize("mode", ["I;16", "I"])
def test_sixteen_bit_is_scaled_not_clipped(mode):
    values = np.array([[0, 257 * 100, 1000, 65535]], dtype=np.uint16 if mode == "I;16" else np.int32)
    image = Image.fromarray(values)
    assert image.mode == mode
    grey = normalize_mode(image, 1)
    assert np.asarray(grey).tolist() == [[0, 100, 4, 255]]
    assert normalize_mode(image, 3).getpixel((1, 0)) == (100, 100, 100)


def test_grey_and_bilevel():
    assert _rgb(Image.new("L", (2, 2), 77)) == (77, 77, 77)
    assert _rgb(Image.new("1", (2, 2), 1)) == (255, 255, 255)
    assert normalize_mode(Image.new("1", (2, 2), 0), 1).getpixel((0, 0)) == 0


def test_colour_to_grey_uses_luma():
    assert normalize_mode(Image.new("RGB", (2, 2), (0, 255, 0)), 1).getpixel((0, 0)) == 150


def test_unsupported_mode_is_skipped():
    with pytest.raises(Skip) as caught:
        normalize_mode(Image.new("F", (2, 2)), 3)
    assert caught.value.reason == imageops.UNSUPPORTED_MODE


def test_exif_orientation_is_applied(tmp_path):
    # 40 wide x 20 high, red marker at the top-left; orientation 6 means "rotate 90
    # degrees clockwise to display", so the displayed image is 20 x 40 with the
    # marker at the top-right.
    array = np.zeros((20, 40, 3), np.uint8)
    array[:4, :4] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.png"
    Image.fromarray(array).save(path, exif=exif)
    image = open_image(str(path))
    assert image.size == (20, 40)
    assert image.getpixel((18, 1)) == (255, 0, 0)
    assert image.getpixel((1, 1)) == (0, 0, 0)


def _jpeg_bytes(tmp_path):
    path = tmp_path / "good.jpg"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), np.uint8)).save(path)
    return path.read_bytes()


@pytest.mark.parametrize("name, content, reason", [
    ("empty.jpg", lambda good: b"", imageops.EMPTY_FILE),
    ("notes.jpg", lambda good: b"this is a text file\n", imageops.NOT_AN_IMAGE),
    ("truncated.jpg", lambda good: good[: len(good) // 2], imageops.TRUNCATED),
    ("corrupt.jpg", lambda good: good[:200] + bytes(range(256)) * 20, imageops.CORRUPT),
])
def test_bad_files_are_skipped_with_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content(_jpeg_bytes(tmp_path)))
    pixels, got, detail = prepare(str(path), None, 16, 3)
    assert pixels is None and got == reason and detail


def test_gif_uses_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    image = prepare_image(open_image(str(path)), None, 8, 3)
    assert image.getpixel((4, 4)) == (255, 0, 0)
