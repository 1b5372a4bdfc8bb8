FROM a
COPY --chown=jérôme a b
RUN --mount=target=/ñ echo ü
