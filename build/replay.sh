#!/usr/bin/env bash
# replay.sh TRAIN EVAL OUT [DATASETS]: the replay benchmark of issue 5.
# Replays TRAIN/EVAL with every registered method into OUT; when the shared
# datasets are present, also Diginetica (SR-GNN's filters, and relaxed) into
# OUT/diginetica-*, and the Open Bandit IPS estimate into OUT/bandit.*.
set -euo pipefail
train=$1 eval=$2 out=$3 datasets=${4:-../shared/datasets}
GO=${GO:-go}
cd "$(dirname "$0")/.."
for f in "$train" "$eval"; do
	[ -f "$f" ] || { echo "replay: $f not found (the datasets live in ../shared/datasets; see its README)" >&2; exit 1; }
done
"$GO" run ./build/cmd/replay -train "$train" -eval "$eval" -out "$out" -progress
dg=$datasets/diginetica-sample
if [ -f "$dg/train-item-views.csv" ]; then
	"$GO" run ./build/cmd/replay -train "$dg/train-item-views.csv" -categories "$dg/product-categories.csv" \
		-split-days 7 -min-item-support 5 -out "$out/diginetica-srgnn" -progress
	"$GO" run ./build/cmd/replay -train "$dg/train-item-views.csv" -categories "$dg/product-categories.csv" \
		-split-days 7 -out "$out/diginetica-relaxed" -progress
fi
ob=$datasets/open-bandit-men
if [ -f "$ob/men.csv" ]; then
	"$GO" run ./build/cmd/bandit -log "$ob/men.csv" -items "$ob/item_context.csv" -out "$out"
fi
