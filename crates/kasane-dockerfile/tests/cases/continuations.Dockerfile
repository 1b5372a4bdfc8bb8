FROM a
RUN apt-get update && \
# a comment inside
    # an indented comment

    apt-get install -y x \   
  	
    && echo done
RUN echo a\\
RUN echo b \\\
RUN echo c\

