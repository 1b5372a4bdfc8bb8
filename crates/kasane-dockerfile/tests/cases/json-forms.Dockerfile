FROM a
CMD ["a", "b"] trailing
CMD ['single']
CMD ["unterminated
CMD []
ENTRYPOINT [ "\u00e9\n\t\"" ]
RUN ["a",]
SHELL ["/bin/bash", "-c"]
VOLUME ["/a", "/b"]
VOLUME /c /d
CMD ["\ud83d\ude00", "\ud83d"]
CMD [1e999]
CMD ["x"
