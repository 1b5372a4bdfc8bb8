# leading comment
#
# another
FROM a
# comment for run
RUN x # not a comment
   # indented comment
RUN y
