#!/usr/bin/env bash
# The full scan against the parse floor over several code layouts.
#
# Where the linker happens to put the hot code moves CPU time by several percent: two
# builds of the same source, one with a few more lines in an example's main, differed by
# 5% on `combined` (PERFORMANCE.md, session 21). One build measures its own layout's luck
# as much as the scan. This builds `scan_full` and `parse_floor` once per seed, with the
# linker shuffling the order of functions (`--shuffle-sections`, lld: the linker rustc
# uses on x86_64 Linux), then runs each seed's scan and floor as a pair, the pairs in a
# shuffled order each round, and reports each seed's median ratio (the scan's CPU over
# its own build's floor, same pair) and the median over every seed and round.
#
#   SEEDS="1 2 3 4" ROUNDS=4 bash bench/code/layouts.sh bench/corpora/code/combined
#
# To weigh a change, name two checkouts: every round then runs both, each scan against
# its own build's floor, and the report gives each one's ratios.
#
#   VARIANTS="before=/tmp/before after=$PWD" SEEDS="1 2 3" ROUNDS=5 bash bench/code/layouts.sh DIR
#
# Builds go to $LAYOUT_TARGET/<variant>/<seed> (default /tmp/baton-layouts), a full
# release build of baton-code each the first time.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
# This deletes its code index: only corpora fetched for benchmarks, unless ANY_DIR=1.
dir=$(corpus_dir "$1")
repo=$(cd "$(dirname "$0")/../.." && pwd)
read -r -a variants <<<"${VARIANTS:-main=$repo}"
read -r -a seeds <<<"${SEEDS:-1 2 3 4}"
ROUNDS=${ROUNDS:-4}
target=${LAYOUT_TARGET:-/tmp/baton-layouts}
items=()
for variant in "${variants[@]}"; do
    name=${variant%%=*}
    for seed in "${seeds[@]}"; do
        (cd "${variant#*=}" && RUSTFLAGS="-C link-arg=-Wl,--shuffle-sections=.text*=$seed" \
            CARGO_TARGET_DIR="$target/$name/$seed" \
            cargo build --release -q -p baton-code --example scan_full --example parse_floor)
        items+=("$name:$seed")
    done
done
out=$(mktemp)
trap 'rm -f "$out" "$out.one"' EXIT
cd "$dir"
# Each build's scan and floor run back to back, in an order drawn for each pair: the host's
# load drifts over minutes, and a ratio of two runs seconds apart sees the same load.
for round in $(seq 1 "$ROUNDS"); do
    read -r -a this < <(shuffled "$round" "${items[@]}")
    for k in "${!this[@]}"; do
        IFS=: read -r name seed <<<"${this[$k]}"
        for what in $(shuffled "$round$k" scan floor); do
            if [ "$what" = scan ]; then bin=scan_full; else bin=parse_floor; fi
            rm -f .baton/code.db .baton/code.db-wal .baton/code.db-shm
            # No writeback of the last run's index during this one.
            sync
            /usr/bin/time -f "%e %U %S" -o "$out.one" "$target/$name/$seed/release/examples/$bin" . >/dev/null
            line="$round $what $name $seed $(cat "$out.one") load $(cut -d' ' -f1 /proc/loadavg)"
            echo "$line" | tee -a "$out"
        done
    done
done
python3 - "$out" <<'PY'
import statistics as st, sys
cpu, wall = {}, {}
for line in open(sys.argv[1]):
    rnd, what, name, seed, w, user, system, *_ = line.split()
    cpu[(what, name, seed, rnd)] = float(user) + float(system)
    wall[(what, name, seed, rnd)] = float(w)
names = list(dict.fromkeys(n for _, n, _, _ in cpu))
seeds = sorted({s for _, _, s, _ in cpu}, key=int)
rounds = sorted({r for _, _, _, r in cpu}, key=int)
for n in names:
    all_cpu, all_wall = [], []
    for s in seeds:
        c = lambda what, r: cpu[(what, n, s, r)]
        rc = [c("scan", r) / c("floor", r) for r in rounds]
        rw = [wall[("scan", n, s, r)] / wall[("floor", n, s, r)] for r in rounds]
        all_cpu += rc
        all_wall += rw
        print(f"{n} seed {s}: floor CPU {st.median(c('floor', r) for r in rounds):.2f} s, "
              f"scan CPU {st.median(c('scan', r) for r in rounds):.2f} s; median ratio "
              f"CPU {st.median(rc):.3f}x, wall {st.median(rw):.3f}x")
    q = st.quantiles(all_cpu, n=4)
    print(f"{n}, all {len(all_cpu)} pairs: median ratio CPU {st.median(all_cpu):.3f}x "
          f"(quartiles {q[0]:.3f} to {q[2]:.3f}), wall {st.median(all_wall):.3f}x")
PY
