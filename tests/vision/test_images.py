from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vision.images import (
    MAX_PIXELS,
    ImageRejected,
    PhotoLimits,
    check_garment_image,
    open_garment_image,
)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo(size: tuple[int, int] = (64, 48)) -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8), mode="RGB")


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height but holds no pixel data at all."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def rejection(source: bytes | str | Path, **limits: int) -> str:
    with pytest.raises(ImageRejected) as caught:
        open_garment_image(source, limits=PhotoLimits(**limits))
    return str(caught.value)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_opens_accepted_formats_as_rgb(fmt: str) -> None:
    image = open_garment_image(encode(photo(), fmt))
    assert image.mode == "RGB"
    assert image.size == (64, 48)


def test_opens_a_path(tmp_path: Path) -> None:
    path = tmp_path / "garment.png"
    path.write_bytes(encode(photo(), "PNG"))
    assert open_garment_image(path).size == (64, 48)
    assert open_garment_image(str(path)).size == (64, 48)


def test_rejects_empty_bytes_and_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert rejection(b"") == "the file is empty"
    assert rejection(empty) == "the file is empty"


def test_rejects_non_image() -> None:
    assert rejection(b"name,colour\nshirt,red\n") == "not an image (could not identify the format)"


@pytest.mark.parametrize(("fmt", "name"), [("GIF", "GIF"), ("BMP", "BMP"), ("TIFF", "TIFF")])
def test_rejects_other_formats_by_name(fmt: str, name: str) -> None:
    assert rejection(encode(photo(), fmt)) == f"unsupported image format {name} (accepted: JPEG, PNG, WEBP)"


def test_names_an_iphone_heic_photo() -> None:
    heic_start = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
    assert rejection(heic_start + b"\x00" * 64).startswith("unsupported image format HEIC")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_rejects_truncated_image(fmt: str) -> None:
    data = encode(photo((200, 150)), fmt)
    assert rejection(data[: len(data) // 2]) == "the image is truncated or corrupt"


def test_rejects_jpeg_missing_its_last_bytes() -> None:
    data = encode(photo((200, 150)), "JPEG")
    assert rejection(data[:-20]) == "the image is truncated or corrupt"


def test_rejects_corrupt_header() -> None:
    data = bytearray(encode(photo(), "PNG"))
    data[16:24] = b"\xff" * 8  # width and height in IHDR, now failing its checksum
    assert rejection(bytes(data)) == "the image is truncated or corrupt"


def test_rejects_huge_header_before_decoding() -> None:
    # No pixel data follows the header: a decode attempt would fail as "corrupt", not on size.
    message = rejection(png_header_only(12_000, 12_000))
    assert message == "image is 12000x12000 = 144.0 MP, over the 40.0 MP limit"


def test_rejects_over_a_custom_limit() -> None:
    assert MAX_PIXELS == 40_000_000
    message = rejection(encode(photo((200, 100)), "PNG"), max_pixels=10_000)
    assert message == "image is 200x100 = 20,000 pixels, over the 10,000 pixels limit"


def test_turns_pillow_decompression_bomb_error_into_rejection() -> None:
    message = rejection(png_header_only(20_000, 20_000), max_pixels=10**9)
    assert "decompression-bomb limit" in message


def test_pillow_bomb_warning_limit_applies_even_with_a_higher_max() -> None:
    # 100 MP: over Pillow's warning threshold (89.5 MP), under its error threshold.
    message = rejection(png_header_only(10_000, 10_000), max_pixels=10**9)
    assert message.startswith("image is 10000x10000 = 100.0 MP, over the 89.5 MP limit")


def test_applies_exif_orientation() -> None:
    # Stored landscape, red on the left; orientation 6 means "rotate 90 degrees clockwise to view".
    stored = Image.new("RGB", (40, 20), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    upright = open_garment_image(encode(stored, "JPEG", exif=exif.tobytes(), quality=95))
    assert upright.size == (20, 40)
    top, bottom = np.asarray(upright)[5, 10], np.asarray(upright)[35, 10]
    assert top[0] > 200 and top[2] < 60  # red now on top
    assert bottom[2] > 200 and bottom[0] < 60


def test_composites_alpha_on_white() -> None:
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    rgba.putpixel((1, 1), (255, 0, 0, 255))
    rgba.putpixel((2, 2), (255, 0, 0, 128))
    pixels = np.asarray(open_garment_image(encode(rgba, "PNG")))
    assert tuple(pixels[0, 0]) == (255, 255, 255)
    assert tuple(pixels[1, 1]) == (255, 0, 0)
    assert abs(int(pixels[2, 2, 1]) - 127) <= 2  # half red over white


def test_composites_palette_transparency_on_white() -> None:
    palette = Image.new("P", (4, 4), 0)
    palette.putpalette([0, 0, 0, 200, 30, 30])
    palette.putpixel((3, 3), 1)
    pixels = np.asarray(open_garment_image(encode(palette, "PNG", transparency=0)))
    assert tuple(pixels[0, 0]) == (255, 255, 255)
    assert tuple(pixels[3, 3]) == (200, 30, 30)


def test_scales_16_bit_greyscale_down_instead_of_clipping() -> None:
    grey = Image.fromarray(np.full((4, 4), 32_768, dtype=np.uint16))
    pixels = np.asarray(open_garment_image(encode(grey, "PNG")))
    assert tuple(pixels[0, 0]) == (128, 128, 128)


def test_converts_cmyk_jpeg() -> None:
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # red
    pixels = np.asarray(open_garment_image(encode(cmyk, "JPEG")))
    assert pixels[4, 4, 0] > 200 and pixels[4, 4, 1] < 60


def test_rejects_a_long_strip_of_a_few_bytes_before_decoding() -> None:
    # 40000x1: 40,000 pixels, far under the pixel limit; squared by the analysis it was 1.6 GP.
    strip = encode(Image.new("RGB", (40_000, 1), (200, 30, 30)), "PNG")
    assert len(strip) < 300
    assert rejection(strip) == "image is 40000x1: a side over the 10000 px limit"
    with pytest.raises(ImageRejected):
        check_garment_image(strip)


def test_rejects_an_extreme_aspect_ratio() -> None:
    message = rejection(encode(photo((2_000, 100)), "PNG"))
    assert message == "image is 2000x100: one side over 10 times the other, the limit"
    assert rejection(encode(photo((30, 600)), "JPEG"), max_aspect=4) == (
        "image is 30x600: one side over 4 times the other, the limit"
    )
    assert open_garment_image(encode(photo((1_000, 100)), "PNG")).size == (1_000, 100)  # 10:1 is allowed


def test_rejects_a_photo_whose_decoded_pixels_are_over_the_memory_limit() -> None:
    rgba = encode(Image.new("RGBA", (1_000, 1_000)), "PNG")  # 4 bytes a pixel once decoded
    message = rejection(rgba, max_decode_bytes=2 * 2**20)
    assert message == "image is 1000x1000 in mode RGBA: decoding it takes 3.8 MB, over the 2.0 MB limit"
    grey = encode(Image.new("L", (1_000, 1_000)), "PNG")  # one byte a pixel: within the same limit
    assert open_garment_image(grey, limits=PhotoLimits(max_decode_bytes=2 * 2**20)).size == (1_000, 1_000)


def test_the_web_check_and_the_worker_judge_decode_memory_alike() -> None:
    # 7.3 MB as RGB at full size: refused by both, though the check would draft it to an eighth and
    # the worker to a quarter (a photo the web accepts must never fail in the worker).
    big = encode(photo((1_600, 1_200)), "JPEG")
    limits = PhotoLimits(max_decode_bytes=2 * 2**20)
    for decode in (check_garment_image, open_garment_image):
        with pytest.raises(ImageRejected, match=r"decoding it takes 7\.3 MB, over the 2\.0 MB limit"):
            decode(big, limits=limits)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_work_side_brings_the_longer_side_down(fmt: str) -> None:
    image = open_garment_image(encode(photo((3_000, 1_000)), fmt), work_side=1_024)
    # A whole factor: 3 (a JPEG: drafted at 1/2, then reduced by 2), so between half the side and it.
    assert 512 <= image.width <= 1_024 and abs(image.width / image.height - 3) < 0.01
    assert image.mode == "RGB"


def test_work_side_keeps_a_smaller_photo_as_it_is() -> None:
    assert open_garment_image(encode(photo((300, 200)), "PNG"), work_side=1_024).size == (300, 200)


def test_work_side_averages_palette_colours_not_palette_indices() -> None:
    stripes = Image.new("P", (400, 40), 0)
    stripes.putpalette([255, 0, 0, 0, 0, 255])
    for x in range(1, 400, 2):
        for y in range(40):
            stripes.putpixel((x, y), 1)
    pixel = np.asarray(open_garment_image(encode(stripes, "PNG"), work_side=100))[1, 10]
    assert abs(int(pixel[0]) - 127) <= 2 and pixel[1] == 0 and abs(int(pixel[2]) - 127) <= 2


def test_work_side_applies_after_the_exif_orientation_is_known() -> None:
    stored = photo((1_200, 400))
    exif = Image.Exif()
    exif[0x0112] = 6
    upright = open_garment_image(encode(stored, "JPEG", exif=exif.tobytes()), work_side=300)
    assert upright.size == (100, 300)


def test_check_names_the_format_from_the_bytes() -> None:
    info = check_garment_image(encode(photo((120, 90)), "WEBP"))
    assert (info.format, info.size, info.suffix) == ("WEBP", (120, 90), ".webp")
    assert check_garment_image(encode(photo(), "PNG")).suffix == ".png"


@pytest.mark.parametrize("progressive", [False, True])
def test_check_catches_a_truncated_jpeg_though_it_decodes_at_an_eighth(progressive: bool) -> None:
    data = encode(photo((800, 600)), "JPEG", progressive=progressive)
    with pytest.raises(ImageRejected, match="truncated or corrupt"):
        check_garment_image(data[: len(data) // 2])


def test_a_webp_is_measured_at_what_libwebp_allocates() -> None:
    size = (1_000, 1_000)
    limits = PhotoLimits(max_decode_bytes=8 * 2**20)
    with pytest.raises(ImageRejected) as caught:
        open_garment_image(encode(photo(size), "WEBP"), limits=limits)
    assert str(caught.value) == (
        "image is 1000x1000 in mode RGB: decoding it takes 15.3 MB, over the 8.0 MB limit"
    )
    assert open_garment_image(encode(photo(size), "PNG"), limits=limits).size == size  # 3.8 MB


def test_a_progressive_jpeg_is_measured_with_its_coefficients() -> None:
    limits = PhotoLimits(max_decode_bytes=5 * 2**20)
    baseline = encode(photo((1_000, 1_000)), "JPEG")  # 3.8 MB of pixels
    progressive = encode(photo((1_000, 1_000)), "JPEG", progressive=True)  # and 4:2:0 coefficients
    assert check_garment_image(baseline, limits=limits).size == (1_000, 1_000)
    for decode in (check_garment_image, open_garment_image):
        with pytest.raises(ImageRejected, match=r"decoding it takes 6\.7 MB, over the 5\.0 MB limit"):
            decode(progressive, limits=limits)
