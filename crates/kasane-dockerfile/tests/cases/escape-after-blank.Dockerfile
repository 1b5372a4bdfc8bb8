
# escape=`
FROM a
RUN echo `
  b
