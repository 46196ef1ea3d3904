#!/usr/bin/env bash
# The long fuzzing run: every fuzz suite (crates/*/tests/fuzz_*.rs) again and again, each
# property with BATON_FUZZ_CASES cases (default 2000) and fresh random inputs every round,
# until BATON_FUZZ_SECONDS (default 3600) have passed. A suite that fails is reported and
# left out of later rounds (the others go on); the failing case is saved in its
# .proptest-regressions file, beside it. Exits 1 when any suite failed.
#
#   nice -n 10 bash bench/fuzz.sh            # one hour, one test thread
#   BATON_FUZZ_SECONDS=600 bash bench/fuzz.sh
#
# Builds in CARGO_TARGET_DIR (default target/). With BATON_FUZZ_FOLLOW=<git worktree>, each
# round first takes that worktree's last commit (into target/fuzz-snapshot): suites
# committed while the run goes on join it. Prints one line per suite and round, and a
# summary of rounds and cases per suite at the end (also in target/fuzz-summary.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${BATON_FUZZ_SECONDS:-3600}"
export BATON_FUZZ_CASES="${BATON_FUZZ_CASES:-2000}"
export CARGO_TERM_COLOR=never
start=$(date +%s)
deadline=$((start + seconds))
root="$PWD"
follow="${BATON_FUZZ_FOLLOW:-}"
snapshot="${CARGO_TARGET_DIR:-$root/target}/fuzz-snapshot"
summary="${CARGO_TARGET_DIR:-$root/target}/fuzz-summary.txt"
declare -A rounds cases seconds_in failed
commit=""

refresh() {
  [ -n "$follow" ] || return 0
  local head
  head="$(git -C "$follow" rev-parse HEAD)"
  if [ "$head" != "$commit" ]; then
    rm -rf "$snapshot" && mkdir -p "$snapshot"
    git -C "$follow" archive "$head" | tar -x -C "$snapshot"
    # The tests find the shared fixtures beside the repository (../shared).
    [ -d "$follow/../shared" ] && ln -sfn "$(cd "$follow/../shared" && pwd)" "$(dirname "$snapshot")/shared"
    commit="$head"
    root="$snapshot"
    echo "== following $follow at ${head:0:9}"
  fi
}

report() {
  {
    echo "fuzz run: $(( $(date +%s) - start )) s, BATON_FUZZ_CASES=$BATON_FUZZ_CASES${commit:+, last commit ${commit:0:9}}"
    for suite in $(printf '%s\n' "${!rounds[@]}" | sort); do
      printf '%-38s %4d rounds %9d cases %6d s %s\n' "$suite" "${rounds[$suite]}" \
        "${cases[$suite]}" "${seconds_in[$suite]}" "${failed[$suite]:-}"
    done
  } | tee "$summary"
}
trap report EXIT
status=0

while [ "$(date +%s)" -lt "$deadline" ]; do
  refresh
  for file in "$root"/crates/*/tests/fuzz_*.rs; do
    [ "$(date +%s)" -lt "$deadline" ] || break
    crate="$(basename "$(dirname "$(dirname "$file")")")"
    test="$(basename "$file" .rs)"
    suite="$crate/$test"
    [ -z "${failed[$suite]:-}" ] || continue
    # One property per #[test] (proptest! blocks mark theirs too).
    properties="$(grep -c '#\[test\]' "$file")"
    began=$(date +%s)
    rounds[$suite]=$(( ${rounds[$suite]:-0} + 1 ))
    cases[$suite]=${cases[$suite]:-0}
    seconds_in[$suite]=${seconds_in[$suite]:-0}
    if ! (cd "$root" && cargo test -q -p "$crate" --all-features --test "$test" \
      -- --test-threads=1 >"${summary%.txt}-last.log" 2>&1); then
      cat "${summary%.txt}-last.log"
      echo "FAILED: $suite (round ${rounds[$suite]})"
      failed[$suite]="FAILED in round ${rounds[$suite]}"
      status=1
      continue
    fi
    cases[$suite]=$(( ${cases[$suite]:-0} + properties * BATON_FUZZ_CASES ))
    seconds_in[$suite]=$(( ${seconds_in[$suite]:-0} + $(date +%s) - began ))
    echo "$(date +%H:%M:%S) $suite round ${rounds[$suite]} ok ($(( $(date +%s) - began )) s)"
  done
done
exit $status
