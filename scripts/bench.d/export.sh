# bench section "export": the container filesystem without a container. kasane export (from a
# `docker save` archive, to a tar) vs what the engine needs for the same: docker create + docker
# export + docker rm. Also kasane squash (everything into one layer) and kasane diff of the image
# with itself (every file compared). Images: debian:bookworm (made by scripts/env up) and, when
# the analyze section has built it, its ~1.5 GB Debian + Python image.
BENCH_CACHE=${KASANE_BENCH_CACHE:-/var/cache/kasane/bench}
bench_export() {
  need_env
  local out=$WORK/export
  mkdir -p "$out"
  /usr/bin/docker save -o "$out/debian.tar" debian:bookworm
  local images=("debian:bookworm=$out/debian.tar")
  if /usr/bin/docker image inspect kasane-bench-analyze:latest >/dev/null 2>&1 && [ -s "$BENCH_CACHE/analyze-docker.tar" ]; then
    images+=("kasane-bench-analyze:latest=$BENCH_CACHE/analyze-docker.tar")
  fi
  local runs=${BENCH_RUNS:-5} entry tag tar
  for entry in "${images[@]}"; do
    tag=${entry%%=*}
    tar=${entry#*=}
    cat "$tar" > /dev/null
    echo "## export: $tag ($(du -h "$tar" | cut -f1) docker save, $($KASANE analyze -q --json "$tar" | python3 -c 'import json,sys; d=json.load(sys.stdin)["image"]; print(d["final_entries"], "entries,", d["layers"], "layers")'))"
    echo
    hyperfine --style basic --warmup 1 --runs "$runs" --export-markdown "$out/t.md" \
      -n "kasane export -o fs.tar" "rm -f $out/k.tar; $KASANE export -q $tar -o $out/k.tar" \
      -n "docker create + export + rm" "id=\$(/usr/bin/docker create $tag sh) && /usr/bin/docker export \$id > $out/d.tar; /usr/bin/docker rm \$id > /dev/null" \
      -n "kasane squash (all into one layer)" "rm -f $out/s.tar; $KASANE squash -q $tar -o $out/s.tar" \
      -n "kasane diff (image with itself)" "$KASANE diff -q $tar $tar > /dev/null" >&2
    cat "$out/t.md"
    echo
    /usr/bin/time -f %M -o "$out/mem" "$KASANE" export -q "$tar" -o "$out/k.tar"
    echo "kasane export peak RSS: $(( $(cat "$out/mem") / 1024 )) MiB; output $(du -h "$out/k.tar" | cut -f1) (docker export: $(du -h "$out/d.tar" | cut -f1))"
    echo
    rm -f "$out"/*.tar
  done
  rm -rf "$out"
}
