# syntax=docker/dockerfile:1.7
FROM golang:1.22 AS build
RUN --mount=type=cache,target=/root/.cache/go-build,sharing=locked,id=gobuild \
    --mount=type=bind,source=go.sum,target=go.sum,ro \
    --mount=type=secret,id=token,env=TOKEN,required=true \
    --mount=type=ssh,id=default,mode=0600,uid=1000,gid=1000 \
    --mount=type=tmpfs,target=/tmp,size=64m \
    --mount=from=build,src=/out,dst=/in,readwrite \
    go build ./...
RUN --network=none --security=insecure --device=name=/dev/fuse,required=false make
RUN --mount="type=cache,target=/a b" --mount=type=cache,target='/q' echo quoted
