"""The manifest of an index build: what made it, so a reader never mixes two models or formats."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

# Bump when the files of a build change shape; readers refuse other versions and ask for a rebuild.
FORMAT_VERSION: Final = 2
METRIC: Final[Literal["angular"]] = "angular"
MANIFEST_FILE: Final = "manifest.json"


class ManifestMismatch(RuntimeError):
    """A build was made by another model or format than the reader expects (or is damaged)."""


class IndexNotFound(FileNotFoundError):
    """A build folder, or a file its manifest promises, is missing."""


@dataclass(frozen=True)
class IndexManifest:
    format_version: int
    build_id: str
    model_spec: str
    created_at: str  # ISO 8601, UTC
    dim: int
    n_trees: int
    metric: str
    counts: dict[str, int]  # "catalog/top" -> number of items; only slots that have items
    # The compatibility model whose vectors of the catalog are stored with the build (its artefact
    # id), and their width; "" and 0 when the build has none (no model trained for this image model).
    compat_model: str = ""
    compat_dim: int = 0
    # Catalog items answered ahead of time per "slot/wanted slot" pair (recsys.answers).
    answers: dict[str, int] = field(default_factory=dict)
    # The method they were ranked by: "blend" with a compatibility model, else "library".
    answers_method: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> IndexManifest:
        """Parse a manifest; ValueError when it is not one (bad JSON, a field missing or mistyped)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"manifest is not JSON: {error}") from error
        if not isinstance(data, dict):
            raise ValueError("manifest is not a JSON object")
        return cls(
            format_version=_field(data, "format_version", int),
            build_id=_field(data, "build_id", str),
            model_spec=_field(data, "model_spec", str),
            created_at=_field(data, "created_at", str),
            dim=_field(data, "dim", int),
            n_trees=_field(data, "n_trees", int),
            metric=_field(data, "metric", str),
            counts=_counts(data, "counts"),
            compat_model=_field(data, "compat_model", str, default=""),
            compat_dim=_field(data, "compat_dim", int, default=0),
            answers=_counts(data, "answers"),
            answers_method=_field(data, "answers_method", str, default=""),
        )


def read_manifest(build_dir: Path, *, expect_model_spec: str | None = None) -> IndexManifest:
    """Read and check the manifest of a build: format version, metric and (if given) model spec."""
    path = build_dir / MANIFEST_FILE
    try:
        text = path.read_text()
    except FileNotFoundError as error:
        raise IndexNotFound(f"no index build at {build_dir} ({MANIFEST_FILE} is missing)") from error
    # The version is checked before the fields: another format may not have the same ones.
    try:
        found_version = json.loads(text).get("format_version")
    except (json.JSONDecodeError, AttributeError):
        found_version = None
    _expect(path, "format version", FORMAT_VERSION, found_version)
    try:
        manifest = IndexManifest.from_json(text)
    except ValueError as error:
        raise ManifestMismatch(f"{path}: unreadable manifest ({error}); rebuild the index") from error
    _expect(path, "metric", METRIC, manifest.metric)
    if expect_model_spec is not None:
        _expect(path, "model spec", expect_model_spec, manifest.model_spec)
    return manifest


def _expect(path: Path, what: str, expected: object, found: object) -> None:
    if found != expected:
        raise ManifestMismatch(f"{path}: expected {what} {expected!r}, found {found!r}; rebuild the index")


def _counts(data: dict[str, Any], name: str) -> dict[str, int]:
    # "answers" came with format 2 and may be empty; every build has "counts".
    counts = data.get(name, {} if name == "answers" else None)
    if not isinstance(counts, dict) or not all(
        isinstance(key, str) and _is_int(n) for key, n in counts.items()
    ):
        raise ValueError(f"manifest {name} must map 'name/slot' to an integer")
    return dict(counts)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _field(data: dict[str, Any], name: str, kind: type[int] | type[str], default: Any = None) -> Any:
    # Fields added after format 1 (compat_model, compat_dim) are optional: older builds lack them.
    value = data.get(name, default)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"manifest field {name!r} must be {kind.__name__}, found {value!r}")
    return value
