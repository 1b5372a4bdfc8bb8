FROM a
\
RUN x
