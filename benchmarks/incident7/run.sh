#!/usr/bin/env bash
# Phase 7 (order-aware incident model): the commands behind the report, in order.
# CACHE holds corpus text and model weights: keep it outside the repository.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE=${CACHE:-/work/cache/inc7}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
TORCH=${TORCH:-/work/venv-torch/bin/python}   # separate venv: torch==2.13.0 + pip install -e .
mkdir -p "$CACHE"
PYTHONPATH=. .venv/bin/python benchmarks/incident7/prepare.py --cache "$CACHE" --salts s1,s2
PYTHONPATH=. .venv/bin/python benchmarks/incident7/check_decide.py --cache "$CACHE"
"$TORCH" benchmarks/incident7/charnet.py val --cache "$CACHE" --arch gru --seed 1 --epochs 8
for s in 1 2 3; do "$TORCH" benchmarks/incident7/charnet.py val --cache "$CACHE" --arch cnn --seed $s --epochs 8; done
"$TORCH" benchmarks/incident7/pretrain.py --cache "$CACHE" --dim 64
for s in 1 2 3; do
  "$TORCH" benchmarks/incident7/charnet.py val --cache "$CACHE" --arch cnn --seed $s --epochs 8 \
    --embeddings "$CACHE/chars_64.npz" --tag _pre
done
# grouped 5-fold over train + validation (phase-6 folds, and salt s1)
for s in 1 2 3; do
  "$TORCH" benchmarks/incident7/charnet.py kfold --cache "$CACHE" --arch cnn --seed $s --epochs 8
  "$TORCH" benchmarks/incident7/charnet.py kfold --cache "$CACHE" --arch cnn --seed $s --epochs 8 --salt s1
done
cd benchmarks/incident7
for e in 2 3 4 6 8; do "$TORCH" analyze.py --cache "$CACHE" --runs gru_s1 --epoch $e; done
for run in cnn_s1 cnn_s2 cnn_s3 cnn_s1_pre cnn_s2_pre cnn_s3_pre; do "$TORCH" analyze.py --cache "$CACHE" --runs $run; done
"$TORCH" analyze.py --cache "$CACHE" --runs cnn_s1 cnn_s2 cnn_s3
"$TORCH" analyze.py --cache "$CACHE" --runs cnn_s1_pre cnn_s2_pre cnn_s3_pre
"$TORCH" export.py --cache "$CACHE" --run cnn_s1
# six variants on the phase-6 folds; the best of them (band 0.2-0.8 replace) re-run on the salt-s1 folds
for v in replace average "band 0.05-0.95 replace" "band 0.1-0.9 replace" "band 0.1-0.9 average" "band 0.2-0.8 replace"; do
  "$TORCH" analyze.py --cache "$CACHE" --runs cnn_s1 cnn_s2 cnn_s3 --kfold "$v"
done
"$TORCH" analyze.py --cache "$CACHE" --runs cnn_s1 cnn_s2 cnn_s3 --kfold "band 0.2-0.8 replace" --salt s1
