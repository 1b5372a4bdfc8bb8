FROM alpine
RUN <<EOF
x
EOF 
  EOF
EOF
