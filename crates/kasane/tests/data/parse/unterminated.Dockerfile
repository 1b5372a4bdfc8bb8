FROM a
RUN <<EOF
never ends
