"""Train the compatibility model on the library's approved outfits (imports torch).

Each training step asks fill-in-the-blank questions of the training outfits: hide one garment, and
score it and `negatives` others against the rest of its outfit. The others are garments of the
same type as the hidden one (the hard case a shopper faces: which of these jeans?), else of its
family, else of its slot, drawn from the training garments only. The loss is the cross-entropy of
the hidden garment among them; a step embeds every training garment once (a few thousand rows
through a small MLP), so the whole run takes seconds per epoch on a CPU.

Validation: outfits set aside by recsys.compat.split, sharing no garment with training, asked the
same protocol as the evaluation files (recsys.eval_files: tops and bottoms hidden among three of
their type from the validation garments). Early stopping on that accuracy; the best epoch's
weights are kept. Deterministic for a seed (one thread order aside); resumable from the checkpoint
saved after every epoch in `work_dir`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..eval_files import Garment, compat_entries, fitb_questions
from ..evaluate import fitb_accuracy, roc_auc
from ..slots import SLOTS
from .features import AttributeVocabulary, GarmentInputs, input_matrix
from .model import CompatScorer, build_net, slot_pairs
from .split import TRAIN, VALIDATION, OutfitSplit, split_outfits

# The blank categories of the shipped evaluation files (MANGO's Tops and Bottoms) are our slots.
VALIDATION_BLANKS = ("top", "bottom")


@dataclass(frozen=True)
class CompatSettings:
    seed: int = 0
    validation_share: float = 0.15
    max_epochs: int = 60
    patience: int = 8
    batch_size: int = 256
    negatives: int = 15
    hidden: int = 256
    dim: int = 128
    dropout: float = 0.3
    input_dropout: float = 0.2  # share of garments whose text and attributes a step hides
    learning_rate: float = 2e-3
    weight_decay: float = 1e-3
    # Members of the ensemble: the same model from different initialisations and batch orders, each
    # early-stopped on the same validation outfits; their scores are averaged (one scorer).
    members: int = 1


@dataclass(frozen=True)
class LibraryGarments:
    """The library as training reads it: one row per garment, outfits as lists of rows."""

    keys: NDArray[np.int64]  # database keys
    slots: tuple[str, ...]
    families: tuple[str, ...]
    types: tuple[str, ...]
    inputs: GarmentInputs
    outfits: Mapping[int, Sequence[int]]  # outfit key -> rows of its garments

    def __post_init__(self) -> None:
        n = len(self.keys)
        if not len(self.slots) == len(self.families) == len(self.types) == len(self.inputs) == n:
            raise ValueError("every garment needs a key, slot, family, type and inputs")


@dataclass
class CompatResult:
    scorer: CompatScorer
    vocabulary: AttributeVocabulary
    metrics: dict[str, float]
    counts: dict[str, int]
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    # The validation questions as garment rows (pieces, candidates, answer) and the outfits they
    # came from: what the blend of this model with the library method is fitted on.
    validation_fitb: list[tuple[list[int], list[int], int]] = field(default_factory=list)
    validation_outfits: list[int] = field(default_factory=list)


class CompatTrainingError(RuntimeError):
    """Training cannot start (too few outfits, nothing to validate on, a stale checkpoint)."""


def _garments_for_eval(library: LibraryGarments, rows: Sequence[int]) -> dict[str, Garment]:
    return {
        str(row): Garment(str(row), library.slots[row], library.families[row], library.types[row])
        for row in rows
    }


@dataclass(frozen=True)
class _Questions:
    """Validation questions as rows: FITB (pieces, candidates, answer) and compat (items, label)."""

    fitb: list[tuple[list[int], list[int], int]]
    compat: list[tuple[list[int], int]]


def _validation_questions(library: LibraryGarments, split: OutfitSplit[int, int], seed: int) -> _Questions:
    outfits = {str(k): [str(r) for r in rows] for k, rows in split.outfits[VALIDATION].items()}
    garments = _garments_for_eval(library, sorted(split.items(VALIDATION)))
    fitb = [
        ([int(i) for i in q["question"]], [int(c) for c in q["candidates"]], int(q["answer"]))
        for q in fitb_questions(
            outfits, garments, seed=seed, prefix="v", blank_categories=VALIDATION_BLANKS, min_candidates=2
        )
    ]
    compat = [
        ([int(i) for i in e["items"]], int(e["label"]))
        for e in compat_entries(outfits, garments, seed=seed, prefix="v")
    ]
    return _Questions(fitb=fitb, compat=compat)


def score_fitb(
    scorer: CompatScorer, embedded: NDArray[np.float32], slots: Sequence[str], questions: _Questions
) -> dict[str, float]:
    """FITB accuracy and compatibility AUC of `scorer` on question rows of `embedded` garments."""
    answers = []
    for pieces, candidates, answer in questions.fitb:
        scores = scorer.outfit_scores(
            embedded[pieces], [slots[p] for p in pieces], embedded[candidates], slots[candidates[answer]]
        )
        answers.append((scores.tolist(), answer))
    outfit_scores, labels = [], []
    for items, label in questions.compat:
        outfit_scores.append(scorer.outfit_score(embedded[items], [slots[i] for i in items]))
        labels.append(label)
    metrics = {"fitb": fitb_accuracy(answers) if answers else 0.0, "fitb_n": float(len(answers))}
    if len(set(labels)) == 2:
        metrics["auc"] = roc_auc(outfit_scores, labels)
    return metrics


class _NegativePools:
    """Training garments grouped by type, family and slot, for drawing same-kind negatives."""

    def __init__(self, library: LibraryGarments, rows: Sequence[int], negatives: int) -> None:
        self.negatives = negatives
        self.levels: list[tuple[Sequence[str], dict[str, NDArray[np.int64]]]] = []
        for names in (library.types, library.families, library.slots):
            groups: dict[str, list[int]] = {}
            for row in rows:
                groups.setdefault(names[row], []).append(row)
            self.levels.append((names, {k: np.array(v, dtype=np.int64) for k, v in groups.items()}))

    def draw(self, answer: int, taken: set[int], rng: np.random.Generator) -> NDArray[np.int64]:
        for names, groups in self.levels:
            pool = groups.get(names[answer])
            if pool is None:
                continue
            pool = pool[~np.isin(pool, list(taken))]
            if len(pool) >= self.negatives:
                return rng.choice(pool, self.negatives, replace=False)
        # A tiny library: repeat what there is rather than skip the question.
        pool = self.levels[-1][1].get(self.levels[-1][0][answer], np.zeros(0, dtype=np.int64))
        pool = pool[~np.isin(pool, list(taken))]
        return rng.choice(pool, self.negatives, replace=True) if len(pool) else np.zeros(0, dtype=np.int64)


def train_compat_model(
    library: LibraryGarments,
    *,
    settings: CompatSettings = CompatSettings(),
    work_dir: Path | None = None,
    resume: bool = False,
    progress: bool = True,
    report: Callable[[str], None] = print,
) -> CompatResult:
    """Train on the library's outfits; returns the best epoch's model with its validation figures.

    Side effects: a checkpoint per epoch in `work_dir` (when given). Raises CompatTrainingError
    when the library cannot be split or yields no question.
    """
    import torch

    from .split import SplitError

    started = time.perf_counter()
    try:
        split = split_outfits(
            library.outfits, shares={VALIDATION: settings.validation_share}, seed=settings.seed
        )
    except SplitError as exc:
        raise CompatTrainingError(f"cannot set validation outfits aside: {exc}") from exc
    train_rows = sorted(split.items(TRAIN))
    training_outfits = [list(rows) for rows in split.outfits[TRAIN].values()]
    questions = _validation_questions(library, split, settings.seed)
    if not questions.fitb:
        raise CompatTrainingError(
            "the validation outfits yield no fill-in-the-blank question (too few tops and bottoms set "
            "aside): add library outfits or raise --validation-share"
        )
    vocabulary = AttributeVocabulary.fit([library.inputs.attributes[r] for r in train_rows])
    matrix = input_matrix(library.inputs, vocabulary)
    image_width = library.inputs.image.shape[1]
    # Columns a step may hide: text, attributes and the has_text flag (the image always stays).
    hideable = torch.zeros(matrix.shape[1], dtype=torch.bool)
    hideable[image_width:] = True
    hideable[-2] = False  # has_image
    pools = _NegativePools(library, train_rows, settings.negatives)
    # slot_rows[i, j]: the pair_weights row of slots i and j (SLOTS order).
    pair_row = slot_pairs()
    slot_rows = np.array([[pair_row[(a, b)] for b in SLOTS] for a in SLOTS], dtype=np.int64)
    garment_slot = np.array([SLOTS.index(s) for s in library.slots], dtype=np.int64)
    blanks = [(o, b) for o, rows in enumerate(training_outfits) for b in range(len(rows)) if len(rows) >= 2]
    if not blanks:
        raise CompatTrainingError("no training outfit has two garments")

    trained: list[_Member] = []
    for member in range(settings.members):
        checkpoint = Path(work_dir) / f"compat-checkpoint-m{member}.pt" if work_dir else None
        trained.append(
            _train_member(
                member,
                _MemberData(library, settings, matrix, hideable, pools, blanks, training_outfits, questions),
                garment_slot=garment_slot,
                slot_rows=slot_rows,
                checkpoint=checkpoint,
                resume=resume,
                progress=progress,
                report=report,
            )
        )
    scorer = CompatScorer.ensemble([m.weights for m in trained])
    final = score_fitb(scorer, scorer.embed(matrix), library.slots, questions)
    metrics = {f"validation/{k}": v for k, v in final.items()}
    if settings.members > 1:
        metrics["validation/fitb_first_member"] = trained[0].best
        report(
            f"ensemble of {settings.members}: validation fitb {final['fitb']:.3f} "
            f"(members {', '.join(f'{m.best:.3f}' for m in trained)})"
        )
    return CompatResult(
        scorer=scorer,
        vocabulary=vocabulary,
        metrics=metrics,
        counts={
            "garments": len(library.keys),
            "outfits": len(library.outfits),
            "training_outfits": len(training_outfits),
            "training_garments": len(train_rows),
            "validation_outfits": len(split.outfits[VALIDATION]),
            "validation_garments": len(split.items(VALIDATION)),
            "validation_questions": len(questions.fitb),
            "best_epoch": trained[0].best_epoch,
            "epochs": trained[0].epochs,
            "members": settings.members,
        },
        history=[row for m in trained for row in m.history],
        seconds=time.perf_counter() - started,
        validation_fitb=questions.fitb,
        validation_outfits=sorted(split.outfits[VALIDATION]),
    )


@dataclass(frozen=True)
class _MemberData:
    """What every member trains and validates on (shared, read-only)."""

    library: LibraryGarments
    settings: CompatSettings
    matrix: NDArray[np.float32]
    hideable: Any
    pools: _NegativePools
    blanks: list[tuple[int, int]]
    outfits: list[list[int]]
    questions: _Questions


@dataclass
class _Member:
    weights: dict[str, NDArray[np.float32]]
    best: float
    best_epoch: int
    epochs: int
    history: list[dict[str, float]]


def _train_member(
    member: int,
    data: _MemberData,
    *,
    garment_slot: NDArray[np.int64],
    slot_rows: NDArray[np.int64],
    checkpoint: Path | None,
    resume: bool,
    progress: bool,
    report: Callable[[str], None],
) -> _Member:
    """One member: its own initialisation and batch order (seed + member), early-stopped on the
    shared validation questions, checkpointed every epoch so training can resume."""
    import torch
    from tqdm import tqdm

    settings, library, matrix = data.settings, data.library, data.matrix
    seed = settings.seed + 1000 * member
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(matrix)
    net = build_net(
        matrix.shape[1],
        image_width=library.inputs.image.shape[1],
        hidden=settings.hidden,
        dim=settings.dim,
        dropout=settings.dropout,
    )
    optimiser = torch.optim.AdamW(
        net.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    state: dict[str, Any] = {"epoch": 0, "best": -1.0, "best_epoch": 0, "bad": 0, "history": []}
    best_weights: dict[str, Any] | None = None
    fingerprint = _fingerprint(library, settings) + f"/m{member}"
    label = f"member {member}, " if settings.members > 1 else ""
    if resume and checkpoint is not None and checkpoint.is_file():
        saved = torch.load(checkpoint, weights_only=False)
        if saved["fingerprint"] != fingerprint:
            raise CompatTrainingError(
                f"{checkpoint} was made for other data or settings; train without --resume"
            )
        net.load_state_dict(saved["net"])
        optimiser.load_state_dict(saved["optimiser"])
        rng = saved["rng"]
        torch.set_rng_state(saved["torch_rng"])
        state, best_weights = saved["state"], saved["best_weights"]
        report(f"{label}resuming after epoch {state['epoch']}")
    while state["epoch"] < settings.max_epochs and state["bad"] < settings.patience:
        epoch = state["epoch"] + 1
        net.train()
        order = rng.permutation(len(data.blanks))
        steps = range(0, len(order), settings.batch_size)
        running = 0.0
        for start in tqdm(
            steps, desc=f"{label}epoch {epoch}/{settings.max_epochs}", unit="batch", disable=not progress
        ):
            batch = [data.blanks[i] for i in order[start : start + settings.batch_size]]
            loss = _step_loss(
                net, x, data.hideable, settings, batch, data.outfits, data.pools, garment_slot, slot_rows, rng
            )
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            running += float(loss.detach()) * len(batch)
        scorer = CompatScorer(net.arrays())
        net.eval()
        metrics = score_fitb(scorer, scorer.embed(matrix), library.slots, data.questions)
        loss = running / len(data.blanks)
        state["history"].append({"member": member, "epoch": epoch, "loss": loss, **metrics})
        report(
            f"{label}epoch {epoch}: loss {loss:.3f}, validation fitb {metrics['fitb']:.3f}"
            + (f", auc {metrics['auc']:.3f}" if "auc" in metrics else "")
        )
        if metrics["fitb"] > state["best"]:
            state.update(best=metrics["fitb"], best_epoch=epoch, bad=0)
            best_weights = {k: v.detach().clone() for k, v in net.state_dict().items()}
        else:
            state["bad"] += 1
        state["epoch"] = epoch
        if checkpoint is not None:
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            part = checkpoint.with_suffix(".part")
            torch.save(
                {
                    "fingerprint": fingerprint,
                    "net": net.state_dict(),
                    "optimiser": optimiser.state_dict(),
                    "rng": rng,
                    "torch_rng": torch.get_rng_state(),
                    "state": state,
                    "best_weights": best_weights,
                },
                part,
            )
            part.replace(checkpoint)
    if best_weights is not None:
        net.load_state_dict(best_weights)
    net.eval()
    report(f"{label}best epoch {state['best_epoch']} of {state['epoch']} (early stopping on validation fitb)")
    return _Member(
        weights=net.arrays(),
        best=float(state["best"]),
        best_epoch=int(state["best_epoch"]),
        epochs=int(state["epoch"]),
        history=list(state["history"]),
    )


def _step_loss(
    net: Any,
    x: Any,
    hideable: Any,
    settings: CompatSettings,
    batch: Sequence[tuple[int, int]],
    outfits: Sequence[Sequence[int]],
    pools: _NegativePools,
    garment_slot: NDArray[np.int64],
    slot_rows: NDArray[np.int64],
    rng: np.random.Generator,
) -> Any:
    """Cross-entropy of each hidden garment among its same-type negatives, given its outfit's rest."""
    import torch

    longest = max(len(outfits[o]) - 1 for o, _ in batch)
    pieces = np.zeros((len(batch), longest), dtype=np.int64)
    mask = np.zeros((len(batch), longest), dtype=bool)
    candidates = np.zeros((len(batch), settings.negatives + 1), dtype=np.int64)
    for i, (o, b) in enumerate(batch):
        rows = outfits[o]
        rest = [r for j, r in enumerate(rows) if j != b]
        pieces[i, : len(rest)] = rest
        mask[i, : len(rest)] = True
        negatives = pools.draw(rows[b], set(rows), rng)
        candidates[i, 0] = rows[b]
        candidates[i, 1:] = negatives if len(negatives) else rows[b]
    # Embed each garment the batch names once; some steps see it without its text and attributes.
    used = np.unique(np.concatenate([pieces[mask], candidates.reshape(-1)]))
    inputs = x[torch.from_numpy(used)].clone()
    hide = torch.from_numpy(rng.random(len(used)) < settings.input_dropout)
    inputs[hide.unsqueeze(1) & hideable.unsqueeze(0)] = 0.0
    embedded = net.embed(inputs)
    piece_rows = torch.from_numpy(np.searchsorted(used, pieces) * mask)  # padding points at row 0, masked
    candidate_rows = torch.from_numpy(np.searchsorted(used, candidates))
    answer_slot = garment_slot[candidates[:, 0]]
    pair_rows = torch.from_numpy(slot_rows[garment_slot[pieces], answer_slot[:, None]])
    scores = net.scores(embedded[piece_rows], embedded[candidate_rows], pair_rows, torch.from_numpy(mask))
    target = torch.zeros(len(batch), dtype=torch.long)
    return torch.nn.functional.cross_entropy(scores, target)


def _fingerprint(library: LibraryGarments, settings: CompatSettings) -> str:
    digest = hashlib.sha256(json.dumps(asdict(settings), sort_keys=True).encode())
    digest.update(library.keys.tobytes())
    digest.update(json.dumps(sorted((k, list(v)) for k, v in library.outfits.items())).encode())
    return digest.hexdigest()
