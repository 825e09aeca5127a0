"""Service figures on whatever catalog the configured database holds (not a test: it prints figures).

    DJANGO_SETTINGS_MODULE=config.settings.local python bench/bench_service.py [--ingest 256] [--calls 1000]

In one run it measures, with sizes stated:
- raw backbone images/s (preprocessed tensors through the network) beside ingest images/s through
  the whole analyse service (read photo from storage, decode, garment mask, quality, embed, store);
- index build time over every analysed catalog and library item;
- complete-the-look latency over N API calls (in-process HTTP stack, API key auth, serialisation).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# The benchmark times serving, not the per-key rate limit (1,200/min by default).
os.environ.setdefault("CTL_THROTTLE_RATE", "1000000/min")

import django

django.setup()

import numpy as np  # noqa: E402
from django.test import Client  # noqa: E402

from outfits import services, worker_models  # noqa: E402
from outfits.models import ApiKey, CatalogItem, ImageAnalysis, IndexBuild  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def bench_backbone(n: int, batch: int) -> float:
    from vision.images import open_garment_image

    embedder = worker_models.vision_embedder()
    paths = [item.image.path for item in CatalogItem.objects.order_by("pk")[:n]]
    images = [open_garment_image(Path(p).read_bytes()) for p in paths]
    # Preprocessed (and on the device) before the clock starts: these figures are the image tower alone.
    batches = [embedder.image_batch(images[start : start + batch]) for start in range(0, len(images), batch)]
    embedder.embed_image_batch(batches[0])  # warm-up
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        for tensors in batches:
            embedder.embed_image_batch(tensors)
        runs.append(len(images) / (time.perf_counter() - started))
    return statistics.median(runs)


def bench_ingest(n: int) -> float:
    ids = list(CatalogItem.objects.order_by("pk").values_list("pk", flat=True)[:n])
    services.garments_analyze(kind="catalog", ids=ids[:8], force=True)  # warm-up: model loaded
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        for start in range(0, len(ids), 32):
            services.garments_analyze(kind="catalog", ids=ids[start : start + 32], force=True)
        runs.append(len(ids) / (time.perf_counter() - started))
    return statistics.median(runs)


def bench_index_build() -> tuple[float, dict[str, int]]:
    build = services.index_build_request(enqueue=False)
    started = time.perf_counter()
    done = services.index_build_run(build_pk=build.pk)
    seconds = time.perf_counter() - started
    assert done is not None and done.status == IndexBuild.Status.READY, done and done.error
    return seconds, done.counts


def bench_latency(calls: int, methods: list[str]) -> dict[str, list[float]]:
    """Milliseconds per complete-the-look call (every complementary slot, k=8), per method. The
    methods take turns on the same random items, so a busy machine weighs on each alike."""
    _, raw = ApiKey.issue("benchmark")
    client = Client(HTTP_X_API_KEY=raw, SERVER_NAME="127.0.0.1")
    analysed = list(
        ImageAnalysis.objects.filter(catalog_item__isnull=False, status="ok")
        .values_list("catalog_item__external_id", flat=True)
        .distinct()
    )
    rng = np.random.default_rng(0)
    picks = [analysed[i] for i in rng.integers(0, len(analysed), size=calls)]
    for method in methods:  # warm-up: index, compatibility model and library pairs loaded
        client.get(f"/api/v1/items/{picks[0]}/complete-the-look/", {"k": "8", "method": method})
    timings: dict[str, list[float]] = {method: [] for method in methods}
    for external_id in picks:
        for method in methods:
            started = time.perf_counter()
            response = client.get(
                f"/api/v1/items/{external_id}/complete-the-look/", {"k": "8", "method": method}
            )
            timings[method].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ingest", type=int, default=256, help="photos for the backbone and ingest figures")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--methods", nargs="+", default=["library", "blend"], help="ranking methods to time")
    parser.add_argument("--latency-only", action="store_true", help="skip the ingest and build figures")
    parser.add_argument("--ingest-only", action="store_true", help="the backbone and ingest figures alone")
    args = parser.parse_args()
    catalog = CatalogItem.objects.count()
    if catalog == 0:
        sys.exit("the catalog is empty: import a data set first (see README)")
    n = min(args.ingest, catalog)
    print(
        f"catalog items: {catalog}; "
        f"analysed library+catalog: {ImageAnalysis.objects.filter(status='ok').count()}"
    )
    if not args.latency_only:
        raw = bench_backbone(n, args.batch)
        ingest = bench_ingest(n)
        print(f"raw backbone:  {raw:7.1f} images/s (median of 3, {n} images, batch {args.batch})")
        print(
            f"ingest:        {ingest:7.1f} images/s "
            f"(median of 3, {n} images through garments_analyze, batch 32)"
        )
        print(f"ingest / raw:  {ingest / raw:7.2f}")
        if args.ingest_only:
            return
        seconds, counts = bench_index_build()
        print(
            f"index build:   {seconds:7.2f} s for {sum(counts.values())} items in {len(counts)} slot indexes"
        )
    timings = bench_latency(args.calls, args.methods)
    base = statistics.median(timings[args.methods[0]])
    for method, values in timings.items():
        print(
            f"complete-the-look {method:>8}: p50 {percentile(values, 50):6.1f} ms, "
            f"p95 {percentile(values, 95):6.1f} ms, max {max(values):6.1f} ms, "
            f"p50 ratio to {args.methods[0]} {statistics.median(values) / base:4.2f} "
            f"({len(values)} calls, every complementary slot, k=8, {catalog} catalog items)"
        )


if __name__ == "__main__":
    main()
