"""How alike the pieces of one suggested row are, per diversity setting (not a test: it prints figures).

    DJANGO_SETTINGS_MODULE=config.settings.local python bench/bench_diversity.py [--items 100] [--k 8]

For random catalog items, complete-the-look rows (every complementary slot, the default method) at
several `diversity` values: the mean cosine between the pieces of a row (centred image embeddings,
as the index holds them) and the share of pairs that are near-duplicates (cosine above 0.9).
"""

from __future__ import annotations

import argparse
import os
import sys
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

import numpy as np  # noqa: E402

from outfits import selectors, suggestions  # noqa: E402
from outfits.models import CatalogItem  # noqa: E402
from recsys.slots import CATALOG  # noqa: E402

NEAR_DUPLICATE = 0.9


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--diversity", type=float, nargs="+", default=[0.0, 0.3, 0.6])
    args = parser.parse_args()
    index = selectors.active_index()
    if index is None:
        sys.exit("no index: build one first")
    rng = np.random.default_rng(0)
    keys = list(CatalogItem.objects.filter(analyses__status="ok").values_list("pk", flat=True).distinct())
    picked = CatalogItem.objects.select_related("category__parent").in_bulk(
        [keys[i] for i in rng.choice(len(keys), min(args.items, len(keys)), replace=False)]
    )
    print(
        f"{len(picked)} catalog items, k={args.k}, every complementary slot, build {index.manifest.build_id}"
    )
    for diversity in args.diversity:
        cosines: list[float] = []
        for item in picked.values():
            answer = suggestions.suggest_for(
                [item], slots=[], query=suggestions.SuggestQuery(k=args.k, diversity=diversity)
            )
            for slot_answer in answer.slots:
                vectors = [
                    index.vector(CATALOG, slot_answer.slot, row.catalog_item) for row in slot_answer.rows
                ]
                found = [v for v in vectors if v is not None]
                cosines += [float(a @ b) for a, b in combinations(found, 2)]
        values = np.asarray(cosines)
        print(
            f"diversity {diversity:.1f} ({answer.method}): mean cosine within a row {values.mean():.3f}, "
            f"near-duplicate pairs (cos > {NEAR_DUPLICATE}) {np.mean(values > NEAR_DUPLICATE):.1%} "
            f"of {len(values)}"
        )


if __name__ == "__main__":
    main()
