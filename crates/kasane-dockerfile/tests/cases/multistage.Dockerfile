ARG BASE=alpine:3.20
FROM ${BASE} AS deps
WORKDIR /src
COPY package.json ./
FROM deps AS build
RUN npm ci && npm run build
FROM nginx:1.27 AS final
COPY --from=build /src/dist /usr/share/nginx/html
EXPOSE 80
CMD ["nginx", "-g", "daemon off;"]
