# escape=`
FROM mcr.microsoft.com/windows/nanoserver
WORKDIR C:\app
COPY . C:\app\
ENV PATH="C:\app;${PATH}"
RUN powershell -Command `
    $ErrorActionPreference = 'Stop'; `
    Write-Host 'hi'
