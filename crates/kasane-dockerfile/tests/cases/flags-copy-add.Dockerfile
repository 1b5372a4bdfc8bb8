FROM alpine AS base
COPY --from=base --chown=1000:1000 --chmod=0755 --link --parents --exclude=*.md --exclude="*.txt" src/ /app/
COPY --link=false a b
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/a.tar.gz /
ADD --keep-git-dir=true --unpack=false --exclude=.git https://github.com/moby/buildkit.git#v0.12.5 /src
COPY -- --weird /dst
COPY --chown="user name" "a b" c
COPY ["a b", "c"]
COPY --from='quoted\'x' a b
