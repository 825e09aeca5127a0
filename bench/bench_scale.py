"""Serving at catalog scale: populate, build, serve as production does, load with wrk (not a test).

    ./bin/bench-scale --source ctl_src --models-dir var/src/models \
        [--sizes 10000 100000 1000000] [--clients 1 10 50] [--seconds 15] [--json var/bench/scale.json]

`--source` is a PostgreSQL database the pipeline has filled (library, outfits, analysed catalog,
the garment and compatibility models in `--models-dir`): `./bin/demo --data ../shared/data/mango-old`
run with DATABASE_URL pointing at it, for one. Per size N it:

1. copies the source into a scratch database (`--db`, dropped and made again from the source as a
   template) and grows its catalog to N items: the source's analysed items as they are, then copies
   of them with Gaussian noise on the image embedding (expected norm `--noise` of the centred vector:
   cosine ~0.96 to its source at 0.3); title, text embedding, attributes and shop facts copied;
2. builds the index with `manage.py build_index` (wall time, the process's peak memory, disk);
3. measures recall@10 of the searches that serve live answers against exact search, in process;
4. serves with gunicorn (`--workers`, production settings, Redis cache) and loads it with wrk, one
   client count at a time: GET complete-the-look and GET similar on random catalog items, and POST
   complete-the-look on a random partial outfit of 3 items (a top, a bottom, shoes); first with
   every answer worked out per request (CTL_ANSWER_CACHE_SECONDS=0), then with the answer cache
   warmed by asking every request once (`--no-cached` skips that pass);
5. prints one table and writes every figure as JSON.

Needs wrk (`bin/bench-scale` installs it from Debian) and PostgreSQL and Redis as the tests do.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from recsys.centring import centre_rows  # noqa: E402
from recsys.index import IndexSet  # noqa: E402
from recsys.slots import CATALOG, LIBRARY  # noqa: E402

SERVER = "postgres://postgres@127.0.0.1:5432"
ENDPOINTS = ("complete", "similar", "outfit")
# The partial outfit of the live path: what a shopper has on (and wants a bag or outerwear for).
OUTFIT_SLOTS = ("top", "bottom", "shoes")
RECALL_K = 10
LOAD_FIELDS = ("requests", "rps", "p50_ms", "p95_ms", "p99_ms", "max_ms", "non_2xx", "socket_errors")


@dataclass
class Load:
    endpoint: str
    clients: int
    requests: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: int


@dataclass
class SizeResult:
    size: int
    slot_counts: dict[str, int]
    populate_s: float
    build_s: float
    build_peak_mb: float
    build_disk_mb: float
    recall: dict[str, float]
    web_rss_mb: float = 0.0
    loads: list[Load] = field(default_factory=list)


# --- Populate ----------------------------------------------------------------------------------


def populate(source: str, db: str, size: int, noise: float, seed: int) -> dict[str, int]:
    """A scratch copy of `source` whose catalog holds `size` analysed items; returns items per slot."""
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(db), sql.Identifier(source))
        )
    rng = np.random.default_rng(seed)
    with psycopg.connect(f"{SERVER}/{db}") as conn:
        spec = _newest_spec(conn)
        items = _rows(conn, "SELECT * FROM outfits_catalogitem ORDER BY id")
        analyses = {
            row["catalog_item_id"]: row
            for row in _rows(
                conn,
                "SELECT * FROM outfits_imageanalysis WHERE catalog_item_id IS NOT NULL "
                "AND status = 'ok' AND model_spec = %s",
                (spec,),
            )
        }
        seeds = [item for item in items if item["id"] in analyses]
        if not seeds:
            sys.exit(f"{source} holds no analysed catalog item under {spec}")
        if size < len(seeds):  # a smaller catalog: drop the rest of the source's
            drop = [item["id"] for item in seeds[size:]]
            conn.execute("DELETE FROM outfits_imageanalysis WHERE catalog_item_id = ANY(%s)", (drop,))
            conn.execute("DELETE FROM outfits_catalogitem WHERE id = ANY(%s)", (drop,))
            seeds = seeds[:size]
        raw = np.stack([np.frombuffer(analyses[item["id"]]["embedding"], np.float32) for item in seeds])
        mean = raw.mean(axis=0)
        spread = np.linalg.norm(raw - mean, axis=1)
        next_item = 1 + max(item["id"] for item in items)
        (last_analysis,) = conn.execute("SELECT max(id) FROM outfits_imageanalysis").fetchone() or (0,)
        next_analysis = 1 + int(last_analysis)
        extra = size - len(seeds)
        item_columns, analysis_columns = list(seeds[0]), list(next(iter(analyses.values())))
        with conn.cursor() as cur:
            for start in range(0, extra, 20_000):
                chosen = rng.integers(0, len(seeds), min(20_000, extra - start))
                shake = rng.standard_normal((len(chosen), raw.shape[1])).astype(np.float32)
                shake *= (noise * spread[chosen] / np.sqrt(raw.shape[1]))[:, None]
                vectors = raw[chosen] + shake
                _copy(
                    cur,
                    "outfits_catalogitem",
                    item_columns,
                    (
                        seeds[c]
                        | {
                            "id": next_item + start + n,
                            "external_id": f"{seeds[c]['external_id']}~{start + n}",
                        }
                        for n, c in enumerate(chosen.tolist())
                    ),
                )
                _copy(
                    cur,
                    "outfits_imageanalysis",
                    analysis_columns,
                    (
                        analyses[seeds[c]["id"]]
                        | {
                            "id": next_analysis + start + n,
                            "catalog_item_id": next_item + start + n,
                            "embedding": vectors[n].tobytes(),
                        }
                        for n, c in enumerate(chosen.tolist())
                    ),
                )
                print(f"  populated {len(seeds) + start + len(chosen)}/{size}", file=sys.stderr)
        for table in ("outfits_catalogitem", "outfits_imageanalysis"):
            conn.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), (SELECT max(id) FROM {}))").format(
                    sql.Literal(table), sql.Identifier(table)
                )
            )
        conn.commit()
    with psycopg.connect(f"{SERVER}/{db}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        return dict(
            conn.execute(
                "SELECT c.slot, count(*) FROM outfits_catalogitem i "
                "JOIN outfits_category c ON c.id = i.category_id GROUP BY c.slot ORDER BY c.slot"
            ).fetchall()
        )


def reuse(db: str, size: int) -> dict[str, int]:
    """The scratch database a previous run populated, as it is (its builds dropped); its catalog's
    items per slot. Refuses one of another size."""
    with psycopg.connect(f"{SERVER}/{db}", autocommit=True) as conn:
        counts: dict[str, int] = dict(
            conn.execute(
                "SELECT c.slot, count(*) FROM outfits_catalogitem i "
                "JOIN outfits_category c ON c.id = i.category_id GROUP BY c.slot"
            ).fetchall()
        )
        if sum(counts.values()) != size:
            sys.exit(f"{db} holds {sum(counts.values())} catalog items, not {size}: populate it again")
        conn.execute("DELETE FROM outfits_indexbuild")
    return counts


def _newest_spec(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute(
        "SELECT model_spec FROM outfits_imageanalysis WHERE status = 'ok' AND look_id IS NULL "
        "ORDER BY updated_at DESC LIMIT 1"
    ).fetchone()
    if row is None:
        sys.exit("the source database holds no analysed garment")
    return str(row[0])


def _rows(conn: psycopg.Connection[Any], query: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return list(cur.execute(query, params).fetchall())


def _copy(cur: psycopg.Cursor[Any], table: str, columns: list[str], rows: Iterator[dict[str, Any]]) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with cur.copy(statement) as copy:
        for row in rows:
            copy.write_row([json.dumps(v) if isinstance(v, dict | list) else v for v in row.values()])


# --- Build ---------------------------------------------------------------------------------------


def run_measured(command: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command to completion; its wall seconds and peak resident memory (MB)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds, peak = time.perf_counter() - started, usage.ru_maxrss / 1024
    if process.returncode:  # -9: the out-of-memory killer, most likely
        sys.exit(
            f"{' '.join(command)} failed ({process.returncode}) after {seconds:.0f} s, peak {peak:.0f} MB"
        )
    return seconds, peak


def folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


# --- Recall ----------------------------------------------------------------------------------------


def recall(db: str, build_dir: Path, queries: int, seed: int) -> dict[str, float]:
    """Recall@10 against exact search, in the largest slot, of the searches behind answers: the
    catalog items like a catalog item (`similar`: the build's stored list), like a library piece
    (a library path's end: the build's stored matches), and Annoy's as configured (text search).
    A build of the code before stored answers served `similar` from that Annoy search."""
    index = IndexSet.load(build_dir)
    slot = max(index.slots(CATALOG), key=lambda s: index.count(CATALOG, s))
    with psycopg.connect(f"{SERVER}/{db}") as conn:
        keys, blobs = zip(
            *conn.execute(
                "SELECT a.catalog_item_id, a.embedding FROM outfits_imageanalysis a "
                "JOIN outfits_catalogitem i ON i.id = a.catalog_item_id "
                "JOIN outfits_category c ON c.id = i.category_id "
                "WHERE a.status = 'ok' AND a.model_spec = %s AND c.slot = %s",
                (index.manifest.model_spec, slot),
            ).fetchall(),
            strict=True,
        )
    catalog_keys = np.asarray(keys, dtype=np.int64)
    raw = np.stack([np.frombuffer(blob, np.float32) for blob in blobs])
    centred = centre_rows(raw, _mean(index))
    rng = random.Random(seed)
    found: dict[str, list[float]] = {"similar": [], "library_piece": [], "annoy": []}
    slot_keys = index.keys(CATALOG, slot)
    answers = getattr(index, "answers", None)
    for row in rng.sample(range(len(catalog_keys)), min(queries, len(catalog_keys))):
        key = int(catalog_keys[row])
        scores = centred @ centred[row]
        scores[row] = -np.inf
        exact = catalog_keys[np.argsort(-scores)[:RECALL_K]]
        got, _ = index.search(CATALOG, slot, raw[row], RECALL_K, exclude=[key])
        found["annoy"].append(_overlap(got, exact))
        if answers is None:  # code before stored answers: `similar` was this Annoy search
            found["similar"].append(found["annoy"][-1])
            continue
        stored = answers.similar(slot, index.row_of(CATALOG, slot, key) or 0)
        if stored is not None:
            found["similar"].append(_overlap(slot_keys[stored[0][:RECALL_K]], exact))
    pieces = index.keys(LIBRARY, slot).tolist()
    for piece in rng.sample(pieces, min(queries, len(pieces))):
        vector = index.vector(LIBRARY, slot, piece)
        matches = index.piece_matches(slot, piece, RECALL_K)
        assert vector is not None and matches is not None
        exact = catalog_keys[np.argsort(-(centred @ vector))[:RECALL_K]]
        found["library_piece"].append(_overlap(matches[0], exact))
    return {name: round(float(np.mean(values)), 4) for name, values in found.items() if values} | {
        "slot_size": len(keys)
    }


def _mean(index: IndexSet) -> np.ndarray:
    return np.asarray(index._means[CATALOG])


def _overlap(got: np.ndarray, exact: np.ndarray) -> float:
    return len(set(got.tolist()) & set(exact.tolist())) / len(exact)


# --- Serve and load ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(
    env: dict[str, str], workers: int, port: int, *, timeout: int = 60, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """gunicorn serving config.wsgi on the port until the block ends; its output to `log` if given
    (the failure drills' errors are many lines each)."""
    output = open(log, "ab") if log is not None else None  # noqa: SIM115  (closed below)
    process = subprocess.Popen(
        [
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            str(timeout),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
        stdout=output,
        stderr=output,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not come up") from None
                time.sleep(0.5)
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        if output is not None:
            output.close()


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (gunicorn's master and workers)."""
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text().split()
            if int(proc.name) == pid or int(stat[3]) == pid:
                total += int(stat[23]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError):
            continue
    return total / 2**20


def request_lines(db: str, n: int, seed: int) -> dict[str, list[str]]:
    """wrk request lines per endpoint, on random catalog items (and random 3-piece outfits)."""
    with psycopg.connect(f"{SERVER}/{db}") as conn:
        by_slot: dict[str, list[str]] = {}
        for external_id, slot in conn.execute(
            "SELECT i.external_id, c.slot FROM outfits_catalogitem i "
            "JOIN outfits_category c ON c.id = i.category_id ORDER BY random() LIMIT %s",
            (n * 4,),
        ):
            by_slot.setdefault(slot, []).append(external_id)
    rng = random.Random(seed)
    everyone = [e for ids in by_slot.values() for e in ids][:n]
    quote = urllib.parse.quote
    lines = {
        "complete": [f"GET\t/api/v1/items/{quote(e, safe='')}/complete-the-look/?k=8" for e in everyone],
        "similar": [f"GET\t/api/v1/items/{quote(e, safe='')}/similar/?k=8" for e in everyone],
        "outfit": [
            "POST\t/api/v1/complete-the-look/\t"
            + json.dumps({"items": [rng.choice(by_slot[s]) for s in OUTFIT_SLOTS], "k": 8})
            for _ in range(n)
        ]
        if all(by_slot.get(s) for s in OUTFIT_SLOTS)
        else [],
    }
    return lines


def wrk(port: int, key: str, lines: list[str], clients: int, seconds: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as f:
        f.write("\n".join(lines) + "\n")
    env = os.environ | {"WRK_REQUESTS": f.name, "WRK_KEY": key}
    threads = min(clients, 2)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(clients),
            "-d",
            f"{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / "wrk_requests.lua"),
            f"http://127.0.0.1:{port}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    os.unlink(f.name)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def ask(port: int, key: str, line: str) -> dict[str, Any]:
    """One request of a wrk line, its JSON answer."""
    method, path, *body = line.split("\t")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=body[0].encode() if body else None,
        headers={"X-Api-Key": key, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer: dict[str, Any] = json.load(response)
    return answer


def check_answers(port: int, key: str, lines: list[str]) -> None:
    """One request of each kind must succeed before it is timed: a benchmark of 4xx is no benchmark."""
    answer = ask(port, key, lines[0])
    if not answer.get("suggestions", answer.get("similar")):
        raise RuntimeError(f"{lines[0]} answered nothing to show: {str(answer)[:300]}")


# --- Main ----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", required=True, help="database filled by the pipeline (a template)")
    parser.add_argument("--models-dir", type=Path, required=True, help="its CTL_MODELS_DIR")
    parser.add_argument("--db", default="ctl_bench_scale", help="scratch database (dropped and made again)")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "var" / "bench-scale")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--seconds", type=int, default=15, help="wrk run per endpoint and client count")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--noise", type=float, default=0.3)
    parser.add_argument("--recall-queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--items", type=int, default=1000, help="distinct catalog items asked about")
    parser.add_argument(
        "--no-cached", dest="cached", action="store_false", help="skip the pass with the answer cache warmed"
    )
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="build on the scratch database a previous run populated at this size (one size)",
    )
    parser.add_argument("--label", default="", help="what code this is (printed and stored)")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args()
    if args.reuse_db and len(args.sizes) != 1:
        sys.exit("--reuse-db builds on one populated size: give one --sizes")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: run bin/bench-scale, which installs it")

    results: list[SizeResult] = []
    for size in args.sizes:
        print(f"== {size} catalog items", file=sys.stderr)
        var = args.work_dir / str(size)
        shutil.rmtree(var, ignore_errors=True)
        (var / "static").mkdir(parents=True)  # as collectstatic leaves it in production
        env = os.environ | {
            "DATABASE_URL": f"{SERVER}/{args.db}",
            "CTL_VAR_DIR": str(var),
            "CTL_MODELS_DIR": str(args.models_dir.resolve()),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
        started = time.perf_counter()
        counts = (
            reuse(args.db, size)
            if args.reuse_db
            else populate(args.source, args.db, size, args.noise, args.seed)
        )
        populate_s = time.perf_counter() - started
        local = env | {"DJANGO_SETTINGS_MODULE": "config.settings.local", "CELERY_TASK_ALWAYS_EAGER": "1"}
        # The source may have been filled by older code: bring the copy to this code's schema.
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], env=local, cwd=ROOT, check=True)
        build_s, peak = run_measured([sys.executable, "manage.py", "build_index"], local)
        (build_dir,) = [d for d in (var / "indexes").iterdir() if (d / "manifest.json").is_file()]
        result = SizeResult(
            size=size,
            slot_counts=counts,
            populate_s=round(populate_s, 1),
            build_s=round(build_s, 1),
            build_peak_mb=round(peak),
            build_disk_mb=round(folder_mb(build_dir)),
            recall=recall(args.db, build_dir, args.recall_queries, args.seed),
        )
        key = (
            subprocess.run(
                [sys.executable, "manage.py", "create_api_key", "bench"],
                env=local,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        serve = env | {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "bench-" + os.urandom(32).hex(),
            "CACHE_URL": "redis://127.0.0.1:6379/7",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/7",
            "CTL_THROTTLE_RATE": "100000000/min",
            "DJANGO_SECURE_COOKIES": "false",
            "DJANGO_SECURE_SSL_REDIRECT": "false",  # wrk speaks plain HTTP to gunicorn, no proxy
        }
        lines = request_lines(args.db, args.items, args.seed)
        # Two passes: every answer worked out per request (no answer cache), then the answer cache
        # warmed with every request once (a storefront's pages asked again; POSTs are not cached).
        for cached in (False, True) if args.cached else (False,):
            port = free_port()
            cache_seconds = "600" if cached else "0"
            with gunicorn(serve | {"CTL_ANSWER_CACHE_SECONDS": cache_seconds}, args.workers, port) as server:
                for endpoint in ENDPOINTS if not cached else ("complete", "similar"):
                    if not lines[endpoint]:
                        continue
                    check_answers(port, key, lines[endpoint])
                    if cached:
                        for line in lines[endpoint]:
                            ask(port, key, line)
                    wrk(port, key, lines[endpoint], args.workers * 2, 3)  # warm every worker
                    name = f"{endpoint} cached" if cached else endpoint
                    for clients in args.clients:
                        figures = wrk(port, key, lines[endpoint], clients, args.seconds)
                        load = Load(endpoint=name, clients=clients, **{f: figures[f] for f in LOAD_FIELDS})
                        result.loads.append(load)
                        print(f"  {name} x{clients}: {load}", file=sys.stderr)
                result.web_rss_mb = max(result.web_rss_mb, round(tree_rss_mb(server.pid)))
        results.append(result)
        print_table(args.label, results)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(
                json.dumps(
                    {
                        "label": args.label,
                        "commit": subprocess.run(
                            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
                        ).stdout.strip(),
                        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                        "gunicorn_workers": args.workers,
                        "seconds_per_run": args.seconds,
                        "noise": args.noise,
                        "sizes": [asdict(r) for r in results],
                    },
                    indent=2,
                )
                + "\n"
            )


def print_table(label: str, results: list[SizeResult]) -> None:
    print(f"\n{label or 'bench_scale'}")
    print(
        f"{'items':>9} {'endpoint':>16} {'clients':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'req/s':>7} {'errors':>6}"
    )
    for r in results:
        for load in r.loads:
            print(
                f"{r.size:>9} {load.endpoint:>16} {load.clients:>7} {load.p50_ms:>8.1f} {load.p95_ms:>8.1f} "
                f"{load.p99_ms:>8.1f} {load.rps:>7.0f} {load.non_2xx + load.socket_errors:>6}"
            )
    print(
        f"\n{'items':>9} {'populate s':>10} {'build s':>8} {'build peak MB':>13} {'disk MB':>8} "
        f"{'web RSS MB':>10}  recall@10"
    )
    for r in results:
        print(
            f"{r.size:>9} {r.populate_s:>10.0f} {r.build_s:>8.1f} {r.build_peak_mb:>13.0f} "
            f"{r.build_disk_mb:>8.0f} {r.web_rss_mb:>10.0f}  {r.recall}"
        )


if __name__ == "__main__":
    main()
