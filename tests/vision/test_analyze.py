from __future__ import annotations

import numpy as np

from tests.vision.garments import CREAM, GREY, draw_garment_photo
from vision.analyze import analyze_garments
from vision.detect import find_garment, isolate_garment
from vision.embed import GarmentEmbedder


def test_analyzes_each_photo_in_order(embedder: GarmentEmbedder) -> None:
    photos = [
        draw_garment_photo(CREAM),
        draw_garment_photo(GREY, box=(40, 30, 200, 200), colour=(180, 40, 40)),
        draw_garment_photo(CREAM, box=(70, 120, 170, 320)),  # cut off at the bottom
    ]
    analyses = analyze_garments([p.image for p in photos], embedder, batch_size=2)
    assert len(analyses) == 3
    for photo, analysis in zip(photos, analyses, strict=True):
        assert all(abs(a - b) <= 3 for a, b in zip(analysis.box.as_list(), photo.box, strict=True))
        assert 0 < analysis.coverage < 1
        assert analysis.embedding.shape == (1280,)
    assert analyses[1].background_rgb == find_garment(photos[1].image).background_rgb
    assert analyses[0].quality.problems == ()
    assert analyses[2].quality.problems == ("garment cut off at the edge",)


def test_embeds_the_isolated_garment(embedder: GarmentEmbedder) -> None:
    image = draw_garment_photo(GREY, colour=(60, 140, 80)).image
    [analysis] = analyze_garments([image], embedder)
    expected = embedder.embed_images([isolate_garment(image, find_garment(image))])[0]
    np.testing.assert_allclose(analysis.embedding, expected, atol=1e-6)


def test_no_photos_no_analyses(embedder: GarmentEmbedder) -> None:
    assert analyze_garments([], embedder) == []
