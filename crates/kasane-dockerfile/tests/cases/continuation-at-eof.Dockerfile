FROM a
RUN echo \