# syntax=docker/dockerfile:1
FROM alpine
RUN <<EOF
apk add --no-cache curl
echo done
EOF
