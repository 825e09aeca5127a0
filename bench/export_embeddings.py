"""Write the analysed garments' image embeddings to an .npz for the search benchmarks (not a test).

    DJANGO_SETTINGS_MODULE=config.settings.local python bench/export_embeddings.py OUT.npz [--kind both]

Arrays: `vectors` (n, d) float32 raw embeddings under the newest image model, `slots` (n,) strings,
`kinds` (n,) "catalog" or "library". bench/bench_hashing.py reads it with --embeddings. The file is
derived from the data set: keep it out of the repository (var/ is ignored).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

import numpy as np  # noqa: E402

from outfits.models import ImageAnalysis, embedding_vector  # noqa: E402
from outfits.selectors import newest_model_spec  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--kind", choices=["catalog", "library", "both"], default="both")
    args = parser.parse_args()
    spec = newest_model_spec()
    if spec is None:
        sys.exit("no analysed garment: import and analyse a data set first")
    vectors, slots, kinds = [], [], []
    for kind in ("catalog", "library") if args.kind == "both" else (args.kind,):
        rows = ImageAnalysis.objects.filter(
            model_spec=spec, status="ok", embedding__isnull=False, **{f"{kind}_item__isnull": False}
        ).values_list("embedding", f"{kind}_item__category__slot")
        for blob, slot in rows.iterator(chunk_size=2000):
            vectors.append(embedding_vector(blob))
            slots.append(slot)
            kinds.append(kind)
    if not vectors:
        sys.exit(f"no {args.kind} garment is analysed with {spec}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, vectors=np.stack(vectors), slots=np.array(slots), kinds=np.array(kinds))
    print(f"{len(vectors)} embeddings of {spec} written to {args.out}")


if __name__ == "__main__":
    main()
