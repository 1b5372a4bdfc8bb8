FROM --platform=$BUILDPLATFORM golang AS build
FROM --platform=linux/arm64 alpine
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --start-interval=1s --retries=3 \
  CMD curl -f http://localhost/ || exit 1
HEALTHCHECK NONE
HEALTHCHECK CMD ["curl", "-f", "x"]
HEALTHCHECK
HEALTHCHECK CMD
