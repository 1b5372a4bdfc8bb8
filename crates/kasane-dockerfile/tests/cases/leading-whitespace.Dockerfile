   FROM a
	RUN echo \
	  indented
  RUN nbsp
