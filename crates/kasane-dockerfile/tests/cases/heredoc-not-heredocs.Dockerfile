FROM alpine
RUN ["sh", "-c", "cat <<EOF"]
RUN echo 'a <<EOF'
RUN echo "b <<EOF"
RUN echo <<
CMD cat <<EOF
ENV X=<<EOF
RUN a<<EOF
RUN cat << EOF
