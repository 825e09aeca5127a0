"""Where ``./bin/demo`` keeps a data set's database, photos, indexes and models.

Each data set the demo serves gets a folder of its own under ``<var>/demo/``, so serving a real data
set after the generated one (or one real set after another) never mixes their catalog items into
one SQLite file, one index or one garment model trained on the other's photos. The name is read
from the data set: ``generated`` for the project's own demo data, else the folder's name and a short
digest of its full path and layout (two folders both called ``images`` never share).

``python -m demo.places [--data PATH] [--layout mango|myntra] [--root VAR]`` prints the folder.
"""

from __future__ import annotations

import argparse
import hashlib
import re
from pathlib import Path

GENERATED = "generated"
_UNSAFE = re.compile(r"[^a-z0-9]+")


def data_set_name(data: Path | None, layout: str = "mango") -> str:
    """``generated`` without a data folder; else ``<folder name>-<8 hex digits>``, the same for
    every spelling of one folder (relative, trailing slash, through a symlink)."""
    if data is None:
        return GENERATED
    resolved = Path(data).expanduser().resolve()
    slug = _UNSAFE.sub("-", resolved.name.lower()).strip("-")[:40] or "data"
    digest = hashlib.sha256(f"{resolved}\n{layout}".encode()).hexdigest()[:8]
    return f"{slug}-{digest}"


def data_set_var_dir(root: Path, data: Path | None, layout: str = "mango") -> Path:
    """The folder (``CTL_VAR_DIR``) the demo serves ``data`` from: ``<root>/demo/<name>``."""
    return Path(root) / "demo" / data_set_name(data, layout)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo.places", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--layout", choices=["mango", "myntra"], default="mango")
    parser.add_argument("--root", type=Path, default=Path("var"))
    args = parser.parse_args(argv)
    print(data_set_var_dir(args.root, args.data, args.layout))


if __name__ == "__main__":
    main()
