"""Phase 7: export a trained char CNN to numpy (.npz) and measure numpy inference cost.

    OMP_NUM_THREADS=1 /work/venv-torch/bin/python benchmarks/incident7/export.py --cache DIR --run cnn_s1

Checks that the numpy forward pass reproduces torch's validation logits, then times cold start
(loading the .npz) and per-document inference on 300-character documents (the length of
``monitor bench classify``'s documents), one document at a time and in a batch of 64.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

PAD, UNK, MAX_LEN = 0, 1, 256


class NumpyCharCNN:
    """Inference of charnet.CharCNN in numpy: embedding look-up, one matrix product per filter
    width over a sliding-window view, ReLU, max over positions, linear."""

    def __init__(self, path: Path) -> None:
        stored = np.load(path)
        self.vocab = {ch: i + 2 for i, ch in enumerate(stored["chars"].tolist())}
        self.embed = stored["embed"].astype(np.float32)
        self.widths = [int(w) for w in stored["widths"]]
        self.kernels = [stored[f"conv{w}"].astype(np.float32) for w in self.widths]  # (w * dim, filters)
        self.biases = [stored[f"bias{w}"].astype(np.float32) for w in self.widths]
        self.out_w, self.out_b = stored["out_w"].astype(np.float32), float(stored["out_b"].ravel()[0])

    def ids(self, text: str) -> np.ndarray:
        ids = [self.vocab.get(ch, UNK) for ch in text[:MAX_LEN]] or [UNK]
        return np.array(
            ids + [PAD] * max(4, 5 - len(ids)), dtype=np.int64
        )  # windows may run into padding, as in a batch

    def logit(self, text: str) -> float:
        ids = self.ids(text)
        e = self.embed[ids]  # length, dim
        n_real = int((ids != PAD).sum())
        pooled = []
        for w, kernel, bias in zip(self.widths, self.kernels, self.biases, strict=True):
            windows = np.lib.stride_tricks.sliding_window_view(e, (w, e.shape[1]))[:, 0].reshape(-1, w * e.shape[1])
            h = np.maximum(windows @ kernel + bias, 0.0)
            pooled.append(h[: max(n_real, 1)].max(axis=0))
        return float(np.concatenate(pooled) @ self.out_w + self.out_b)


def export(model_path: Path, out: Path) -> None:
    import torch

    saved = torch.load(model_path, weights_only=False)
    state, vocab = saved["state"], saved["vocab"]
    chars = sorted(vocab, key=vocab.get)
    arrays: dict[str, np.ndarray] = {
        "chars": np.array(chars),
        "embed": state["embed.weight"].numpy().astype(np.float16),
    }
    widths = []
    for k in range(8):
        key = f"convs.{k}.weight"
        if key not in state:
            break
        weight = state[key].numpy()  # filters, dim, width
        w = weight.shape[2]
        widths.append(w)
        # window rows are (position, dim) flattened → kernel (w * dim, filters)
        arrays[f"conv{w}"] = weight.transpose(2, 1, 0).reshape(w * weight.shape[1], weight.shape[0]).astype(np.float16)
        arrays[f"bias{w}"] = state[f"convs.{k}.bias"].numpy()
    arrays["widths"] = np.array(widths)
    arrays["out_w"] = state["out.weight"].numpy().ravel()
    arrays["out_b"] = state["out.bias"].numpy()
    np.savez_compressed(out, **arrays)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--run", default="cnn_s1")
    args = parser.parse_args()
    out = args.cache / "runs" / f"export_{args.run}.npz"
    export(args.cache / "runs" / f"model_{args.run}.pt", out)
    print(f"exported {out}: {out.stat().st_size / 1e6:.2f} MB")
    started = time.perf_counter()
    model = NumpyCharCNN(out)
    print(f"cold start (load npz): {time.perf_counter() - started:.3f} s")
    rows = json.loads((args.cache / "rows.json").read_text(encoding="utf-8"))
    validation = json.loads((args.cache / "validation.json").read_text())
    texts = [rows[i]["text"] for i in validation["index"]]
    reference = np.load(args.cache / "runs" / f"val_{args.run}.npz")["logits"][-1]
    mine = np.array([model.logit(t) for t in texts])
    print(f"max |numpy - torch| logit over {len(texts)} validation rows: {np.abs(mine - reference).max():.4f}")
    long_texts = [(t * 10)[:300] for t in texts[:500]]
    started = time.process_time()
    for t in long_texts:
        model.logit(t)
    per_doc = (time.process_time() - started) / len(long_texts)
    print(f"300-char documents: {per_doc * 1e3:.2f} ms CPU each ({1 / per_doc:.0f} docs/s)")


if __name__ == "__main__":
    main()
