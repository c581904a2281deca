"""Phase 7, optional: character vectors from co-occurrence (PPMI + truncated SVD), a cheap stand-in
for skip-gram, on train-split text only (prepare.py's cache: every corpus row outside test and
validation, title views excluded).

    /work/venv-torch/bin/python benchmarks/incident7/pretrain.py --cache DIR --dim 64 --window 2
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import svds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--window", type=int, default=2)
    parser.add_argument("--min-count", type=int, default=3)
    args = parser.parse_args()
    rows = json.loads((args.cache / "rows.json").read_text(encoding="utf-8"))
    texts = [r["text"] for r in rows if r["split"] == "train" and not r["id"].endswith("#title")]
    counts = Counter(ch for t in texts for ch in t)
    chars = sorted(ch for ch, n in counts.items() if n >= args.min_count)
    index = {ch: i for i, ch in enumerate(chars)}
    rows_i, cols_i = [], []
    for text in texts:
        ids = np.array([index.get(ch, -1) for ch in text])
        for offset in range(1, args.window + 1):
            a, b = ids[:-offset], ids[offset:]
            keep = (a >= 0) & (b >= 0)
            rows_i += [a[keep], b[keep]]
            cols_i += [b[keep], a[keep]]
    r, c = np.concatenate(rows_i), np.concatenate(cols_i)
    n = len(chars)
    cooc = sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n))
    cooc.sum_duplicates()
    total = cooc.sum()
    row_sum = np.asarray(cooc.sum(axis=1)).ravel()
    col_sum = np.asarray(cooc.sum(axis=0)).ravel() ** 0.75  # context distribution smoothing
    col_sum = col_sum / col_sum.sum() * total
    coo = cooc.tocoo()
    pmi = np.log(coo.data * total / (row_sum[coo.row] * col_sum[coo.col]))
    keep = pmi > 0
    ppmi = sparse.csr_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=(n, n))
    u, s, _ = svds(ppmi, k=args.dim, random_state=0)
    vectors = u * np.sqrt(s)
    vectors = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-8) * 0.5
    np.savez(args.cache / f"chars_{args.dim}.npz", chars=np.array(chars), vectors=vectors.astype(np.float32))
    print(f"{len(texts)} texts, {n} characters, {len(r)} pairs -> {args.cache / f'chars_{args.dim}.npz'}")


if __name__ == "__main__":
    main()
