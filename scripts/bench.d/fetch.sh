# bench section "fetch": kasane fetch -j 8 vs -j 1 vs curl on a 256 MiB file from a local server that
# limits each connection's bandwidth (as object stores do), plus peak memory.
bench_fetch() {
  local rate=$((${BENCH_FETCH_RATE_MIB:-8} * 1024 * 1024)) size_mib=${BENCH_FETCH_SIZE_MIB:-256}
  local kasane=$KASANE server=$CARGO_TARGET_DIR/release/kasane-testserver
  cargo build --release -q --locked -p kasane-testserver
  local work; work=$(mktemp -d /tmp/kasane-bench-fetch.XXXXXX)
  head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$work/payload.bin"
  local want; want=$(sha256sum "$work/payload.bin" | cut -d' ' -f1)
  "$server" --file "$work/payload.bin" --rate "$rate" --lifetime 1800 > "$work/url" &
  local pid=$!
  # shellcheck disable=SC2064 # expand now: the trap must stop this server and remove this dir
  # A RETURN trap fires on every later function return too: it removes itself, and a server
  # that is already gone is not an error (set -e would end scripts/bench with status 1).
  trap "kill $pid 2>/dev/null || true; rm -rf '$work'; trap - RETURN" RETURN
  local url=""
  for _ in $(seq 50); do url=$(cat "$work/url"); [ -n "$url" ] && break; sleep 0.1; done
  [ -n "$url" ] || { echo "kasane-testserver did not start" >&2; return 1; }
  # Every tool must deliver the exact file before it is timed.
  "$kasane" fetch -q -j 8 "$url" -o "$work/check.bin" --sha256 "$want" > /dev/null
  "$kasane" fetch -q -j 1 "$url" -o "$work/check.bin" --sha256 "$want" > /dev/null
  curl -sS -o "$work/check.bin" "$url"
  [ "$(sha256sum < "$work/check.bin" | cut -d' ' -f1)" = "$want" ] || { echo "curl got a different file" >&2; return 1; }
  echo "kasane fetch with 8 and with 1 connection, and curl, download the same ${size_mib} MiB file over"
  echo "HTTP/1.1 from kasane-testserver on 127.0.0.1, which limits each connection to"
  echo "$((rate / 1048576)) MiB/s as object stores do. Each tool's output was checked byte for byte first."
  echo
  hyperfine --runs "${BENCH_RUNS:-3}" --export-markdown "$work/fetch.md" \
    -n "kasane fetch -j 8" "$kasane fetch -q -j 8 $url -o $work/j8.bin" \
    -n "kasane fetch -j 1" "$kasane fetch -q -j 1 $url -o $work/j1.bin" \
    -n "curl" "curl -sS -o $work/curl.bin $url" >&2
  cat "$work/fetch.md"
  echo
  echo "### peak memory (max RSS, /usr/bin/time -v)"
  local name
  for name in "kasane fetch -j 8:$kasane fetch -q -j 8 $url -o $work/m.bin" \
              "kasane fetch -j 1:$kasane fetch -q -j 1 $url -o $work/m.bin" \
              "curl:curl -sS -o $work/m.bin $url"; do
    # shellcheck disable=SC2086 # the command is split on purpose
    echo "- ${name%%:*}: $(/usr/bin/time -v ${name#*:} 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}') KiB"
  done
}
