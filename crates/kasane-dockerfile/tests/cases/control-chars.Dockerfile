FROM a
ENV RABBIT=1
RUN echo  
LABEL k=" "
