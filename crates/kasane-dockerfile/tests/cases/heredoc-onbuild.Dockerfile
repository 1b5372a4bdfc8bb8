FROM alpine
ONBUILD RUN <<EOF
echo triggered
EOF
ONBUILD COPY <<EOF /x
y
EOF
RUN echo after
