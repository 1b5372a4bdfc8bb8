# bench section "live": reading an image straight from the registry and from the engine.
# `kasane analyze docker://127.0.0.1:5000/...` (manifest, config and every layer streamed, each
# sha256-checked, decompressed and analysed) against `skopeo copy docker://... oci:DIR` (which
# only downloads and writes the blobs), on the biggest image scripts/bench-images makes (the
# analyze benchmark image, pushed to the local registry once). Also `--save DIR` (the same
# analysis plus writing the OCI layout, skopeo's whole job) and the engine source
# (`docker-daemon:`) against `docker save -o`.
BENCH_CACHE=${KASANE_BENCH_CACHE:-/var/cache/kasane/bench}
bench_live() {
  need_env
  local image=kasane-bench-analyze:latest remote=127.0.0.1:5000/kasane-bench-live:latest
  local tar="$BENCH_CACHE/analyze-docker.tar"
  if ! /usr/bin/docker image inspect "$image" >/dev/null 2>&1; then
    if [ -s "$tar" ]; then
      /usr/bin/docker load -q -i "$tar" >&2
    else
      echo "building the analyze benchmark image (once; several minutes)..." >&2
      DOCKER_BUILDKIT=1 /usr/bin/docker build -q -t "$image" scripts/bench-images/analyze >&2
    fi
  fi
  if ! skopeo inspect --tls-verify=false "docker://$remote" >/dev/null 2>&1; then
    echo "pushing the benchmark image to the local registry (once)..." >&2
    /usr/bin/docker tag "$image" "$remote"
    /usr/bin/docker push -q "$remote" >&2
  fi
  local out=$WORK/live runs=${BENCH_RUNS:-3}
  mkdir -p "$out"
  local stored
  stored=$(skopeo inspect --tls-verify=false "docker://$remote" | python3 -c 'import json,sys
d=json.load(sys.stdin); print(len(d["Layers"]))')
  echo "### The analyze benchmark image from the registry at 127.0.0.1:5000 ($stored layers, $(
    "$KASANE" analyze -q --json "docker://$remote" | python3 -c 'import json,sys
d=json.load(sys.stdin)["image"]; print("%.2f GB stored (gzip), %.2f GB unpacked" % (d["stored_size"]/1e9, d["total_size"]/1e9))'))"
  echo
  compare --warmup 1 --runs "$runs" --prepare "rm -rf $out/skopeo $out/saved" \
    -n "kasane analyze docker://" "$KASANE analyze -q docker://$remote" \
    -n "kasane analyze --save DIR docker://" "$KASANE analyze -q --save $out/saved docker://$remote" \
    -n "skopeo copy docker:// oci:DIR" "skopeo copy -q --src-tls-verify=false docker://$remote oci:$out/skopeo:latest"
  echo "### The same image from the engine: the export streamed into the analysis vs docker save to a file"
  echo
  compare --warmup 1 --runs "$runs" --prepare "rm -f $out/saved.tar" \
    -n "kasane analyze docker-daemon:" "$KASANE analyze -q docker-daemon:$image" \
    -n "docker save -o FILE" "/usr/bin/docker save -o $out/saved.tar $image"
  rm -rf "$out"
}
