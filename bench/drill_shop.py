"""What the failure drills share (not a test): a small shop to serve, private servers to kill, load.

    python bench/drill_shop.py analyse      # (run by seed_shop, in the shop's environment)

- `seed_shop`: a small catalog and library made by the project itself (`make_demo_data`, then
  `import_dataset mango --no-analyze`), a stand-in analysis of every photo (below), an active
  index build (`build_index`) and a storefront API key (`create_api_key`). The stand-in analysis
  is a colour thumbnail of the photo under a fixed random projection, written as ImageAnalysis
  rows: the drills test serving, swapping builds and surviving restarts, not the garment model,
  and training and running that model would cost minutes of the machine's two cores. Like
  colours land near each other, so library paths reach catalog items as with the real model.
- `private_postgres` / `private_redis`: servers of the drill's own (initdb + pg_ctl, redis-server)
  in a temporary folder on a spare port, stopped and removed whatever happens. The shared
  servers on 5432 and 6379 are never stopped.
- `scratch_database`: a database of the drill's own on a server, dropped at the end.
- `stop_on_signals`: SIGTERM and SIGHUP unwind like Ctrl-C, so every `finally` cleans up.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import psycopg  # noqa: E402
from bench_scale import free_port  # noqa: E402  (its neighbour in bench/)
from psycopg import sql  # noqa: E402

STAND_IN_SPEC = "drill-thumbnail@0"
STAND_IN_DIM = 64


def stop_on_signals() -> None:
    """SIGTERM/SIGHUP raise KeyboardInterrupt, as Ctrl-C does: the drill unwinds through its
    context managers, which stop what it started. Ctrl-C too when started by a shell that made
    SIGINT ignored (a background job of a script)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def manage(env: dict[str, str], *args: str) -> str:
    """Run a management command in the shop's environment; its standard output."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def seed_shop(env: dict[str, str], folder: Path, *, outfits: int = 40) -> str:
    """Migrate, make and import a small demo shop, analyse it with the stand-in, build the index;
    the storefront API key. `env` names the database (DATABASE_URL) and CTL_VAR_DIR."""
    manage(env, "migrate", "-v", "0")
    for name, seed, background, count in (
        ("library", "1", "cream", outfits),
        ("catalog", "2", "grey", max(outfits // 2, 10)),
    ):
        manage(env, "make_demo_data", str(folder / name), "--outfits", str(count), "--seed", seed,
               "--background", background, "--prefix", name[0].upper())  # fmt: skip
        manage(env, "import_dataset", "mango", str(folder / name), "--role", name, "--no-analyze", "-v", "0")
    subprocess.run([sys.executable, str(Path(__file__)), "analyse"], env=env, cwd=ROOT, check=True)
    manage(env, "build_index")
    return manage(env, "create_api_key", "drill").strip().splitlines()[-1]


def analyse_with_stand_in() -> None:
    """Write a stand-in analysis of every catalog and library photo (see the module docstring)."""
    import django

    django.setup()
    import numpy as np
    from django.core.files.storage import default_storage
    from PIL import Image

    from outfits.models import CatalogItem, ImageAnalysis, LibraryItem

    projection = np.random.default_rng(0).standard_normal((8 * 8 * 3, STAND_IN_DIM)).astype(np.float32)
    rows = []
    for model, field in ((CatalogItem, "catalog_item"), (LibraryItem, "library_item")):
        for item in model.objects.all():
            with default_storage.open(str(item.image.name)) as photo, Image.open(photo) as image:
                thumbnail = np.asarray(image.convert("RGB").resize((8, 8)), dtype=np.float32) / 255.0
            vector = (thumbnail.reshape(-1) - 0.5) @ projection
            vector /= np.linalg.norm(vector) or 1.0
            colour = str(item.attributes.get("colour_group") or item.attributes.get("colour") or "")
            rows.append(
                ImageAnalysis(
                    **{field: item},
                    model_spec=STAND_IN_SPEC,
                    image_sha256=item.image_sha256,
                    embedding=vector.astype(np.float32).tobytes(),
                    dim=STAND_IN_DIM,
                    attributes={"colour": {colour: 1.0}} if colour else {},
                    quality_score=1.0,
                    quality_verdict="keep",
                    quality_method="drill stand-in",
                )
            )
    ImageAnalysis.objects.bulk_create(rows)
    print(f"stand-in analyses: {len(rows)}")


@contextmanager
def scratch_database(server: str, name: str) -> Iterator[str]:
    """A new empty database `name` on `server` (postgres://user@host:port); its URL. Dropped after."""
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{server}/{name}"
    finally:
        try:
            with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=10) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        except psycopg.Error as exc:  # a stopped private server goes with its folder anyway
            print(f"could not drop {name}: {exc}", file=sys.stderr)


@dataclass
class PrivatePostgres:
    """A PostgreSQL of the drill's own: stop() and start() it at will."""

    bin_dir: Path
    data: Path
    port: int

    @property
    def server(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def start(self) -> None:
        self._ctl("start", "-w", "-l", str(self.data.parent / "postgres.log"),
                  "-o", f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1")  # fmt: skip

    def stop(self) -> None:
        self._ctl("stop", "-w", "-m", "fast")

    def _ctl(self, *args: str) -> None:
        _pg([str(self.bin_dir / "pg_ctl"), "-D", str(self.data), *args])


def _pg(command: list[str], *, check: bool = True) -> None:
    """Run a PostgreSQL program; as the `postgres` user when we are root (PostgreSQL refuses root)."""
    user = "postgres" if os.geteuid() == 0 else None
    subprocess.run(command, check=check, capture_output=True, user=user, group=user)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """initdb in a temporary folder, started on a spare port (trust auth, user postgres)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
    bin_dir = Path(found[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="ctl-drill-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = PrivatePostgres(bin_dir, folder / "data", free_port())
    try:
        _pg([str(bin_dir / "initdb"), "-D", str(server.data), "-U", "postgres", "-A", "trust"])
        server.start()
        yield server
    finally:
        if (server.data / "postmaster.pid").exists():
            _pg([str(bin_dir / "pg_ctl"), "-D", str(server.data), "stop", "-m", "immediate"], check=False)
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class PrivateRedis:
    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", "--appendonly", "no", "--logfile", str(self.folder / "redis.log")],
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).returncode:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("redis-server did not come up")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.thaw()
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def freeze(self) -> None:
        """Stop answering but keep every connection open (SIGSTOP): a hung server, not a dead one."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    """redis-server on a spare port, its files in a temporary folder; stopped and removed after."""
    folder = Path(tempfile.mkdtemp(prefix="ctl-drill-redis-"))
    server = PrivateRedis(folder, free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def service_env(db_url: str, redis: PrivateRedis, work: Path) -> dict[str, str]:
    """The environment the drill's shop runs in: production settings on the drill's own database,
    Redis and folders. The drill's clients ask faster than a storefront may: the throttle still
    counts every request (in Redis), but 429s would hide what the drill is about."""
    var = work / "var"
    (var / "static").mkdir(parents=True, exist_ok=True)  # as collectstatic leaves it in production
    return os.environ | {
        "DATABASE_URL": db_url,
        "CTL_VAR_DIR": str(var),
        "CTL_MODELS_DIR": str(work / "models"),
        "CACHE_URL": f"{redis.url}/0",
        "CELERY_BROKER_URL": f"{redis.url}/1",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "drill-" + os.urandom(32).hex(),
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_SECURE_SSL_REDIRECT": "false",  # the clients speak plain HTTP to gunicorn, no proxy
        "CTL_THROTTLE_RATE": "100000000/min",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }


if __name__ == "__main__":
    if sys.argv[1:] != ["analyse"]:
        sys.exit(__doc__)
    analyse_with_stand_in()
