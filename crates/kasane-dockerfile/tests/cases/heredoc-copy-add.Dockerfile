FROM alpine
COPY <<EOF /etc/app.conf
key=value
EOF
ADD --chmod=644 <<one <<two /dst/
first
one
second
two
COPY --link 3<<EOF /x
fd three
EOF
