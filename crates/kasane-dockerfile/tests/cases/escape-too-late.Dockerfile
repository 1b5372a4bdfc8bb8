FROM a
# escape=`
RUN echo `
  b
