"""The build's search through k-means cells against exact search, on a synthetic slot (not a test).

    python bench/bench_nearest.py [--items 267000] [--dim 640] [--probe 32] [--blocks 2]

Items are unit vectors around 6,000 centres (clustered as garments of a catalog are), every item a
query of its own slot as the build's `similar` lists are. Times the cells' fit, the planning of query
blocks and the search of the first `--blocks` blocks (whole groups of queries, as the build runs
them), the same queries by exact search, and recall@10 of the cells against exact, in one run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from recsys.nearest import ItemSearch


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=267_000, help="the slot's size (1M items: 267k tops)")
    parser.add_argument("--dim", type=int, default=640, help="640: the compatibility vectors' width")
    parser.add_argument(
        "--probe", type=int, default=None, help="cells each query probes (default: the build's)"
    )
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    centres = rng.standard_normal((6000, args.dim)).astype(np.float32)
    noise = rng.standard_normal((args.items, args.dim)).astype(np.float32) * (0.9 / np.sqrt(args.dim))
    items = centres[rng.integers(0, len(centres), args.items)] + noise
    items /= np.linalg.norm(items, axis=1, keepdims=True)
    keys = np.arange(args.items, dtype=np.int64)

    options = {} if args.probe is None else {"probe": args.probe}
    started = time.perf_counter()
    cells = ItemSearch(items, keys, exact_up_to=0, **options)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    blocks = cells.batches(items)[: args.blocks]
    plan_s = time.perf_counter() - started
    rows = np.concatenate(blocks)
    started = time.perf_counter()
    got = np.concatenate([cells.best(items[block], 10, skip=block).columns for block in blocks])
    cells_s = time.perf_counter() - started

    exact = ItemSearch(items, keys, exact_up_to=len(items))
    started = time.perf_counter()
    want = np.concatenate(
        [
            exact.best(items[part], 10, skip=part).columns
            for part in np.array_split(rows, max(1, len(rows) // 2048))
        ]
    )
    exact_s = time.perf_counter() - started
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(want, got, strict=True)])
    cells_rate, exact_rate = len(rows) / cells_s, len(rows) / exact_s
    print(
        f"{args.items} items x {args.dim}, {len(rows)} queries, probe {cells.probe}: "
        f"cells fit {fit_s:.1f} s, plan {plan_s:.1f} s, search {cells_s:.1f} s ({cells_rate:.0f} q/s); "
        f"exact {exact_s:.1f} s ({exact_rate:.0f} q/s); speed-up {exact_s / cells_s:.1f}x; "
        f"recall@10 {recall:.4f}; the whole slot: ~{args.items / cells_rate + fit_s + plan_s:.0f} s "
        f"through cells, ~{args.items / exact_rate:.0f} s exact"
    )


if __name__ == "__main__":
    main()
