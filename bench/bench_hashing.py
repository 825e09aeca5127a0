"""Nearest-neighbour search within one slot: exact, Annoy and ITQ hashing, on the same queries.

    python bench/bench_hashing.py (--embeddings FILE.npz | --synthetic-dim D) [--slots largest]
        [--sizes 100000 1000000] [--queries 500] [--noise 0.3] [--repeats 3] [--json OUT]

Methods, all asked for the top k (10) centred unit vectors by cosine:
  exact batched    numpy matrix product of a block of queries with every item (the reference)
  exact per query  numpy, one query at a time (on a subsample of the queries when n is large)
  annoy            angular index, 50 trees as recsys.index builds it (threaded build here), queried
                   one at a time at several search_k (-1 = Annoy's default, n_trees * k)
  itq              recsys.hashing.HashIndex at --itq BITS:SHORTLIST settings: Hamming short list,
                   exact cosine re-rank; batched (`search_many`) and one at a time (`search`, on
                   the same subsample as exact per query: --single-queries)

Per method: recall@k against exact batched search, queries/s (median of --repeats timed runs after
a short warm-up; the table says over how many queries), build or fit time, and memory of the index
(Annoy: its file, which holds its own copy of the vectors; ITQ: codes + the float vectors it
re-ranks with; exact: the float vectors).

Data (one population, centred by its mean over all slots and normalised, as recsys.centring does):
  --embeddings FILE.npz   arrays `vectors` float32 (n, d) raw embeddings and `slots` (n,) strings.
                          --slots largest|all|NAME...: which slots to benchmark at their own size;
                          queries are held-out rows of the slot, the rest is the index.
  --synthetic-dim D       no file: a clustered stand-in with a decaying spectrum, for development.
  --sizes N ...           "real-like" indexes of N vectors: rows of the first chosen slot drawn
                          with replacement plus Gaussian noise of expected norm --noise (default 0.3
                          of a unit vector: cosine ~0.96 to the source row), re-normalised. Queries
                          are held-out rows, likewise perturbed, whose source is not in the pool.
A benchmark, not a test: it prints figures and asserts nothing. 1M items of 512-d take 2 GB for the
vectors (shared by exact and ITQ) and about as much again for the Annoy file (built in --work-dir,
deleted after each case); at 1280-d, 5 GB each. Progress goes to stderr, the tables to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Run as a script from anywhere: make the project root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from annoy import AnnoyIndex
from numpy.typing import NDArray
from tqdm import tqdm

from recsys.centring import centre_rows
from recsys.hashing import HashIndex
from recsys.index_manifest import METRIC
from recsys.slots import SLOTS

Vectors = NDArray[np.float32]
Neighbours = NDArray[np.int64]

N_TREES = 50  # as recsys.index_build.IndexBuilder.write
# Bytes of one (queries x items) similarity block of exact batched search.
BLOCK_BYTES = 256 * 2**20
CHUNK_ROWS = 65_536
WARMUP_QUERIES = 10


@dataclass
class Row:
    method: str
    queries: int
    recall: float
    queries_per_second: float
    build_seconds: float | None
    index_bytes: int
    notes: str = ""
    repeats_qps: list[float] = field(default_factory=list)


@dataclass
class Case:
    name: str
    items: int
    dim: int
    queries: int
    description: str
    top1_cosine: float  # mean over queries of the exact best match: how hard the world is
    topk_cosine: float  # mean of the exact k-th match
    rows: list[Row] = field(default_factory=list)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--embeddings", type=Path, help=".npz with `vectors` (n, d) and `slots` (n,)")
    source.add_argument("--synthetic-dim", type=int, help="no file: generate a clustered stand-in of dim D")
    parser.add_argument("--synthetic-n", type=int, default=30_000, help="rows of the synthetic stand-in")
    parser.add_argument("--slots", nargs="+", default=["largest"], help="largest, all, or slot names")
    parser.add_argument("--sizes", nargs="*", type=int, default=[], help="real-like index sizes")
    parser.add_argument("--noise", type=float, default=0.3, help="expected noise norm of real-like rows")
    parser.add_argument("--queries", type=int, default=500, help="held-out queries per case")
    parser.add_argument(
        "--single-queries",
        type=int,
        default=None,
        help="queries for the slow one-at-a-time exact and ITQ runs (default 200, 50 above 200k items)",
    )
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per method (median reported)")
    parser.add_argument("--annoy-search-k", nargs="+", type=int, default=[-1, 5000, 20000])
    parser.add_argument(
        "--itq", nargs="+", default=["128:1000", "256:1000", "256:4000"], help="BITS:SHORTLIST settings"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work-dir", type=Path, default=Path("var"), help="where Annoy files are built")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    itq = [_itq_setting(parser, text) for text in args.itq]
    if args.k < 1 or args.queries < 1 or args.repeats < 1:
        parser.error("--k, --queries and --repeats must be positive")

    rng = np.random.default_rng(args.seed)
    if args.embeddings is not None:
        raw, slots = _load_embeddings(parser, args.embeddings)
        origin = f"{args.embeddings}"
    else:
        raw, slots = _synthetic(rng, args.synthetic_n, args.synthetic_dim)
        origin = f"synthetic stand-in ({args.synthetic_n} rows, dim {args.synthetic_dim})"
    unit = _centre(raw)
    del raw
    chosen = _choose_slots(parser, slots, args.slots)
    _log(f"data: {origin}; {len(unit)} rows of dim {unit.shape[1]}; slots {dict(_slot_counts(slots))}")

    cases: list[Case] = []
    for slot in chosen:
        index_rows, query_rows = _hold_out(rng, np.flatnonzero(slots == slot), args.queries)
        description = f"slot {slot!r} at its own size; queries: held-out rows of the slot"
        case = _run_case(f"{slot} (own size)", unit[index_rows], unit[query_rows], description, itq, args)
        cases.append(case)
    if args.sizes:
        pool_rows, query_rows = _hold_out(rng, np.flatnonzero(slots == chosen[0]), args.queries)
        queries = _perturbed(rng, unit[query_rows], args.noise)
        for size in args.sizes:
            items = _perturbed(rng, unit, args.noise, size=size, rows=pool_rows)
            description = (
                f"real-like: {size} rows drawn with replacement from {len(pool_rows)} rows of slot "
                f"{chosen[0]!r}, Gaussian noise of expected norm {args.noise} "
                f"(sigma {args.noise / np.sqrt(unit.shape[1]):.4f} per dim), re-normalised; "
                "queries: held-out rows, likewise perturbed"
            )
            cases.append(_run_case(f"real-like {size}", items, queries, description, itq, args))
            del items

    print()
    print(f"# Nearest-neighbour search benchmark: {origin}")
    print()
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}; "
        f"numpy {np.__version__}; top {args.k} by cosine; queries/s: median of {args.repeats} runs"
    )
    for case in cases:
        print(_markdown(case, args.k))
    if args.json is not None:
        payload = {
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if argv is None else argv,
            "origin": origin,
            "k": args.k,
            "repeats": args.repeats,
            "seed": args.seed,
            "noise": args.noise,
            "cpus": os.cpu_count(),
            "numpy": np.__version__,
            "cases": [asdict(case) for case in cases],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"figures written to {args.json}")


def _run_case(
    name: str,
    items: Vectors,
    queries: Vectors,
    description: str,
    itq: list[tuple[int, int]],
    args: argparse.Namespace,
) -> Case:
    n, dim = items.shape
    k = min(args.k, n)
    single = args.single_queries or (200 if n <= 200_000 else 50)
    single = min(single, len(queries))
    _log(f"\n== {name}: {n} items, {len(queries)} queries, dim {dim} ==")

    truth, truth_similarities = _exact_batched(items, queries, k)
    case = Case(
        name=name,
        items=n,
        dim=dim,
        queries=len(queries),
        description=description,
        top1_cosine=float(truth_similarities[:, 0].mean()),
        topk_cosine=float(truth_similarities[:, -1].mean()),
    )

    def add(
        method: str,
        search: Callable[[Vectors], Neighbours],
        count: int,
        build_seconds: float | None,
        index_bytes: int,
        notes: str = "",
    ) -> None:
        found, rates = _timed(search, queries[:count], args.repeats)
        recall = _recall(found, truth[:count])
        case.rows.append(
            Row(method, count, recall, statistics.median(rates), build_seconds, index_bytes, notes, rates)
        )
        _log(f"{method:<34} recall@{k} {recall:.3f}  {statistics.median(rates):9.1f} q/s")

    add("exact, batched", lambda q: _exact_batched(items, q, k)[0], len(queries), None, items.nbytes)
    add("exact, per query", lambda q: _exact_each(items, q, k), single, None, items.nbytes)

    with tempfile.TemporaryDirectory(dir=_work_dir(args.work_dir)) as work:
        annoy, build_seconds, annoy_bytes = _annoy_build(items, Path(work) / "bench.ann", args.seed)
        for search_k in args.annoy_search_k:
            label = "default" if search_k == -1 else str(search_k)
            add(
                f"annoy {N_TREES} trees, search_k {label}",
                _annoy_search(annoy, k, search_k),
                len(queries),
                build_seconds,
                annoy_bytes,
                f"build {N_TREES} trees, n_jobs=-1",
            )
        annoy.unload()

    for bits in sorted({bits for bits, _ in itq}):
        _log(f"fitting ITQ, {bits} bits")
        started = time.perf_counter()
        index = HashIndex.build(items, np.arange(n), bits=bits, seed=args.seed)
        fit_seconds = time.perf_counter() - started
        notes = (
            f"codes {_megabytes(index.codes.nbytes)} MB + float vectors {_megabytes(index.vectors.nbytes)} MB"
        )
        for setting_bits, shortlist in itq:
            if setting_bits != bits:
                continue
            shortlist = min(shortlist, n)
            add(
                f"itq {bits} bits, shortlist {shortlist}, batched",
                _itq_search(index, k, shortlist, batched=True),
                len(queries),
                fit_seconds,
                index.nbytes,
                notes,
            )
            add(
                f"itq {bits} bits, shortlist {shortlist}, per query",
                _itq_search(index, k, shortlist, batched=False),
                single,
                fit_seconds,
                index.nbytes,
                notes,
            )
    return case


def _exact_batched(items: Vectors, queries: Vectors, k: int) -> tuple[Neighbours, Vectors]:
    """Top-k positions and cosines, best first, a block of queries per matrix product."""
    block = max(1, min(len(queries), BLOCK_BYTES // (4 * len(items))))
    positions = np.empty((len(queries), k), dtype=np.int64)
    similarities = np.empty((len(queries), k), dtype=np.float32)
    for start in range(0, len(queries), block):
        cosines = queries[start : start + block] @ items.T
        top = np.argpartition(cosines, len(items) - k, axis=1)[:, len(items) - k :]
        top_cosines = np.take_along_axis(cosines, top, axis=1)
        order = np.argsort(-top_cosines, axis=1, kind="stable")
        positions[start : start + block] = np.take_along_axis(top, order, axis=1)
        similarities[start : start + block] = np.take_along_axis(top_cosines, order, axis=1)
    return positions, similarities


def _exact_each(items: Vectors, queries: Vectors, k: int) -> Neighbours:
    found = np.empty((len(queries), k), dtype=np.int64)
    for row, query in enumerate(queries):
        cosines = items @ query
        top = np.argpartition(cosines, len(items) - k)[len(items) - k :]
        found[row] = top[np.argsort(-cosines[top], kind="stable")]
    return found


def _annoy_build(items: Vectors, path: Path, seed: int) -> tuple[AnnoyIndex, float, int]:
    """Annoy as recsys.index_build writes it (on-disk build, 50 trees), but threaded."""
    started = time.perf_counter()
    annoy = AnnoyIndex(items.shape[1], METRIC)
    annoy.on_disk_build(str(path))  # the file is mapped, not a second copy in anonymous memory
    annoy.set_seed(seed)
    for start in tqdm(range(0, len(items), CHUNK_ROWS), desc="annoy add_item", unit="chunk", leave=False):
        for offset, vector in enumerate(items[start : start + CHUNK_ROWS].tolist()):
            annoy.add_item(start + offset, vector)
    _log(f"building Annoy, {N_TREES} trees over {len(items)} items")
    annoy.build(N_TREES, n_jobs=-1)
    seconds = time.perf_counter() - started
    return annoy, seconds, path.stat().st_size


def _annoy_search(annoy: AnnoyIndex, k: int, search_k: int) -> Callable[[Vectors], Neighbours]:
    def search(queries: Vectors) -> Neighbours:
        found = np.full((len(queries), k), -1, dtype=np.int64)  # Annoy may find fewer than k
        for row, query in enumerate(queries):
            ids = annoy.get_nns_by_vector(query.tolist(), k, search_k)
            found[row, : len(ids)] = ids
        return found

    return search


def _itq_search(
    index: HashIndex, k: int, shortlist: int, *, batched: bool
) -> Callable[[Vectors], Neighbours]:
    def search(queries: Vectors) -> Neighbours:
        if batched:
            return index.search_many(queries, k, shortlist=shortlist)[0]
        return np.stack([index.search(query, k, shortlist=shortlist)[0] for query in queries])

    return search


def _timed(
    search: Callable[[Vectors], Neighbours], queries: Vectors, repeats: int
) -> tuple[Neighbours, list[float]]:
    search(queries[:WARMUP_QUERIES])  # first-call costs (page faults of a fresh mapping, BLAS setup)
    rates: list[float] = []
    found: Neighbours | None = None
    for _ in range(repeats):
        started = time.perf_counter()
        found = search(queries)
        rates.append(len(queries) / (time.perf_counter() - started))
    assert found is not None
    return found, rates


def _recall(found: Neighbours, truth: Neighbours) -> float:
    hits = [len(np.intersect1d(got, want)) for got, want in zip(found, truth, strict=True)]
    return float(np.mean(hits)) / truth.shape[1]


def _load_embeddings(parser: argparse.ArgumentParser, path: Path) -> tuple[Vectors, NDArray[np.str_]]:
    with np.load(path, allow_pickle=False) as stored:
        if "vectors" not in stored.files or "slots" not in stored.files:
            parser.error(f"{path} must hold arrays `vectors` and `slots`, found {stored.files}")
        vectors = np.asarray(stored["vectors"], dtype=np.float32)
        slots = np.asarray(stored["slots"]).astype(str)
    if vectors.ndim != 2 or slots.shape != (len(vectors),):
        parser.error(f"{path}: expected vectors (n, d) and slots (n,), got {vectors.shape} and {slots.shape}")
    if not np.isfinite(vectors).all():
        parser.error(f"{path}: vectors have non-finite values")
    return vectors, slots


def _synthetic(rng: np.random.Generator, n: int, dim: int) -> tuple[Vectors, NDArray[np.str_]]:
    """Clusters of garments, a few slots, and most variance in a few directions like real embeddings.

    Points spread as far from their centre as centres from each other, so clusters overlap and
    the k-th neighbour is not a near duplicate.
    """
    if dim < 8:
        raise SystemExit("--synthetic-dim must be at least 8")
    clusters = max(n // 100, 3)
    spectrum = (1.0 + np.arange(dim)) ** -0.5  # a decaying PCA spectrum
    centres = rng.standard_normal((clusters, dim)) * spectrum
    assignment = rng.integers(clusters, size=n)
    vectors = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n)
        noise = rng.standard_normal((stop - start, dim)) * spectrum
        vectors[start:stop] = centres[assignment[start:stop]] + noise + 1.0  # + a shared "photo style"
    slot_names = np.asarray(SLOTS[:3])
    return vectors, slot_names[assignment % len(slot_names)]


def _centre(raw: Vectors) -> Vectors:
    mean = raw.mean(axis=0, dtype=np.float64).astype(np.float32)
    unit = np.empty_like(raw, dtype=np.float32)
    for start in range(0, len(raw), CHUNK_ROWS):
        unit[start : start + CHUNK_ROWS] = centre_rows(raw[start : start + CHUNK_ROWS], mean)
    return unit


def _perturbed(
    rng: np.random.Generator,
    unit: Vectors,
    noise: float,
    *,
    size: int | None = None,
    rows: NDArray[np.int64] | None = None,
) -> Vectors:
    """`size` rows drawn with replacement from `unit[rows]` (or every row of `unit` once), plus noise."""
    sources = np.arange(len(unit)) if rows is None else rows
    count = len(sources) if size is None else size
    picked = sources if size is None else rng.choice(sources, size=count)
    sigma = noise / np.sqrt(unit.shape[1])  # E|noise| ~ noise for large dim
    out = np.empty((count, unit.shape[1]), dtype=np.float32)
    for start in range(0, count, CHUNK_ROWS):
        chunk = unit[picked[start : start + CHUNK_ROWS]]
        chunk += sigma * rng.standard_normal(chunk.shape, dtype=np.float32)
        out[start : start + CHUNK_ROWS] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return out


def _hold_out(
    rng: np.random.Generator, rows: NDArray[np.int64], queries: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Split the rows of a slot into index rows and at most `queries` query rows (a fifth if few)."""
    held = min(queries, len(rows) // 5)
    if held < 1:
        raise SystemExit(f"a slot of {len(rows)} rows is too small to hold queries out")
    shuffled = rng.permutation(rows)
    return np.sort(shuffled[held:]), shuffled[:held]


def _choose_slots(parser: argparse.ArgumentParser, slots: NDArray[np.str_], wanted: list[str]) -> list[str]:
    counts = _slot_counts(slots)
    if wanted == ["largest"]:
        return [counts[0][0]]
    if wanted == ["all"]:
        return [slot for slot, _ in counts]
    missing = sorted(set(wanted) - {slot for slot, _ in counts})
    if missing:
        parser.error(f"no rows for slots {missing}; the file has {[slot for slot, _ in counts]}")
    return wanted


def _slot_counts(slots: NDArray[np.str_]) -> list[tuple[str, int]]:
    names, counts = np.unique(slots, return_counts=True)
    return sorted(zip(names.tolist(), counts.tolist(), strict=True), key=lambda pair: -pair[1])


def _itq_setting(parser: argparse.ArgumentParser, text: str) -> tuple[int, int]:
    try:
        bits, shortlist = (int(part) for part in text.split(":"))
    except ValueError:
        parser.error(f"--itq takes BITS:SHORTLIST pairs such as 256:1000, got {text!r}")
    return bits, shortlist


def _work_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _markdown(case: Case, k: int) -> str:
    lines = [
        "",
        f"## {case.name}: {case.items:,} items, dim {case.dim}, {case.queries} queries",
        "",
        f"{case.description}. Exact top-1 cosine {case.top1_cosine:.3f}, top-{k} {case.topk_cosine:.3f} "
        "(means over queries).",
        "",
        f"| method | queries | recall@{k} | queries/s | build/fit s | index MB | notes |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in case.rows:
        build = "-" if row.build_seconds is None else f"{row.build_seconds:.1f}"
        lines.append(
            f"| {row.method} | {row.queries} | {row.recall:.3f} | {row.queries_per_second:,.1f} | {build} "
            f"| {_megabytes(row.index_bytes)} | {row.notes} |"
        )
    return "\n".join(lines)


def _megabytes(count: int) -> str:
    megabytes = count / 2**20
    return f"{megabytes:.2f}" if megabytes < 10 else f"{megabytes:,.0f}"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
