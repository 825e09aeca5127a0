"""The restart drill: Redis, then PostgreSQL, stopped and started again under load (not a test).

    python bench/drill_restarts.py [--clients 10] [--up 8] [--down 10] [--after 8] [--timeout 5]

It starts servers of its own — a PostgreSQL (initdb in a temporary folder) and a redis-server, each
on a spare port; the shared ones on 5432 and 6379 are never touched — seeds a small shop on them
(bench/drill_shop.py) and serves it with gunicorn (2 workers, production settings, the answer
cache and throttle on that Redis). While `--clients` clients ask GET complete-the-look and GET
similar about random catalog items (each waiting at most `--timeout` seconds), it stops Redis for
`--down` seconds and starts it again, then does the same to PostgreSQL; gunicorn is never
restarted.

What the service owes: while a dependency is down, each answer is either a real answer (Redis
holds only the answer cache and the throttle's counts, so reads go on without it) or a 503 whose
body is JSON and which says when to retry — never a 500, an HTML page or a wait past the timeout;
once the dependency is back, 200s again without restarting anything. Prints per phase the status
codes (of the answers that came in that phase), answers that were not JSON, 503s without
Retry-After and the slowest answer, and per restart how long after the server accepted again the
first 200 came and the last failure came (null: none), as JSON.
Everything it started is stopped and removed, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_scale import free_port, gunicorn  # noqa: E402
from drill_load import Load, Reply, print_json  # noqa: E402
from drill_rebuild import request_paths  # noqa: E402
from drill_shop import (  # noqa: E402
    private_postgres,
    private_redis,
    scratch_database,
    seed_shop,
    service_env,
    stop_on_signals,
)


def phase_figures(replies: list[Reply]) -> dict[str, object]:
    return {
        "requests": len(replies),
        "statuses": {str(k): v for k, v in sorted(Counter(r.status for r in replies).items())},
        "no_answer": dict(Counter(r.error for r in replies if r.status == 0)),
        "not_json": sum(1 for r in replies if r.status and not r.json_body),
        "503_without_retry_after": sum(1 for r in replies if r.status == 503 and not r.retry_after),
        "max_ms": round(max((r.seconds for r in replies), default=0) * 1000, 1),
    }


def answered_at(reply: Reply) -> float:
    """When the answer came: a request asked just before a stop and answered after it saw the
    server stopping, so phases are told by this moment, not the asking."""
    return reply.started + reply.seconds


def recovery(replies: list[Reply], back_at: float) -> dict[str, float | None]:
    """Seconds after the server was back: the first 200, and the last failure, asked since."""
    after = sorted((r for r in replies if r.started >= back_at), key=answered_at)
    first_ok = next((answered_at(r) for r in after if r.status == 200), None)
    failures = [answered_at(r) for r in after if r.status != 200]
    return {
        "first_200_s": None if first_ok is None else round(first_ok - back_at, 2),
        "last_failure_s": round(failures[-1] - back_at, 2) if failures else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--up", type=float, default=8.0, help="seconds of load before the first stop")
    parser.add_argument("--down", type=float, default=10.0, help="seconds each server stays down")
    parser.add_argument("--after", type=float, default=8.0, help="seconds of load after each start")
    parser.add_argument("--timeout", type=float, default=5.0, help="a client's wait for one answer")
    parser.add_argument("--outfits", type=int, default=40, help="the demo library's size")
    parser.add_argument(
        "--redis-fault",
        choices=["stop", "freeze"],
        default="stop",
        help="stop Redis (connections refused) or freeze it (SIGSTOP: connections hang)",
    )
    args = parser.parse_args()
    stop_on_signals()
    work = Path(tempfile.mkdtemp(prefix="ctl-drill-restarts-"))
    try:
        with (
            private_postgres() as postgres,
            private_redis() as redis,
            scratch_database(postgres.server, "ctl_drill") as db_url,
        ):
            env = service_env(db_url, redis, work)
            print("seeding the shop ...", file=sys.stderr)
            key = seed_shop(env, work / "shop", outfits=args.outfits)
            paths = request_paths(db_url)
            port = free_port()
            marks: dict[str, float] = {}
            with (
                gunicorn(env, 2, port, log=work / "gunicorn.log"),
                Load(f"http://127.0.0.1:{port}", key, paths, args.clients, timeout=args.timeout) as load,
            ):
                marks["up"] = time.monotonic()
                freeze = args.redis_fault == "freeze"
                for name, stop, start in (
                    ("redis", redis.freeze if freeze else redis.stop, redis.thaw if freeze else redis.start),
                    ("postgres", postgres.stop, postgres.start),
                ):
                    time.sleep(args.up if name == "redis" else args.after)
                    print(f"  stopping {name}", file=sys.stderr)
                    marks[f"{name} down"] = time.monotonic()  # from the moment it is told to stop
                    stop()
                    time.sleep(args.down)
                    start()
                    marks[f"after {name}"] = time.monotonic()  # from the moment it accepts again
                    print(f"  {name} started again", file=sys.stderr)
                time.sleep(args.after)
                marks["end"] = time.monotonic()
            replies = load.replies
            names, starts = list(marks), list(marks.values())
            phases = {
                name: phase_figures([r for r in replies if start <= answered_at(r) < end])
                for name, start, end in zip(names, starts, starts[1:], strict=False)
            }
            figures: dict[str, object] = {
                "clients": args.clients,
                "redis_fault": args.redis_fault,
                "client_timeout_s": args.timeout,
                "down_s": args.down,
                "phases": phases,
                "recovery": {
                    name: recovery(
                        [r for r in replies if answered_at(r) < marks[next_mark]],
                        marks[f"after {name}"],
                    )
                    for name, next_mark in (("redis", "postgres down"), ("postgres", "end"))
                },
            }
            print_json(figures)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
