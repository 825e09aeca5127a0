"""How long a bulk catalog upsert of big photos takes to answer, through a real gunicorn (not a test).

    source ../NAME.env   # DATABASE_URL names a database of your own: it is created, used and dropped
    python bench/bench_bulk_upsert.py [--items 500] [--size 2000x3000] [--timeout 60]

Serves with gunicorn under test settings with CELERY_TASK_ALWAYS_EAGER=false, one sync worker and the
production `--timeout 60` (CTL_MAX_UPLOAD_BYTES raised to 2 GB: the 20 MB default refuses such a
batch's body outright): analysis tasks go to the broker (CELERY_BROKER_URL, purged at the end) and
nothing runs inline, as in production. Photos are one generated garment photo of SIZE (width x height,
JPEG quality 90, with sensor-like noise) made unique per item by a JPEG comment, so every item is a new
photo of the same decode cost. Three requests: the new items, the same batch again (unchanged), and
a price change of every item without photos (merge semantics). Prints each request's status, seconds
and counts. Media go to a temporary folder, removed at the end.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_scale import free_port, gunicorn  # noqa: E402  (its neighbour in bench/)


def big_photo(width: int, height: int) -> bytes:
    """A garment product shot at camera size: the demo renderer's photo scaled up, with noise (a
    flat upscale would compress, and decode, unrealistically fast)."""
    from demo import render_garment

    small = render_garment("T-shirts", "T-shirt", (30, 50, 120), "stripes", rng=np.random.default_rng(0))
    pixels = np.asarray(small.convert("RGB").resize((width, height), Image.Resampling.BICUBIC), np.int16)
    noise = np.random.default_rng(1).normal(0, 6, pixels.shape).astype(np.int16)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def with_comment(jpeg: bytes, text: str) -> bytes:
    """The same JPEG with a COM segment after SOI: other bytes (another sha256), the same pixels."""
    payload = text.encode()
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def post(port: int, token: str, items: list[dict[str, Any]], timeout: float) -> tuple[int | str, float, Any]:
    body = json.dumps({"items": items}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/items/bulk/",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status: int | str = response.status
            answer: Any = json.load(response)
    except urllib.error.HTTPError as error:
        status, answer = error.code, error.read()[:200]
    except (ConnectionError, urllib.error.URLError) as error:  # gunicorn killed the worker
        status, answer = "no answer", str(error)
    return status, time.monotonic() - started, answer


def summary(answer: Any) -> Any:
    if not isinstance(answer, dict):
        return answer
    return {key: value for key, value in answer.items() if key != "items"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--size", default="2000x3000", help="photo width x height")
    parser.add_argument("--timeout", type=int, default=60, help="gunicorn's worker timeout (production: 60)")
    parser.add_argument("--max-upload-mb", type=int, default=2048, help="CTL_MAX_UPLOAD_BYTES, in MB")
    args = parser.parse_args()
    width, height = (int(side) for side in args.size.split("x"))
    database_url = os.environ["DATABASE_URL"]
    server, database = database_url.rsplit("/", 1)
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as scratch:
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CTL_TEST_VAR_DIR": scratch,
            "CTL_MEDIA_ROOT": f"{scratch}/media",
            # The request body limit (20 MB by default, also each photo's) must let the batch in.
            "CTL_MAX_UPLOAD_BYTES": str(args.max_upload_mb * 1024 * 1024),
        }
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
            conn.execute(f'CREATE DATABASE "{database}"')
        try:
            manage(env, "migrate", "-v", "0")
            token = manage(
                env,
                "shell",
                "-c",
                "from django.contrib.auth.models import User; from rest_framework.authtoken.models "
                "import Token; u = User.objects.create_superuser('bench', password='x'); "
                "print(Token.objects.create(user=u).key)",
            ).split()[-1]
            photo = big_photo(width, height)
            items = [
                {
                    "external_id": f"BENCH-{n:04d}",
                    "title": "Striped tee",
                    "brand": "Bench",
                    "price": "19.90",
                    "slot": "top",
                    "family": "T-shirts",
                    "type": "T-shirt",
                    "image_base64": base64.b64encode(with_comment(photo, f"bench item {n}")).decode(),
                }
                for n in range(args.items)
            ]
            print(
                f"{args.items} items, photos {width}x{height} JPEG of {len(photo) / 1e6:.2f} MB, "
                f"request body {len(json.dumps({'items': items})) / 1e6:.0f} MB; "
                f"gunicorn --timeout {args.timeout}",
                flush=True,
            )
            port = free_port()
            with gunicorn(env, 1, port, timeout=args.timeout):
                prices = [{"external_id": item["external_id"], "price": "9.90"} for item in items]
                for name, batch in (
                    ("new items", items),
                    ("same batch again", items),
                    ("prices only", prices),
                ):
                    status, seconds, answer = post(port, token, batch, timeout=args.timeout + 60)
                    print(f"{name}: {status} in {seconds:.1f} s: {summary(answer)}", flush=True)
        finally:
            subprocess.run(
                ["celery", "-A", "config", "purge", "-f", "-Q", "gpu,default,index"],
                env=env,
                cwd=ROOT,
                check=False,
                capture_output=True,
            )
            with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def manage(env: dict[str, str], *args: str) -> str:
    command = ["python", "manage.py", *args]
    return subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout


if __name__ == "__main__":
    main()
