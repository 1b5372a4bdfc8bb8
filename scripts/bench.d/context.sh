# bench section "context": `kasane context` on a generated 100,000-file, node_modules-shaped tree
# (issue 9's target: the report in under a second on the 2-core machine), against a bare
# `find | wc -l; du -sb` walk of the same tree as the floor.
bench_context() {
    local tree=${KASANE_CACHE}/bench/context-tree
    if [[ ! -f $tree/.complete ]]; then
        rm -rf "$tree"
        mkdir -p "$tree"
        # 100 services x 10 packages x 100 files = 100,000 files.
        (cd "$tree" && for s in $(seq -w 0 99); do
            for p in $(seq -w 0 9); do
                d="svc$s/node_modules/pkg$p"
                mkdir -p "$d"
                (cd "$d" && touch $(printf 'f%03d.js ' $(seq 0 99)))
            done
        done)
        printf '**/node_modules\n!svc00/node_modules/pkg0\n*.md\n' >"$tree/.dockerignore"
        touch "$tree/.complete"
    fi
    echo "kasane context on a tree of $(find "$tree" -type f | wc -l) files, page cache warm."
    echo
    compare \
        -n "kasane context (BuildKit rules)" "$KASANE context $tree --json" \
        -n "kasane context --engine classic" "$KASANE context --engine classic $tree --json" \
        -n "find | wc -l; du -sb (walk only)" "find $tree -type f | wc -l; du -sb $tree"
}
