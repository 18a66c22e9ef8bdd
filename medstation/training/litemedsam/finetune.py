"""Fine-tune LiteMedSAM on a segmentation snapshot: decoder-only (default) or the full model.

Recipe (after LiteMedSAM's own training): AdamW, loss = Dice + BCE on the low-res
logits plus MSE of the IoU head against the real IoU; boxes from the mask, each
side jittered by up to ``box_jitter`` model-frame pixels; random left–right mirror
(and, in full mode, brightness/contrast jitter). Validation after every epoch (and
once before training, "epoch 0") decodes each validation box the way the viewer
does (``box_margin`` from the engine spec, logits → original-grid mask) and
reports mean Dice and IoU. The best epoch's weights are kept; training stops
after ``patience`` epochs without improvement.

State after each epoch goes to ``<run_dir>/last.pt`` (atomic, fsynced), so a
killed run resumes from its last finished epoch with the same RNG streams.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from medstation.segmentation import metrics, preprocess
from medstation.training.litemedsam.data import EmbeddingStore, SegExample, flip_example, flip_input, load_examples
from medstation.training.runs.progress import PhasedProgress


@dataclass(frozen=True)
class SegTrainConfig:
    """Hyperparameters. ``lr`` None: 1e-4 decoder-only, 2e-5 full. ``max_steps`` caps steps per epoch (tests)."""

    mode: str = "decoder"
    epochs: int = 6
    batch_size: int = 8
    lr: float | None = None
    weight_decay: float = 0.01
    patience: int = 2
    box_jitter: float = 5.0
    flip: bool = True  # random left–right mirror (decoder-only: doubles the embedding cache)
    seed: int = 0
    threads: int = 2
    max_steps: int | None = None
    max_val: int | None = 400
    # Sets mix sources of very different sizes (92 polyp photos beside 700+ CT organ slices): drawing
    # every source equally often, and keeping the epoch with the best *mean over sources* of validation
    # Dice, stops the big source from buying its gain with the small one's loss.
    balance_sources: bool = True

    def __post_init__(self) -> None:
        if self.mode not in ("decoder", "full"):
            raise ValueError(f"mode must be decoder or full, not {self.mode!r}")

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else (1e-4 if self.mode == "decoder" else 2e-5)

    def to_json(self) -> dict:
        return {**asdict(self), "learning_rate": self.learning_rate}


@dataclass
class TrainResult:
    """What a finished run hands back: the best full state dict and the curves."""

    state_dict: dict
    best_epoch: int
    best_val_dice: float
    baseline_val_dice: float
    history: list[dict] = field(default_factory=list)
    stopped_early: bool = False
    seconds: float = 0.0
    selection: str = "val_dice"  # what chose the best epoch: item-mean Dice, or the mean over sources


def _dice_bce(logits, target):
    import torch.nn.functional as F

    probs = logits.sigmoid()
    inter = (probs * target).sum((1, 2, 3))
    dice = 1 - (2 * inter + 1.0) / (probs.sum((1, 2, 3)) + target.sum((1, 2, 3)) + 1.0)
    return dice.mean() + F.binary_cross_entropy_with_logits(logits, target)


def _decode(net, embedding, boxes):
    """SAM decoder on a batch: embedding (B, 256, 64, 64), boxes (B, 4) → logits (B, 1, 256, 256), iou (B, 1)."""
    sparse, dense = net.prompt_encoder(points=None, boxes=boxes[:, None, :], masks=None)
    return net.mask_decoder(image_embeddings=embedding, image_pe=net.prompt_encoder.get_dense_pe(),
                            sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense, multimask_output=False)


def _jitter(box: np.ndarray, frame: preprocess.ModelFrame, rng: np.random.Generator, amount: float) -> np.ndarray:
    rh, rw = frame.resized_hw
    shift = rng.uniform(0, amount, 4) * np.array([-1, -1, 1, 1])
    out = box + shift
    return np.clip(out, 0, [rw - 1, rh - 1, rw - 1, rh - 1]).astype(np.float32)


def _validation_box(e: SegExample, margin: float) -> np.ndarray:
    rh, rw = e.frame.resized_hw
    out = e.box + np.array([-margin, -margin, margin, margin], np.float32)
    return np.clip(out, 0, [rw - 1, rh - 1, rw - 1, rh - 1]).astype(np.float32)


def evaluate(net, examples: list[SegExample], embed: Callable[[list[SegExample]], object], margin: float,
             ctx=None, per_item: list | None = None) -> tuple[float, float]:
    """Mean (Dice, IoU) over ``examples`` as the viewer would segment them (box + margin, original grid).

    ``per_item``, when given, receives each example's Dice in order (for per-source means)."""
    import torch

    dices, ious = [], []
    net.eval()
    with torch.no_grad():
        for start in range(0, len(examples), 8):
            if ctx is not None:
                ctx.check()
            chunk = examples[start:start + 8]
            emb = embed(chunk)
            boxes = torch.from_numpy(np.stack([_validation_box(e, margin) for e in chunk]))
            logits, _ = _decode(net, emb, boxes)
            for e, lg in zip(chunk, logits.numpy()):
                pred = preprocess.logits_to_mask(lg, e.frame)
                dices.append(metrics.dice(pred, e.truth))
                ious.append(metrics.iou(pred, e.truth))
    if per_item is not None:
        per_item.extend(dices)
    return (float(np.mean(dices)) if dices else 0.0, float(np.mean(ious)) if ious else 0.0)


def source_of(e: SegExample) -> str:
    return str(e.row.get("source") or "?")


def balanced_order(rng: np.random.Generator, sources: list[str]) -> np.ndarray:
    """An epoch's draw of ``len(sources)`` example indices where every source is equally likely.

    Each source gets 1/k of the draws (k sources), spread evenly over its examples; with one source
    this is a plain shuffle."""
    names, inverse, counts = np.unique(np.asarray(sources), return_inverse=True, return_counts=True)
    if len(names) < 2:
        return rng.permutation(len(sources))
    weights = 1.0 / (len(names) * counts[inverse])
    return rng.choice(len(sources), size=len(sources), replace=True, p=weights / weights.sum())


def validation_record(dices: list[float], val: list[SegExample]) -> tuple[dict, float]:
    """(per-source mean Dice, mean over sources) of one validation pass."""
    by: dict[str, list[float]] = {}
    for d, e in zip(dices, val):
        by.setdefault(source_of(e), []).append(d)
    means = {k: float(np.mean(v)) for k, v in sorted(by.items())}
    return means, (float(np.mean(list(means.values()))) if means else 0.0)


def _save_atomic(obj, path: Path) -> None:
    import torch

    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as handle:
        torch.save(obj, handle)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def finetune(ctx, net, train_rows: list[dict], val_rows: list[dict], cfg: SegTrainConfig, run_dir: Path, *,
             encoder_sha: str, box_margin: float, on_epoch: Callable[[dict], None] | None = None,
             on_step: Callable[[int, int, float], None] | None = None,
             encode: Callable[[np.ndarray], np.ndarray] | None = None,
             embedding_dir: Path | None = None, encoder_name: str = "torch") -> TrainResult:
    """Train ``net`` (a ``MedSAMLite`` with its base weights loaded) in place; returns the best weights.

    ``ctx``: job context (report/partial/check). ``on_epoch(record)`` gets
    ``{"epoch", "train_loss", "val_dice", "val_iou", "val_dice_by_source", "seconds"}`` after each epoch (epoch 0 =
    before training); ``on_step(epoch, step, loss)`` after each optimiser step. ``encode``:
    the frozen encoder for decoder-only mode (numpy (1, 3, S, S) → (1, 256, 64, 64)); default torch.
    ``embedding_dir``: where decoder-only mode caches embeddings (default ``run_dir/embeddings``; the
    worker passes the app's shared ``cache/embeddings``: the cache is keyed by image content and by encoder
    weights and back-end (``encoder_sha``, ``encoder_name``), so every later run on the same images reuses it).
    Progress goes through named phases (:class:`~medstation.training.runs.progress.PhasedProgress`) and never
    goes backwards.
    """
    import torch

    started = time.perf_counter()
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    progress = PhasedProgress(ctx.report)
    progress.report("reading images", 0.0, f"{len(train_rows)} training and {len(val_rows)} validation rows")
    train = load_examples(train_rows)
    val = load_examples(val_rows)
    if not train:
        raise ValueError("the training split has no usable examples")
    if not val:  # never validate on training rows: a score on them would be called "val Dice" and mean nothing
        raise ValueError("no validation examples: hold back part of the training cases (training.splits."
                         "hold_back_validation) or add a validation split")
    if {e.row.get("case_key") for e in val} & {e.row.get("case_key") for e in train} - {None}:
        raise ValueError("a case is in both the training and the validation rows")
    if cfg.max_val is not None and len(val) > cfg.max_val:
        val = [val[i] for i in np.linspace(0, len(val) - 1, cfg.max_val).astype(int)]

    decoder_only = cfg.mode == "decoder"
    for p in net.parameters():
        p.requires_grad_(False)
    trainable = [net.mask_decoder, net.prompt_encoder] if decoder_only else [net.mask_decoder, net.prompt_encoder,
                                                                             net.image_encoder]
    params = [p for m in trainable for p in m.parameters()]
    for p in params:
        p.requires_grad_(True)
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)

    if decoder_only:
        store = EmbeddingStore(Path(embedding_dir) if embedding_dir is not None else run_dir / "embeddings",
                               f"{encoder_sha[:16]}-{encoder_name}")
        net.image_encoder.eval()
        if encode is None:
            def encode(x):
                with torch.inference_mode():
                    return net.image_encoder(torch.from_numpy(x)).numpy()
        mirrored = {id(e.x) for e in train} if cfg.flip else set()  # the mirror is a training augmentation only
        store.fill(ctx, train + val, encode, mirrored_for=mirrored, report=progress.phase("embedding"))
        progress.report("embedding", 1.0, f"{store.misses} images embedded, {store.hits} read from the cache")

        def embed_val(chunk):
            return torch.from_numpy(store.get(chunk, [False] * len(chunk)))
    else:
        def embed_val(chunk):
            with torch.no_grad():
                return net.image_encoder(torch.from_numpy(np.stack([e.x for e in chunk])))

    balance = cfg.balance_sources and len({source_of(e) for e in val}) > 1
    selection = "mean over sources of val Dice" if balance else "val_dice"

    def validate() -> dict:
        """One validation pass as a history record's metric fields; ``score`` picks the best epoch."""
        dices: list[float] = []
        dice, iou = evaluate(net, val, embed_val, box_margin, ctx, per_item=dices)
        by_source, macro = validation_record(dices, val)
        return {"val_dice": dice, "val_iou": iou, "val_dice_by_source": by_source,
                "score": macro if balance else dice}

    base_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    state_path = run_dir / "last.pt"
    history: list[dict] = []
    best = {"epoch": 0, "dice": -1.0, "state": None}
    stale = 0
    first_epoch = 1
    rng = np.random.default_rng(cfg.seed)
    if state_path.is_file():  # resume: same weights, optimiser, RNG and curves as the killed run
        saved = torch.load(str(state_path), map_location="cpu", weights_only=False)
        net.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        history, best, stale = saved["history"], saved["best"], saved["stale"]
        rng.bit_generator.state = saved["rng"]
        torch.set_rng_state(saved["torch_rng"])
        first_epoch = saved["epoch"] + 1
        ctx.partial({"event": "resumed", "epoch": saved["epoch"]})
    else:
        progress.report("validating the base model", 0.0, f"{len(val)} validation examples")
        scores = validate()
        score0 = scores.pop("score")
        record = {"epoch": 0, "train_loss": None, **scores, "seconds": 0.0}
        history.append(record)
        best = {"epoch": 0, "dice": scores["val_dice"], "score": score0, "state": None}
        if on_epoch:
            on_epoch(record)

    steps_per_epoch = math.ceil(len(train) / cfg.batch_size)
    if cfg.max_steps is not None:
        steps_per_epoch = min(steps_per_epoch, cfg.max_steps)
    stopped_early = False
    for epoch in range(first_epoch, cfg.epochs + 1):
        if stale >= cfg.patience:
            stopped_early = True
            break
        t0 = time.perf_counter()
        for m in trainable:
            m.train()
        order = (balanced_order(rng, [source_of(e) for e in train]) if cfg.balance_sources
                 else rng.permutation(len(train)))
        losses = []
        for step in range(steps_per_epoch):
            ctx.check()
            chunk = [train[i] for i in order[step * cfg.batch_size:(step + 1) * cfg.batch_size]]
            if not chunk:
                break
            flips = (rng.random(len(chunk)) < 0.5) & cfg.flip
            targets, boxes = [], []
            for e, f in zip(chunk, flips):
                target, box = flip_example(e) if f else (e.target, e.box)
                targets.append(target)
                boxes.append(_jitter(box, e.frame, rng, cfg.box_jitter))
            if decoder_only:
                emb = torch.from_numpy(store.get(chunk, list(flips)))
            else:
                xs = np.stack([flip_input(e.x, e.frame) if f else e.x for e, f in zip(chunk, flips)])
                gain = rng.uniform(0.85, 1.15, (len(chunk), 1, 1, 1)).astype(np.float32)
                bias = rng.uniform(-0.08, 0.08, (len(chunk), 1, 1, 1)).astype(np.float32)
                emb = net.image_encoder(torch.from_numpy(np.clip(xs * gain + bias, 0, 1)))
            target_t = torch.from_numpy(np.stack(targets))[:, None]
            logits, iou_pred = _decode(net, emb, torch.from_numpy(np.stack(boxes)))
            with torch.no_grad():
                pred = (logits > 0).float()
                inter = (pred * target_t).sum((1, 2, 3))
                union = ((pred + target_t) > 0).float().sum((1, 2, 3)).clamp(min=1)
                iou_true = (inter / union)[:, None]
            loss = _dice_bce(logits, target_t) + torch.nn.functional.mse_loss(iou_pred, iou_true)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss))
            if on_step:
                on_step(epoch, step, float(loss))
            done = (epoch - 1 + (step + 1) / steps_per_epoch) / cfg.epochs
            progress.report("training", done, f"epoch {epoch}/{cfg.epochs} step {step + 1}/{steps_per_epoch} "
                                              f"loss {loss:.3f}")
        progress.report("training", (epoch - 1 + 0.99) / cfg.epochs, f"epoch {epoch}/{cfg.epochs}: validating")
        scores = validate()
        score = scores.pop("score")
        record = {"epoch": epoch, "train_loss": float(np.mean(losses)), **scores,
                  "seconds": round(time.perf_counter() - t0, 2)}
        history.append(record)
        if score > best.get("score", best["dice"]):
            best = {"epoch": epoch, "dice": scores["val_dice"], "score": score,
                    "state": {k: v.detach().clone() for k, v in net.state_dict().items()}}
            stale = 0
        else:
            stale += 1
        _save_atomic({"model": net.state_dict(), "optimizer": optimizer.state_dict(), "history": history,
                      "best": best, "stale": stale, "rng": rng.bit_generator.state,
                      "torch_rng": torch.get_rng_state(), "epoch": epoch, "config": cfg.to_json()}, state_path)
        if on_epoch:
            on_epoch(record)
    best_state = best["state"] if best["state"] is not None else base_state
    if best["state"] is None:  # no epoch beat the base model: the result is the base weights, said plainly
        ctx.partial({"event": "no_improvement", "baseline_val_dice": history[0]["val_dice"]})
    return TrainResult(best_state, int(best["epoch"]), float(best["dice"]), float(history[0]["val_dice"]), history,
                       stopped_early, time.perf_counter() - started, selection)
