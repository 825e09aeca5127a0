"""Load for the failure drills: N clients asking in a loop, every answer recorded (not a test).

A thread per client, each with its own keep-alive session (requests), asking random lines until
told to stop. Not wrk (bench_scale's load generator): the drills judge every answer — which build
answered it and what it said, its status and content type at a given moment, how long it took —
and wrk only counts. Twenty threads waiting on sockets cost the machine little beside gunicorn.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import requests

BUILD_HEADER = "X-Index-Build"


@dataclass(frozen=True)
class Reply:
    """One answer (or failure to answer) as a client saw it."""

    started: float  # time.monotonic() when asked
    seconds: float
    path: str
    status: int  # 0: no HTTP answer (refused, reset, timed out)
    json_body: bool  # the body parsed as a JSON object
    header_build: str
    body_build: str
    digest: str  # of the body less its build_id: two builds' answers compare by what they say
    retry_after: str = ""
    error: str = ""


def ask(session: requests.Session, base: str, path: str, timeout: float) -> Reply:
    started = time.monotonic()
    try:
        response = session.get(base + path, timeout=timeout)
    except requests.RequestException as exc:
        return Reply(
            started, time.monotonic() - started, path, 0, False, "", "", "", error=type(exc).__name__
        )
    seconds = time.monotonic() - started
    try:
        body = response.json()
    except ValueError:
        body = None
    is_object = isinstance(body, dict)
    said = {k: v for k, v in body.items() if k != "build_id"} if is_object else response.text
    return Reply(
        started=started,
        seconds=seconds,
        path=path,
        status=response.status_code,
        json_body=is_object,
        header_build=response.headers.get(BUILD_HEADER, ""),
        body_build=str(body.get("build_id", "")) if is_object else "",
        digest=hashlib.sha256(json.dumps(said, sort_keys=True).encode()).hexdigest()[:16],
        retry_after=response.headers.get("Retry-After", ""),
    )


class Load:
    """`clients` threads asking random paths of `paths` until stop()."""

    def __init__(
        self, base: str, key: str, paths: Sequence[str], clients: int, *, timeout: float = 10.0, seed: int = 0
    ) -> None:
        self.base, self.key, self.paths, self.timeout = base, key, list(paths), timeout
        self.replies: list[Reply] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._client, args=(random.Random(seed + n),), daemon=True)
            for n in range(clients)
        ]

    def _client(self, rng: random.Random) -> None:
        with requests.Session() as session:
            session.headers["X-Api-Key"] = self.key
            while not self._stop.is_set():
                reply = ask(session, self.base, rng.choice(self.paths), self.timeout)
                with self._lock:
                    self.replies.append(reply)
                if reply.status == 0:  # refused: do not spin
                    time.sleep(0.05)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)


def print_json(figures: dict[str, object]) -> None:
    print(json.dumps(figures, indent=2, default=str))
