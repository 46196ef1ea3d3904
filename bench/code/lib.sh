# Shared by the code-index benchmarks (source it): the corpus guard and the shuffled order.

# The absolute path of corpus directory $1, refused (exit 2) unless it is under
# bench/corpora/ or ANY_DIR=1 is set: the benchmarks delete its code index or edit it.
corpus_dir() {
    local dir
    dir=$(cd "$1" && pwd)
    case "$dir" in
    */bench/corpora/*) ;;
    *) [ -n "${ANY_DIR:-}" ] || { echo "$(basename "$0"): $dir is not under bench/corpora/ (set ANY_DIR=1 to use it anyway)" >&2; exit 2; } ;;
    esac
    echo "$dir"
}

# The remaining arguments in a shuffled order, the same for the same seed $1, one line.
shuffled() {
    python3 -c 'import random, sys; r = random.Random(int(sys.argv[1])); o = sys.argv[2:]; r.shuffle(o); print(*o)' "$@"
}
