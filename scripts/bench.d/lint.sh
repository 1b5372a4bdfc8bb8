# bench section "lint": kasane lint vs hadolint -f json on a 500-file corpus sample (hadolint
# needs about 60 ms of CPU a file), then the whole 95,709-file corpus with kasane alone, and its
# peak memory. Both tools use every core: hadolint through xargs -P, kasane by itself.

bench_lint() {
  local corpus=$KASANE_CACHE/bench/corpus hadolint=$PEERS_BIN/hadolint
  if [ ! -d "$corpus/all" ]; then
    mkdir -p "$corpus" && zstd -dc "$KASANE_SHARED/corpus/dockerfiles.tar.zst" | tar -x -C "$corpus"
  fi
  (cd "$corpus/all" && ls | sort) > "$WORK/lint-all.txt"
  awk 'NR % 191 == 1' "$WORK/lint-all.txt" | head -500 > "$WORK/lint-sample.txt"
  local n_all n_sample
  n_all=$(wc -l < "$WORK/lint-all.txt"); n_sample=$(wc -l < "$WORK/lint-sample.txt")
  find "$corpus/all" -type f -exec cat {} + > /dev/null # warm the page cache
  echo "The same $n_sample corpus files (every 191st), JSON output, $(nproc) cores for both tools:"
  echo
  compare --warmup 1 --min-runs 3 \
    -n "kasane lint ($n_sample files)" "cd $corpus/all && $KASANE lint -f json --fail-level none --files-from $WORK/lint-sample.txt > /dev/null" \
    -n "hadolint -f json ($n_sample files)" "cd $corpus/all && xargs -P $(nproc) -n 50 $hadolint -f json --no-fail < $WORK/lint-sample.txt > /dev/null"
  echo "The whole corpus ($n_all files), kasane alone:"
  echo
  compare --warmup 1 --min-runs 3 \
    -n "kasane lint ($n_all files)" "cd $corpus/all && $KASANE lint -f json --fail-level none --files-from $WORK/lint-all.txt > /dev/null"
  local rss
  rss=$(cd "$corpus/all" && /usr/bin/time -v "$KASANE" lint -f json --fail-level none --files-from "$WORK/lint-all.txt" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}')
  echo "Peak memory (max RSS) linting the whole corpus: ${rss} KiB."
  echo
}
