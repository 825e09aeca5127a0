"""Properties of the photo opener over whatever is uploaded (hypothesis; no database).

Random bytes, truncated and bit-flipped images, every mode Pillow writes in every format, strips
past the aspect limit, EXIF orientations 1-8, animated PNG, WEBP and GIF: each is refused with
ImageRejected or opened as an upright RGB photo within the limits, and the web check
(check_garment_image) and the worker's decode (open_garment_image) agree on which.
"""

from __future__ import annotations

import io

from hypothesis import event, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.photo_strategies import PhotoCase, images, photos
from vision.images import (
    ACCEPTED_FORMATS,
    DEFAULT_LIMITS,
    ImageRejected,
    PhotoLimits,
    check_garment_image,
    open_garment_image,
)

WORK_SIDE = 64  # small, so the reduction runs on most drawn photos


def _outcome(case: PhotoCase, *, check: bool, work_side: int | None = None) -> Image.Image | str:
    try:
        if check:
            check_garment_image(case.data)
            return "ok"
        return open_garment_image(case.data, work_side=work_side)
    except ImageRejected as error:
        return f"refused: {error}"


@settings(max_examples=300)
@given(photos)
def test_every_upload_is_refused_with_a_reason_or_opened_within_the_limits(case: PhotoCase) -> None:
    opened = _outcome(case, check=False)
    checked = _outcome(case, check=True)
    event(case.kind)
    event("refused" if isinstance(opened, str) else "opened")
    if isinstance(opened, str):
        assert opened.startswith("refused: ") and len(opened) > len("refused: "), opened
        assert checked.startswith("refused: ") if isinstance(checked, str) else False, (case, checked)
        return
    assert checked == "ok", (case, checked)
    assert opened.mode == "RGB"
    width, height = opened.size
    assert max(width, height) <= DEFAULT_LIMITS.max_side and width * height <= DEFAULT_LIMITS.max_pixels
    assert max(width, height) / min(width, height) <= DEFAULT_LIMITS.max_aspect
    opened.load()


@settings(max_examples=150)
@given(images())
def test_a_whole_photo_within_the_limits_is_opened_upright_and_reduced_to_the_work_side(
    case: PhotoCase,
) -> None:
    opened = _outcome(case, check=False)
    event(case.kind)
    event("refused" if isinstance(opened, str) else "opened")
    if case.upright_size is None:
        assert isinstance(opened, str), case
        fmt = Image.open(io.BytesIO(case.data)).format
        assert fmt not in ACCEPTED_FORMATS or "limit" in opened, (case, opened)
        return
    assert isinstance(opened, Image.Image), (case, opened)
    assert opened.size == case.upright_size and opened.mode == "RGB"
    reduced = _outcome(case, check=False, work_side=WORK_SIDE)
    assert isinstance(reduced, Image.Image), (case, reduced)
    width, height = case.upright_size
    assert max(reduced.size) <= WORK_SIDE
    # One whole factor for both sides (rounded up): the photo keeps its shape.
    factors = range(1, max(width, height) + 1)
    assert any(reduced.size == (-(-width // f), -(-height // f)) for f in factors), (case, reduced.size)


@settings(max_examples=200)
@given(
    case=images(),
    decode_bytes=st.integers(64, 200_000),
    work_side=st.one_of(st.none(), st.integers(8, 200)),
)
def test_what_the_web_check_accepts_a_worker_can_decode_under_any_limits(
    case: PhotoCase, decode_bytes: int, work_side: int | None
) -> None:
    limits = PhotoLimits(max_decode_bytes=decode_bytes)
    try:
        check_garment_image(case.data, limits=limits)
    except ImageRejected:
        return
    event("accepted by the check")
    open_garment_image(case.data, limits=limits, work_side=work_side)  # must not raise
