FROM alpine
RUN --mount=type=cache,target=/c \
    <<EOF
echo cached
EOF
RUN echo x \
  && cat <<-END
	line
	END
