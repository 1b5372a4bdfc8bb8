FROM a
ENV A=1 B="two words" C='single' D=a\ b
ENV LEGACY value with   spaces
LABEL a.b=c "quoted key"=v
LABEL legacy label value
ARG NAME
ARG V=1 W="x y" Z
ENV E=
ENV F==x
