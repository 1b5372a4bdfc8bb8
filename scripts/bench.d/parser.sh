# bench section "parser": parse the whole 95,709-file Dockerfile corpus with kasane and with
# BuildKit's own parser called from Python (the `dockerfile` package), the same files in the
# same order, each writing the oracle's JSON line per file. Issue 3's targets: under 3 s wall
# on this 2-core machine, and at least 20x BuildKit-from-Python's per-file throughput.
bench_parser() {
    local corpus=$KASANE_CACHE/corpus-dockerfiles stamp list=$WORK/parser-files.txt
    stamp="$(stat -c '%s %Y' "$KASANE_SHARED/corpus/dockerfiles.tar.zst")"
    if [[ "$(cat "$corpus/.stamp" 2>/dev/null)" != "$stamp" ]]; then
        rm -rf "$corpus" && mkdir -p "$corpus"
        zstd -dc "$KASANE_SHARED/corpus/dockerfiles.tar.zst" | tar -x -C "$corpus"
        echo "$stamp" >"$corpus/.stamp"
    fi
    (cd "$corpus/all" && ls | LC_ALL=C sort) >"$list"
    local n
    n=$(wc -l <"$list")
    find "$corpus/all" -type f -exec cat {} + >/dev/null # page cache warm for both
    echo "All $n corpus files ($(du -sh --apparent-size "$corpus/all" | cut -f1) of Dockerfiles), page"
    echo "cache warm, output to /dev/null. kasane parses files on all cores; the Python loop is"
    echo "BuildKit's Go parser behind a C extension, one file at a time, which is how it is used."
    echo
    local table=$WORK/parser-hyperfine.md
    (cd "$corpus/all" && hyperfine --style basic --warmup 1 --runs "${BENCH_PARSER_RUNS:-3}" \
        --export-markdown "$table" --export-json "$table.json" -i \
        -n "kasane parse --format buildkit" "$KASANE parse --format buildkit --files-from $list" \
        -n "kasane parse (tree, --format json)" "$KASANE parse --format json --files-from $list" \
        -n "BuildKit parser via Python" "$PEERS_BIN/python $ROOT/scripts/buildkit_oracle.py parse --files-from $list" \
        >&2)
    cat "$table"
    echo
    cpu_times "$table.json"
    echo "(\`-i\`: both exit non-zero because 21 corpus files do not parse.) Per-file throughput"
    echo "is $n divided by the mean time; the ratio of the means is the throughput ratio."
}
