FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*
USER nobody
CMD ["curl", "--version"]
