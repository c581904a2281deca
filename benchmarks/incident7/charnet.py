"""Phase 7, step 2 (torch venv): an order-aware incident model trained from scratch.

A character CNN (embedding → convolutions of widths 2–5 → ReLU → global max-pool → linear) or a
small BiGRU over the normalised feature text (``feature_text(normalize(text))``, first MAX_LEN
characters), trained on exactly the rows and labels the shipped head trains on
(``classifiers.incident.training_label`` via prepare.py's cache), class-balanced like the head.

    OMP_NUM_THREADS=1 /work/venv-torch/bin/python benchmarks/incident7/charnet.py val --cache DIR --arch cnn --seed 1
    OMP_NUM_THREADS=1 /work/venv-torch/bin/python benchmarks/incident7/charnet.py kfold --cache DIR --arch cnn --seed 1

``val``: fit on labelled train rows, write validation probabilities (per epoch) to the cache.
``kfold``: for each grouped fold, fit on the other folds' labelled non-test rows, score the
held-out DuEE + TNEWS rows (prepare.py's k-fold rows).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

MAX_LEN = 256
MIN_COUNT = 2
BATCH = 64
PAD, UNK = 0, 1
END_PAD = 4  # widest filter − 1


def build_vocab(texts: list[str]) -> dict[str, int]:
    counts = Counter(ch for t in texts for ch in t[:MAX_LEN])
    chars = sorted(ch for ch, n in counts.items() if n >= MIN_COUNT)
    return {ch: i + 2 for i, ch in enumerate(chars)}


def encode(texts: list[str], vocab: dict[str, int]) -> list[np.ndarray]:
    """Character ids of the first MAX_LEN characters, followed by END_PAD padding ids, so that
    every text has the same tail windows whatever the batch (the numpy export reads it so)."""
    return [
        np.array(([vocab.get(ch, UNK) for ch in t[:MAX_LEN]] or [UNK]) + [PAD] * END_PAD, dtype=np.int64) for t in texts
    ]


def pad(seqs: list[np.ndarray], min_len: int = 5) -> torch.Tensor:
    width = max(min_len, max(len(s) for s in seqs))
    out = np.zeros((len(seqs), width), dtype=np.int64)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s
    return torch.from_numpy(out)


class CharCNN(nn.Module):
    def __init__(self, vocab_size: int, dim: int = 64, filters: int = 64, widths: tuple[int, ...] = (2, 3, 4, 5)):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=PAD)
        self.convs = nn.ModuleList(nn.Conv1d(dim, filters, w) for w in widths)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(filters * len(widths), 1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        e = self.embed(ids).transpose(1, 2)  # batch, dim, length
        mask = (ids == PAD).unsqueeze(1)
        pooled = []
        for conv in self.convs:
            h = torch.relu(conv(e))
            w = conv.kernel_size[0]
            # a window that starts on padding is excluded from the max (ReLU ≥ 0, so 0 is neutral)
            h = h.masked_fill(mask[:, :, : h.shape[2]] & mask[:, :, w - 1 :][:, :, : h.shape[2]], 0.0)
            pooled.append(h.max(dim=2).values)
        return self.out(self.drop(torch.cat(pooled, dim=1))).squeeze(1)


class CharGRU(nn.Module):
    def __init__(self, vocab_size: int, dim: int = 64, hidden: int = 64):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=PAD)
        self.gru = nn.GRU(dim, hidden, batch_first=True, bidirectional=True)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(4 * hidden, 1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        lengths = (ids != PAD).sum(dim=1).clamp(min=1)
        packed = nn.utils.rnn.pack_padded_sequence(
            self.embed(ids), lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        out, _ = self.gru(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
        valid = (ids != PAD)[:, : out.shape[1]].unsqueeze(2)
        maxed = out.masked_fill(~valid, -1e4).max(dim=1).values
        mean = (out * valid).sum(dim=1) / lengths.unsqueeze(1)
        return self.out(self.drop(torch.cat([maxed, mean], dim=1))).squeeze(1)


def batches(order: np.ndarray, seqs: list[np.ndarray], rng: np.random.Generator, shuffle: bool):
    """Length-bucketed batches (little padding): sort by length within chunks of 50 batches."""
    if shuffle:
        order = rng.permutation(order)
    chunk = BATCH * 50
    out = []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort([len(seqs[i]) for i in part], kind="stable")]
        out += [part[i : i + BATCH] for i in range(0, len(part), BATCH)]
    if shuffle:
        out = [out[i] for i in rng.permutation(len(out))]
    return out


def predict(model: nn.Module, seqs: list[np.ndarray], rows: np.ndarray) -> np.ndarray:
    model.eval()
    logits = np.zeros(len(rows))
    with torch.no_grad():
        order = np.argsort([len(seqs[i]) for i in rows], kind="stable")
        for start in range(0, len(order), 256):
            part = order[start : start + 256]
            logits[part] = model(pad([seqs[rows[i]] for i in part])).numpy()
    return logits


def fit(
    arch: str,
    seqs: list[np.ndarray],
    labels: np.ndarray,
    train_rows: np.ndarray,
    vocab_size: int,
    seed: int,
    epochs: int,
    eval_rows: np.ndarray | None = None,
    embeddings: np.ndarray | None = None,
    width: int = 64,
) -> tuple[nn.Module, list[np.ndarray]]:
    """Fit; return the model and the eval rows' logits after each epoch."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = CharCNN(vocab_size, width, width) if arch == "cnn" else CharGRU(vocab_size, width, width)
    if embeddings is not None:
        with torch.no_grad():
            model.embed.weight.copy_(torch.from_numpy(embeddings))
    y = torch.from_numpy(labels.astype(np.float32))
    positives = labels[train_rows].sum()
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor((len(train_rows) - positives) / positives))
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    history = []
    for epoch in range(epochs):
        model.train()
        started, total = time.perf_counter(), 0.0
        for batch in batches(train_rows, seqs, rng, shuffle=True):
            optimiser.zero_grad()
            loss = loss_fn(model(pad([seqs[i] for i in batch])), y[batch])
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(batch)
        message = f"epoch {epoch + 1}: loss {total / len(train_rows):.4f}, {time.perf_counter() - started:.0f} s"
        if eval_rows is not None:
            history.append(predict(model, seqs, eval_rows))
        print(message, flush=True)
    return model, history


def load(cache: Path) -> tuple[list[dict], np.ndarray, np.ndarray]:
    rows = json.loads((cache / "rows.json").read_text(encoding="utf-8"))
    labels = np.array([bool(r["label"]) for r in rows])
    have = np.array([r["label"] is not None for r in rows])
    return rows, labels, have


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=("val", "kfold"))
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--arch", choices=("cnn", "gru"), default="cnn")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--embeddings", type=Path, default=None, help="pretrained char vectors (pretrain.py)")
    parser.add_argument("--width", type=int, default=64, help="embedding size = filters per width (GRU: hidden)")
    parser.add_argument("--salt", default="")
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows, labels, have = load(args.cache)
    split = np.array([r["split"] for r in rows])
    texts = [r["text"] for r in rows]
    name = f"{args.arch}_s{args.seed}{args.tag}"
    out = args.cache / "runs"
    out.mkdir(exist_ok=True)

    def vectors(vocab: dict[str, int]) -> np.ndarray | None:
        if args.embeddings is None:
            return None
        stored = np.load(args.embeddings)
        table = {ch: i for i, ch in enumerate(stored["chars"].tolist())}
        rng = np.random.default_rng(args.seed)
        emb = rng.normal(0, 0.1, (len(vocab) + 2, stored["vectors"].shape[1])).astype(np.float32)
        emb[PAD] = 0
        for ch, i in vocab.items():
            if ch in table:
                emb[i] = stored["vectors"][table[ch]]
        return emb

    def fit_rows(train_rows: np.ndarray, eval_rows: np.ndarray) -> tuple[Any, list[Any], dict[str, int]]:
        """One model on ``train_rows`` (its own character vocabulary), scored on ``eval_rows``."""
        vocab = build_vocab([texts[i] for i in train_rows])
        seqs = encode(texts, vocab)
        model, history = fit(
            args.arch,
            seqs,
            labels,
            train_rows,
            len(vocab) + 2,
            args.seed,
            args.epochs,
            eval_rows,
            vectors(vocab),
            args.width,
        )
        return model, history, vocab

    if args.command == "val":
        validation = json.loads((args.cache / "validation.json").read_text())
        train_rows = np.flatnonzero(have & (split == "train"))
        eval_rows = np.array(validation["index"])
        started = time.perf_counter()
        model, history, vocab = fit_rows(train_rows, eval_rows)
        np.savez(out / f"val_{name}.npz", logits=np.array(history), train_seconds=time.perf_counter() - started)
        torch.save({"state": model.state_dict(), "vocab": vocab, "arch": args.arch}, out / f"model_{name}.pt")
    else:
        kfold = json.loads((args.cache / "kfold.json").read_text())
        folds = np.array(kfold[f"fold{args.salt}"])
        scored = np.array(kfold["index"])
        logits = np.zeros(len(scored))
        for k in range(int(folds.max()) + 1):
            train_rows = np.flatnonzero(have & (folds != k))
            held = folds[scored] == k
            _, history, _ = fit_rows(train_rows, scored[held])
            logits[held] = history[-1]
            print(f"fold {k} done", flush=True)
        np.savez(out / f"kfold{args.salt}_{name}.npz", logits=logits)


if __name__ == "__main__":
    main()
