# bench section "cache_plan": what a CI machine with an empty engine spends on a multi-stage
# build, with and without a `kasane cache-plan` (legacy and inline), against the local registry.
# Every timed run starts from a wiped engine: this section's images removed (`docker rmi`) and
# the BuildKit cache cleared (`docker builder prune -af`; the base images stay).
bench_cache_plan() {
    need_env
    local work=$WORK/cache-plan seconds=${BENCH_CACHE_PLAN_WORK:-10} runs=${BENCH_RUNS:-3}
    local nonce; nonce=$(date +%s%N)
    local repo=127.0.0.1:5000/kasane-bench-cacheplan-$nonce plain=kasane-bench-cacheplan-plain-$nonce
    mkdir -p "$work/src" "$work/bin"
    # The plans call `docker`; the engine's own 20.10 client (a newer one here wants buildx).
    ln -s /usr/bin/docker "$work/bin/docker"
    export PATH=$work/bin:$PATH
    # base, dependencies, development (not needed), an unnamed tool stage, builder, production;
    # the `sleep`s stand for installs and compiles. TOKEN makes every RUN unique.
    local run='RUN m=$STAGE; echo "ran:$m-TOKEN" && sleep SECONDS'
    sed -e "s/SECONDS/$seconds/g" > "$work/Dockerfile.template" <<EOF
FROM kasane-busybox:latest AS base
WORKDIR /app
FROM base AS dependencies
COPY package.json ./
${run//\$STAGE/dependencies} && mkdir node_modules && cp package.json node_modules/
FROM base AS development
COPY --from=dependencies /app/node_modules ./node_modules
${run//\$STAGE/development}
FROM kasane-busybox:latest
${run//\$STAGE/tool} && echo tool > /tool
FROM base AS builder
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=3 /tool /tool
COPY src ./src
${run//\$STAGE/builder} && mkdir dist && cat src/* > dist/app.js
FROM base AS production
COPY --from=builder /app/dist ./dist
CMD ["ls", "dist"]
EOF
    sed -e "s/TOKEN/$nonce/g" "$work/Dockerfile.template" > "$work/Dockerfile"
    # The plain builds get a fresh token before every run: the legacy builder keeps each
    # stage's image untagged, out of reach of removing the final image, and would serve the
    # next run from them.
    printf 'sed -e "s/TOKEN/$(date +%%s%%N)/g" %s > %s\n' \
        "$work/Dockerfile.template" "$work/Dockerfile.plain" > "$work/fresh.sh"
    echo '{"name": "app"}' > "$work/package.json"
    echo 'console.log(1)' > "$work/src/index.js"
    local mode
    for mode in legacy inline; do
        (cd "$work" && "$KASANE" cache-plan --mode "$mode" --image "$repo-$mode" --push \
            --target production -o "plan-$mode.sh")
    done
    local tags
    tags=$(grep -ho "$repo-[a-z]*:[a-z0-9.-]*" "$work"/plan-*.sh | sort -u | tr '\n' ' ')
    printf '%s\n' "/usr/bin/docker image rm --force $tags $plain >/dev/null 2>&1 || true" \
        "/usr/bin/docker builder prune -af >/dev/null" > "$work/wipe.sh"
    # Seed the registry: each plan once, cold.
    for mode in legacy inline; do
        bash "$work/wipe.sh"
        (cd "$work" && bash "plan-$mode.sh" >/dev/null 2>&1)
    done
    echo "A Next.js-shaped Dockerfile on \`kasane-busybox\` (five stages the target needs, one"
    echo "unnamed, one it does not; the target needs three RUN steps of ${seconds} s each standing"
    echo "for installs and builds, the unneeded stage has one more). Each run starts from a wiped engine (this section's images removed, BuildKit"
    echo "cache cleared): the plain builds, of a copy with fresh RUN lines each time, are what CI"
    echo "without a cache pays; the plans' warm runs pull or import every stage from the local"
    echo "registry and push them again. Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    local fresh="bash $work/wipe.sh && bash $work/fresh.sh"
    hyperfine --style basic --runs "$runs" --export-markdown "$work/table.md" \
        --prepare "$fresh" --prepare "$fresh" \
        --prepare "bash $work/wipe.sh" --prepare "bash $work/wipe.sh" \
        -n "plain cold build, legacy builder" \
        "cd $work && DOCKER_BUILDKIT=0 docker build -q -f Dockerfile.plain --target production -t $plain ." \
        -n "plain cold build, BuildKit" \
        "cd $work && DOCKER_BUILDKIT=1 docker build -q -f Dockerfile.plain --target production -t $plain ." \
        -n "kasane cache-plan --mode legacy, warm" "cd $work && bash plan-legacy.sh" \
        -n "kasane cache-plan --mode inline, warm" "cd $work && bash plan-inline.sh" >&2
    cat "$work/table.md"
    echo
    bash "$work/wipe.sh"
}
