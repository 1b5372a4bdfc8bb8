FROM	a
RUN	echo		tabs
EXPOSE 80443
RUNformfeed
