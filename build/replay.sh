#!/usr/bin/env bash
# replay.sh TRAIN EVAL OUT [DATASETS]: the replay benchmark (issues 5, 9, 12).
# Replays TRAIN/EVAL with every registered method into OUT. When the shared
# datasets are present, also:
#   - the tuning split, YOOCHOOSE 1/64 (SR-GNN's training half; train_tr =
#     its first 90% of sessions, train_valid = the last 10%), with the
#     central anchors and every privacy mode (see TUNING_METHODS), into
#     OUT/yoochoose1-64;
#   - Diginetica (SR-GNN's filters, and relaxed) into OUT/diginetica-*;
#   - the Open Bandit IPS estimate into OUT/bandit.*.
# TUNING_METHODS overrides the tuning split's methods (comma-separated
# registered names; "all" for every one), TUNING_SAMPLE its number of
# evaluation sessions (0: all).
set -euo pipefail
train=$1 eval=$2 out=$3 datasets=${4:-../shared/datasets}
GO=${GO:-go}
cd "$(dirname "$0")/.."
for f in "$train" "$eval"; do
	[ -f "$f" ] || { echo "replay: $f not found (the datasets live in ../shared/datasets; see its README)" >&2; exit 1; }
done
start=$SECONDS
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
"$GO" build -o "$bin/replay" ./build/cmd/replay
"$GO" build -o "$bin/bandit" ./build/cmd/bandit
"$bin/replay" -train "$train" -eval "$eval" -out "$out" -progress

# The tuning split runs every privacy mode and the central anchors (not the
# segment rules, which without a clock or categories are POP, nor the
# sliding-window V-SKNN). A training pass of 104,550 devices is most of a
# mode's time: the modes that differ only on the server (k = 1, central DP)
# reuse the federated pass's deltas, and the LDP passes are cheap (a
# report or two per device).
tuning_methods=${TUNING_METHODS:-pop,spop,ar,sr,vsknn,tailor-federated,tailor-federated-k1,tailor-dp-1,tailor-dp-8,tailor-local,tailor-ldp-1,tailor-ldp-2,tailor-ldp-4,tailor-ldp-8}
[ "$tuning_methods" = all ] && tuning_methods=
y64=$datasets/yoochoose1-64
if [ -f "$y64/train_tr.txt" ] && [ -f "$y64/train_valid.txt" ]; then
	"$bin/replay" -train "$y64/train_tr.txt" -eval "$y64/train_valid.txt" -out "$out/yoochoose1-64" \
		-methods "$tuning_methods" -sample "${TUNING_SAMPLE:-0}" -progress
fi
dg=$datasets/diginetica-sample
if [ -f "$dg/train-item-views.csv" ]; then
	"$bin/replay" -train "$dg/train-item-views.csv" -categories "$dg/product-categories.csv" \
		-split-days 7 -min-item-support 5 -out "$out/diginetica-srgnn" -progress
	"$bin/replay" -train "$dg/train-item-views.csv" -categories "$dg/product-categories.csv" \
		-split-days 7 -out "$out/diginetica-relaxed" -progress
fi
ob=$datasets/open-bandit-men
if [ -f "$ob/men.csv" ]; then
	"$bin/bandit" -log "$ob/men.csv" -items "$ob/item_context.csv" -out "$out"
fi
echo "replay: done in $((SECONDS - start)) s" >&2
