FROM alpine
RUN <<-'EOT' sh -e
	echo $HOME
		indented
	EOT
RUN cat <<"A" <<-B
$x
A
	y
	B
