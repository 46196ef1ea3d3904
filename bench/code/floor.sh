#!/usr/bin/env bash
# Full scan against the parse floor, in CPU time (user + system) and wall time:
# rounds of `baton scan --json` (or `scan_full .`, the example) from nothing for each
# binary given and the floor, in a shuffled order each round, interleaved so that load
# changes hit all of them alike. Prints one line per run, the medians, and the
# median of each round's ratio to that round's floor.
#
#   BATONS="/path/main/baton /path/branch/baton" FLOOR=/path/parse_floor \
#     ROUNDS=5 bash bench/code/floor.sh bench/corpora/code/combined
set -euo pipefail

. "$(dirname "$0")/lib.sh"
# This deletes its code index: only corpora fetched for benchmarks, unless ANY_DIR=1.
dir=$(corpus_dir "$1")
ROUNDS=${ROUNDS:-5}
read -r -a batons <<<"${BATONS:?BATONS: baton binaries to compare}"
floor=${FLOOR:?FLOOR: the parse_floor example}
out=$(mktemp)
trap 'rm -f "$out" "$out.one"' EXIT
cd "$dir"
[ -f .baton/config.toml ] || "${batons[0]}" init --json >/dev/null
# Each round runs them in its own shuffled order (the same for the same round number):
# a fixed or alternating order put the first binary twice in a row at every round's edge,
# and that position alone moved its CPU time by several percent.
order=("${!batons[@]}" floor)
for round in $(seq 1 "$ROUNDS"); do
    read -r -a this < <(shuffled "$round" "${order[@]}")
    for item in "${this[@]}"; do
        rm -f .baton/code.db .baton/code.db-wal .baton/code.db-shm
        if [ "$item" = floor ]; then
            name=floor
            /usr/bin/time -f "%e %U %S" -o "$out.one" "$floor" . >/dev/null
        else
            name="scan$item"
            cmd=${batons[$item]}
            # The scan without the CLI (examples/scan_full) takes the folder instead.
            case "$(basename "$cmd")" in
            scan_full*) /usr/bin/time -f "%e %U %S" -o "$out.one" "$cmd" . >/dev/null ;;
            *) /usr/bin/time -f "%e %U %S" -o "$out.one" "$cmd" scan --json >/dev/null ;;
            esac
        fi
        line="$round $name $(cat "$out.one") load $(cut -d' ' -f1 /proc/loadavg)"
        echo "$line" | tee -a "$out"
    done
done
python3 - "$out" "${batons[@]}" <<'PY'
import statistics as st, sys
rows = {}
for line in open(sys.argv[1]):
    rnd, name, wall, user, system, *_ = line.split()
    rows.setdefault(name, {})[rnd] = (float(wall), float(user) + float(system))
med = {n: (st.median(w for w, _ in v.values()), st.median(c for _, c in v.values())) for n, v in rows.items()}
fw, fc = med["floor"]
print(f"floor: wall {fw:.2f} s, CPU {fc:.2f} s (medians of {len(rows['floor'])})")
for i, path in enumerate(sys.argv[2:]):
    runs = rows[f"scan{i}"]
    w, c = med[f"scan{i}"]
    paired = st.median(runs[r][1] / rows["floor"][r][1] for r in runs)
    print(f"{path}: wall {w:.2f} s ({w / fw:.3f}x floor), CPU {c:.2f} s ({c / fc:.3f}x floor; "
          f"median of rounds {paired:.3f}x)")
PY
