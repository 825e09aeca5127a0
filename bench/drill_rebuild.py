"""The rebuild drill: index builds made and swapped in while 20 clients ask (not a test).

    python bench/drill_rebuild.py [--clients 20] [--rebuilds 3] [--pause 4] [--keep-db]

It makes a scratch database `ctl_drill_<pid>` on the shared PostgreSQL (127.0.0.1:5432; dropped at
the end), a private Redis (cache and broker; a temporary folder, a spare port), seeds a small shop
(bench/drill_shop.py) and serves it with gunicorn (2 workers, production settings, the answer
cache on). While the clients ask GET complete-the-look and GET similar about random catalog items,
it runs `manage.py build_index` (build, publish, activate, prune old builds) `--rebuilds` times; before
each build it rejects a few approved library outfits (and approves again those rejected before),
so each build's answers differ from the last one's and an answer made of two builds would show.

Every answer is judged: an error is any status but 200 or no answer; the build that answered is
the body's `build_id` (set from the indexes that made it), which the `X-Index-Build` header must
repeat, and every answer to the same request from the same build must say the same (an answer
that read part of another build, or a cached answer filed under the wrong build, breaks one of
these). Prints the figures as JSON.
Everything it started is stopped and removed, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import urllib.parse
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import psycopg  # noqa: E402
from bench_scale import free_port, gunicorn  # noqa: E402
from drill_load import Load, Reply, print_json  # noqa: E402
from drill_shop import manage, private_redis, scratch_database, seed_shop, service_env, stop_on_signals  # noqa: E402

SHARED_SERVER = "postgres://postgres@127.0.0.1:5432"


def request_paths(db_url: str) -> list[str]:
    with psycopg.connect(db_url) as conn:
        ids = [row[0] for row in conn.execute("SELECT external_id FROM outfits_catalogitem ORDER BY id")]
    quote = urllib.parse.quote
    return [f"/api/v1/items/{quote(i, safe='')}/complete-the-look/?k=8" for i in ids] + [
        f"/api/v1/items/{quote(i, safe='')}/similar/?k=8" for i in ids
    ]


def change_library(db_url: str, round_: int) -> int:
    """Approve again the outfits the last round rejected and reject a few others: the next build's
    library (and so its answers) differs from the active one's. The active build keeps serving its
    own snapshot of the library meanwhile. Returns how many outfits were rejected."""
    with psycopg.connect(db_url) as conn:
        conn.execute("UPDATE outfits_libraryoutfit SET status = 'approved' WHERE status = 'rejected'")
        rejected = conn.execute(
            "UPDATE outfits_libraryoutfit SET status = 'rejected' WHERE id IN "
            "(SELECT id FROM outfits_libraryoutfit ORDER BY id OFFSET %s LIMIT 8)",
            (round_ * 8,),
        ).rowcount
    return rejected


def judge(replies: list[Reply]) -> dict[str, object]:
    """Errors, builds seen, and answers that do not come from one build."""
    statuses = Counter(r.status for r in replies)
    errors = [r for r in replies if r.status != 200]
    ok = [r for r in replies if r.status == 200]
    # The body's build_id names the build whose indexes made the answer; the header must agree.
    label_mismatch = [r for r in ok if r.header_build != r.body_build]
    first: dict[tuple[str, str], str] = {}
    differing = []
    for r in ok:
        digest = first.setdefault((r.path, r.body_build), r.digest)
        if digest != r.digest:
            differing.append(r)
    by_path: dict[str, set[str]] = defaultdict(set)
    for (path, _build), digest in first.items():
        by_path[path].add(digest)
    builds = Counter(r.body_build for r in ok)
    return {
        "requests": len(replies),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": len(errors),
        "error_samples": sorted({f"{r.status} {r.error} {r.path}" for r in errors})[:5],
        "builds_seen": dict(sorted(builds.items())),
        "answers_whose_header_is_not_the_body_build": len(label_mismatch),
        "answers_unlike_their_builds_other_answers": len(differing),
        "mixed_samples": sorted(
            {f"{r.path} body {r.body_build} header {r.header_build}" for r in label_mismatch + differing}
        )[:5],
        "requests_whose_answer_changed_between_builds": sum(len(d) > 1 for d in by_path.values()),
        "distinct_requests": len(by_path),
        "p50_ms": round(sorted(r.seconds for r in replies)[len(replies) // 2] * 1000, 1) if replies else None,
        "max_ms": round(max((r.seconds for r in replies), default=0) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rebuilds", type=int, default=3)
    parser.add_argument("--pause", type=float, default=4.0, help="seconds of load before, between, after")
    parser.add_argument("--outfits", type=int, default=40, help="the demo library's size")
    args = parser.parse_args()
    stop_on_signals()
    work = Path(tempfile.mkdtemp(prefix="ctl-drill-rebuild-"))
    try:
        with (
            scratch_database(SHARED_SERVER, f"ctl_drill_{os.getpid()}") as db_url,
            private_redis() as redis,
        ):
            env = service_env(db_url, redis, work)
            print("seeding the shop ...", file=sys.stderr)
            key = seed_shop(env, work / "shop", outfits=args.outfits)
            paths = request_paths(db_url)
            port = free_port()
            activated: list[str] = []
            with (
                gunicorn(env, 2, port, log=work / "gunicorn.log"),
                Load(f"http://127.0.0.1:{port}", key, paths, args.clients) as load,
            ):
                time.sleep(args.pause)
                for round_ in range(args.rebuilds):
                    rejected = change_library(db_url, round_)
                    started = time.monotonic()
                    out = manage(env, "build_index").strip().splitlines()[-1]
                    activated.append(out.split()[2])
                    print(f"  rebuild {round_ + 1}: {rejected} outfits rejected; {out} "
                          f"({time.monotonic() - started:.1f} s with start-up)", file=sys.stderr)  # fmt: skip
                    time.sleep(args.pause)
            figures = judge(load.replies)
            figures["clients"] = args.clients
            figures["builds_activated_during_load"] = activated
            print_json(figures)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
