# syntax=docker/dockerfile:1
# escape=`
FROM a
RUN echo `
  b
