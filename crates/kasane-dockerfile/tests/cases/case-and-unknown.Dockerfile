from a as B
Run echo
rUN echo
FOO bar baz
&& dangling
maintainer Someone <x@y>
stopsignal SIGTERM
workdir /app
user nobody
expose 80/tcp 443
