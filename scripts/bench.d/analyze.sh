# bench section "analyze": kasane analyze vs dive --ci on a ~1.5 GB docker save of Debian + Python
# packages, and the gzip OCI layout of the same image vs decompressing its layers in parallel.
# The image is built once from scripts/bench-images/analyze and cached under $BENCH_CACHE.
BENCH_CACHE=${KASANE_BENCH_CACHE:-/var/cache/kasane/bench}
bench_analyze() {
  local DIVE=$PEERS_BIN/dive
  local tar="$BENCH_CACHE/analyze-docker.tar" oci="$BENCH_CACHE/analyze-oci-gzip"
  need_env
  local kasane=$KASANE
  mkdir -p "$BENCH_CACHE"
  if [ ! -s "$tar" ]; then
    echo "building the analyze benchmark image (once; several minutes)..." >&2
    DOCKER_BUILDKIT=1 /usr/bin/docker build -q -t kasane-bench-analyze:latest scripts/bench-images/analyze >&2
    /usr/bin/docker save -o "$tar.part" kasane-bench-analyze:latest && mv "$tar.part" "$tar"
  fi
  if [ ! -f "$oci/index.json" ]; then
    rm -rf "$oci"
    skopeo copy "docker-archive:$tar" "oci:$oci:bench" >&2
  fi
  local out=$WORK/analyze; mkdir -p "$out"
  echo "The docker save archive: $(du -h "$tar" | cut -f1) docker save, $(tar -tf "$tar" >/dev/null; $kasane analyze -q --json "$tar" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["image"]["final_entries"], "entries,", d["image"]["layers"], "layers")')"
  echo
  # Warm the page cache so both tools read from memory.
  cat "$tar" > /dev/null
  # Both gate on dive's default rules, which this image fails (exit 1): -i keeps hyperfine going.
  # Peak memory comes from the timed runs themselves (/usr/bin/time around each command). dive
  # takes minutes here (it re-stacks every lower layer for each whiteout), so it gets its own,
  # smaller run count: BENCH_DIVE_RUNS (default 1).
  local runs=${BENCH_RUNS:-5} dive_runs=${BENCH_DIVE_RUNS:-1}
  hyperfine -i --runs "$runs" --export-json "$out/kasane.json" \
    -n "kasane analyze --ci" "/usr/bin/time -f %M -a -o $out/mem-kasane $kasane analyze -q --ci $tar" >&2
  echo "### The gzip OCI layout of the same image vs decompressing every layer in parallel (dive cannot read it)"
  echo
  local layers
  layers=$(python3 -c 'import json,sys
d=sys.argv[1]
idx=json.load(open(d+"/index.json"))
m=json.load(open(d+"/blobs/sha256/"+idx["manifests"][0]["digest"][7:]))
print("\n".join(d+"/blobs/sha256/"+l["digest"][7:] for l in m["layers"]))' "$oci")
  printf '%s\n' "$layers" > "$out/layers.txt"
  cat $layers > /dev/null
  hyperfine --warmup 1 --runs "$runs" --export-markdown "$out/oci.md" \
    -n "kasane analyze (gzip OCI)" "$kasane analyze -q $oci" \
    -n "gzip -dc all layers, $(nproc) in parallel" "xargs -P $(nproc) -n 1 sh -c 'gzip -dc \"\$0\" > /dev/null' < $out/layers.txt" >&2
  cat "$out/oci.md"
  echo
  hyperfine -i --runs "$dive_runs" --export-json "$out/dive.json" \
    -n "dive --ci" "CI=true /usr/bin/time -f %M -a -o $out/mem-dive $DIVE --ci --source docker-archive $tar" >&2
  echo "### kasane analyze --ci vs dive --ci on the docker save archive"
  echo
  python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
k = json.load(open(out + "/kasane.json"))["results"][0]
d = json.load(open(out + "/dive.json"))["results"][0]
mem = lambda f: max(int(l) for l in open(out + "/" + f) if l.strip().isdigit())
print("| command | runs | mean wall [s] | min [s] | user+sys CPU [s] | peak RSS [MiB] |")
print("|---|---:|---:|---:|---:|---:|")
for name, r, m in (("kasane analyze --ci", k, "mem-kasane"), ("dive --ci", d, "mem-dive")):
    print("| %s | %d | %.2f | %.2f | %.2f | %.0f |" % (name, len(r["times"]), r["mean"], r["min"], r["user"] + r["system"], mem(m) / 1024))
print()
print("dive / kasane: wall (mean) %.1fx, wall (min) %.1fx, CPU %.1fx, peak memory %.1fx" % (
    d["mean"] / k["mean"], d["min"] / k["min"], (d["user"] + d["system"]) / (k["user"] + k["system"]), mem("mem-dive") / mem("mem-kasane")))
PY
  echo
  echo "### efficiency: kasane vs dive --json on this image"
  CI= "$DIVE" --json "$out/dive-export.json" --source docker-archive "$tar" >/dev/null
  "$kasane" analyze -q --json "$tar" > "$out/kasane-export.json"
  python3 -c 'import json,sys
k=json.load(open(sys.argv[1])); d=json.load(open(sys.argv[2]))
print("kasane efficiency %.12f, dive %.12f, |diff| %.1e" % (k["efficiency"], d["image"]["efficiencyScore"], abs(k["efficiency"]-d["image"]["efficiencyScore"])))
print("dive wastedBytes %d (all copies), kasane reclaimable %d" % (d["image"]["inefficientBytes"], k["waste"]["reclaimable_bytes"]))
print("entries in all layers: %d" % sum(l["entries"] for l in k["layers"]))' "$out/kasane-export.json" "$out/dive-export.json"
  echo
  rm -rf "$out"
}
