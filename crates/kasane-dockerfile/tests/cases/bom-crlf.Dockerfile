# escape=`
FROM a
RUN one `
  two
