# check=skip=JSONArgsRecommended
# escape=`
FROM a
RUN echo `
  b
