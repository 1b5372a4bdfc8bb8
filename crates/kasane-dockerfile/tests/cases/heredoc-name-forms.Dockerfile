FROM alpine
RUN cat <<eo'f'
body
eof
RUN cat <<eo\'f
body
eo'f
RUN cat <<${X}
body
${X}
RUN cat <<EOF1 && cat <<EOF2
1
EOF1
2
EOF2
