FROM a
CMD --doit echo
ENV --x=1 A=b
UNKNOWN --flag value
RUN --flag="a b" --f='c d' --g=e\ f cmd
RUN --x --
RUN --=x y
