#!/usr/bin/env bash
# replay.sh TRAIN EVAL OUT [DATASETS]: the replay benchmark (issues 5, 9, 12).
#
# Replays TRAIN/EVAL into OUT with METHODS (comma-separated registered
# names, "all" for every one; default: DEFAULT_METHODS below). Given
# DATASETS (../shared/datasets), also runs, each with TUNING_METHODS
# (default: DEFAULT_METHODS) on TUNING_SAMPLE evaluation sessions (0 or
# unset: all):
#   - the YOOCHOOSE 1/64 tuning split (SR-GNN's training half: train_tr =
#     its first 90% of sessions, train_valid = the last 10%), into
#     OUT/yoochoose1-64;
#   - the DIGINETICA tuning split (the same cut of SR-GNN's DIGINETICA
#     training half), into OUT/diginetica-srgnn;
#   - the Open Bandit IPS estimate, into OUT/bandit.*.
# make replay passes DATASETS unless TRAIN or EVAL is given on its command
# line: `make replay TRAIN=... EVAL=...` runs that split alone.
set -euo pipefail
train=$1 eval=$2 out=$3 datasets=${4:-}
GO=${GO:-go}
cd "$(dirname "$0")/.."
for f in "$train" "$eval"; do
	[ -f "$f" ] || { echo "replay: $f not found (the datasets live in ../shared/datasets; see its README)" >&2; exit 1; }
done

# The default set: the shipped default (federated, the server's defaults),
# the strictest mode (local) and LDP at ε = 4, next to the central anchors
# V-SKNN and SR and to S-POP, the floor a session alone reaches. The other
# modes (k = 1, central DP, LDP at other budgets) and baselines (POP, AR,
# the segment rules, the sliding-window V-SKNN) by METHODS. On this
# machine's 2 shared cores it runs either validation split whole in under
# 15 minutes (README, "Quality on real data").
DEFAULT_METHODS=spop,sr,vsknn,tailor-federated,tailor-ldp-4,tailor-local
methods() { # the -methods argument for a list ("all": every registered one)
	if [ "$1" = all ]; then echo ""; else echo "$1"; fi
}

start=$SECONDS
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
"$GO" build -o "$bin/replay" ./build/cmd/replay
"$GO" build -o "$bin/bandit" ./build/cmd/bandit
"$bin/replay" -train "$train" -eval "$eval" -out "$out" -methods "$(methods "${METHODS:-$DEFAULT_METHODS}")" -progress
[ -n "$datasets" ] || { echo "replay: done in $((SECONDS - start)) s" >&2; exit 0; }

# The published rows on each split (issue 12), to read ours against: they
# are measured on the standard test halves, central, trained on a GPU;
# these runs measure the validation split carved from the training half.
declare -A published=(
	[yoochoose1-64]="Published, test half, GPU (HR@20 / MRR@20, %): SR-GNN 70.57 / 30.94; best reported ~72 / ~32.6 (SGNN-HN)."
	[diginetica-srgnn]="Published, test half, GPU (HR@20 / MRR@20, %): SR-GNN 50.73 / 17.59; best reported ~54-56 / ~19-19.5 (GCE-GNN and later)."
)
tuning=$(methods "${TUNING_METHODS:-$DEFAULT_METHODS}")
for split in yoochoose1-64 diginetica-srgnn; do
	dir=$datasets/$split
	if [ -f "$dir/train_tr.txt" ] && [ -f "$dir/train_valid.txt" ]; then
		t=$SECONDS
		"$bin/replay" -train "$dir/train_tr.txt" -eval "$dir/train_valid.txt" -out "$out/$split" \
			-methods "$tuning" -sample "${TUNING_SAMPLE:-0}" -note "${published[$split]}" -progress
		echo "replay: $split in $((SECONDS - t)) s" >&2
	fi
done
ob=$datasets/open-bandit-men
if [ -f "$ob/men.csv" ]; then
	"$bin/bandit" -log "$ob/men.csv" -items "$ob/item_context.csv" -out "$out"
fi
echo "replay: done in $((SECONDS - start)) s" >&2
