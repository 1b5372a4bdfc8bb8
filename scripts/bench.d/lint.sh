# bench section "lint": kasane lint vs hadolint -f json on a 2,000-file corpus sample, then the whole
# 95,709-file corpus with kasane alone, plus peak memory.
BENCH_CACHE=${KASANE_BENCH_CACHE:-/var/cache/kasane/bench}

bench_lint() {
  local shared=$KASANE_SHARED
  local corpus="$BENCH_CACHE/corpus" kasane=$KASANE
  local hadolint=$PEERS_BIN/hadolint
  mkdir -p "$BENCH_CACHE"
  if [ ! -d "$corpus/all" ]; then
    mkdir -p "$corpus" && zstd -dc "$shared/corpus/dockerfiles.tar.zst" | tar -x -C "$corpus"
  fi
  local out; out=$(mktemp -d)
  (cd "$corpus/all" && ls | sort) > "$out/all.txt"
  awk 'NR % 191 == 1' "$out/all.txt" | head -500 > "$out/sample.txt"
  local n_all n_sample
  n_all=$(wc -l < "$out/all.txt"); n_sample=$(wc -l < "$out/sample.txt")
  find "$corpus/all" -type f -exec cat {} + > /dev/null  # warm the page cache
  echo "## lint: $n_sample-file sample, both tools, $(nproc) cores"
  hyperfine --warmup 1 --runs "${BENCH_RUNS:-3}" --export-markdown "$out/sample.md" \
    -n "kasane lint ($n_sample files)" "cd $corpus/all && $kasane lint -f json --fail-level none --files-from $out/sample.txt > /dev/null" \
    -n "hadolint -f json ($n_sample files)" "cd $corpus/all && xargs -P $(nproc) -n 50 $hadolint -f json --no-fail < $out/sample.txt > /dev/null"
  cat "$out/sample.md"
  echo
  echo "## lint: the whole corpus ($n_all files), kasane alone"
  hyperfine --warmup 1 --runs "${BENCH_RUNS:-3}" --export-markdown "$out/all.md" \
    -n "kasane lint ($n_all files)" "cd $corpus/all && $kasane lint -f json --fail-level none --files-from $out/all.txt > /dev/null"
  cat "$out/all.md"
  echo
  echo "### peak memory (max RSS), whole corpus"
  (cd "$corpus/all" && /usr/bin/time -v "$kasane" lint -f json --fail-level none --files-from "$out/all.txt" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print "kasane lint: " $2 " KiB"}')
  rm -rf "$out"
}
