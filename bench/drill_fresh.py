"""The incremental-update drill: upsert N new catalog items, time until they are in answers (not a test).

    python bench/drill_fresh.py --db ctl_bench_scale --var var/bench-scale/100000 \
        --models-dir var/src/models --media var/src/media [--n 500] [--sample 20]

On a database and build bench/bench_scale.py left behind (its scratch database and var folder), as
production runs it: gunicorn, a real Celery worker (gpu, default and index queues, models loaded as it
starts) on Redis. It takes catalog items of the database, mirrors their photos (new bytes, so each
is analysed for real), and upserts N new items in one bulk request, as a shop's feed would; a sample
of them comes as twins (the same mirrored photo saved at two JPEG qualities: two items, two
analyses). Then it polls until every new item is analysed, and until every twin is in answers: its
own complete-the-look answers, and the `similar` list of its twin, which it tops by far. (The
item a photo was mirrored from is no test of that: a synthetic catalog holds hundreds of noisy
copies of it, closer to it than a mirror is.) No index build runs: the new items are served beside
the active build (outfits.fresh_items). Prints the seconds.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import random
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import psycopg  # noqa: E402
from bench_scale import SERVER, free_port, gunicorn  # noqa: E402  (its neighbour in bench/)
from PIL import Image, ImageOps  # noqa: E402


def call(port: int, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers=headers | {"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.read()[:300]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="ctl_bench_scale")
    parser.add_argument("--var", type=Path, required=True, help="the CTL_VAR_DIR bench_scale used")
    parser.add_argument("--models-dir", type=Path, required=True)
    parser.add_argument("--media", type=Path, required=True, help="the source's MEDIA_ROOT: photos to mirror")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--sample", type=int, default=20, help="twins among the N items")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    env = os.environ | {
        "DATABASE_URL": f"{SERVER}/{args.db}",
        "CTL_VAR_DIR": str(args.var.resolve()),
        "CTL_MEDIA_ROOT": str((args.var / "drill-media").resolve()),  # the new photos; --media is read
        "CTL_MODELS_DIR": str(args.models_dir.resolve()),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "drill-" + os.urandom(32).hex(),
        "CACHE_URL": "redis://127.0.0.1:6379/7",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/6",
        "CTL_THROTTLE_RATE": "100000000/min",
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_SECURE_SSL_REDIRECT": "false",  # wrk speaks plain HTTP to gunicorn, no proxy
        "CTL_WORKER_PRELOAD": "true",
        "CTL_FRESH_REBUILD_AT": str(args.n * 10),  # the drill times serving beside the build
    }
    manage = [sys.executable, "manage.py"]
    shell = (
        "from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token;"
        "from outfits.models import ApiKey;"
        "u, _ = get_user_model().objects.get_or_create(username='drill', defaults={'is_staff': True, "
        "'is_superuser': True}); t, _ = Token.objects.get_or_create(user=u);"
        "print(t.key, ApiKey.issue('drill')[1])"
    )
    token, key = subprocess.run(
        [*manage, "shell", "-c", shell], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()[-2:]

    rng = random.Random(args.seed)
    with psycopg.connect(f"{SERVER}/{args.db}") as conn:
        rows = conn.execute(
            "SELECT i.external_id, i.image, i.title, i.price, c.name, f.name, s.slot "
            "FROM outfits_catalogitem i JOIN outfits_category c ON c.id = i.category_id "
            "JOIN outfits_category f ON f.id = c.parent_id JOIN outfits_category s ON s.id = f.parent_id "
            "WHERE i.external_id NOT LIKE 'DRILL-%%' ORDER BY i.id LIMIT 5000"
        ).fetchall()
    pairs = min(args.sample, args.n // 2)
    chosen = rng.sample(rows, args.n - pairs)
    items = []
    for n, (external_id, image, title, price, type_, family, slot) in enumerate(chosen):
        with Image.open(args.media / image) as photo:
            mirrored = ImageOps.mirror(photo.convert("RGB"))
        for quality in (90, 80) if n < pairs else (90,):
            buffer = io.BytesIO()
            mirrored.save(buffer, "JPEG", quality=quality)
            items.append({
                "external_id": f"DRILL-{n:04d}-q{quality}-{os.urandom(3).hex()}",
                "title": f"{title} (mirrored)", "brand": "Drill", "price": str(price or "10.00"),
                "slot": slot, "family": family, "type": type_, "attributes": {},
                "image_base64": base64.b64encode(buffer.getvalue()).decode(),
                "source": external_id,
            })  # fmt: skip
    twins = [(items[2 * n], items[2 * n + 1]) for n in range(pairs)]

    worker = subprocess.Popen(
        ["celery", "-A", "config", "worker", "-Q", "gpu,default,index", "-c", "1",
         "--prefetch-multiplier", "1", "--loglevel", "warning"],
        env=env, cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    port = free_port()
    try:
        with gunicorn(env, 2, port):
            time.sleep(20)  # the worker loads its models as it starts
            editor = {"Authorization": f"Token {token}"}
            storefront = {"X-Api-Key": key}
            sent = [{k: v for k, v in item.items() if k != "source"} for item in items]
            started = time.monotonic()
            status, answer = call(port, "POST", "/api/v1/items/bulk/", editor, {"items": sent})
            accepted = time.monotonic() - started
            assert status == 200, answer
            counts = {key: value for key, value in answer.items() if key != "items"}  # not one row per item
            print(f"bulk upsert of {args.n} items answered in {accepted:.1f} s: {counts}", file=sys.stderr)
            analysed_at = visible_at = None
            while time.monotonic() - started < args.timeout:
                with psycopg.connect(f"{SERVER}/{args.db}") as conn:
                    (done,) = conn.execute(
                        "SELECT count(*) FROM outfits_imageanalysis a JOIN outfits_catalogitem i "
                        "ON i.id = a.catalog_item_id WHERE i.external_id LIKE 'DRILL-%%' AND a.status = 'ok'"
                    ).fetchone() or (0,)
                if analysed_at is None and done >= args.n:
                    analysed_at = time.monotonic() - started
                seen = 0
                for item, twin in twins:
                    own = call(
                        port, "GET", f"/api/v1/items/{item['external_id']}/complete-the-look/?k=8", storefront
                    )
                    near = call(port, "GET", f"/api/v1/items/{twin['external_id']}/similar/?k=8", storefront)
                    listed = near[0] == 200 and any(
                        s["item"]["id"] == item["external_id"] for s in near[1].get("similar", [])
                    )
                    seen += own[0] == 200 and bool(own[1].get("suggestions")) and listed
                print(f"  {time.monotonic() - started:6.1f} s: {done}/{args.n} analysed, "
                      f"{seen}/{len(twins)} twins in answers", file=sys.stderr)  # fmt: skip
                if seen == len(twins) and visible_at is None:
                    visible_at = time.monotonic() - started
                if analysed_at is not None and visible_at is not None:
                    break
                time.sleep(2)
            print(json.dumps({
                "items": args.n, "bulk_request_s": round(accepted, 1),
                "all_analysed_s": None if analysed_at is None else round(analysed_at, 1),
                "sample_in_answers_s": None if visible_at is None else round(visible_at, 1),
                "twins": len(twins),
            }))  # fmt: skip
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=60)


if __name__ == "__main__":
    main()
