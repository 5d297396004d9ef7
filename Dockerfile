# Build a static binary (the embedded store is pure Go, so no cgo), then ship it alone in a
# distroless image that runs as a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=docker
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/duban . \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /app
COPY --from=build /out/duban /usr/local/bin/duban
COPY tasks.yaml config.yaml config.example.yaml /app/
# The embedded store's file lives here; mount a volume on it to keep progress across upgrades.
COPY --from=build --chown=nonroot:nonroot /out/data /app/data
VOLUME /app/data
ENV DUBAN_CONFIG=/app/config.yaml
# /healthz and /metrics listen here (set http.listen: 0.0.0.0:8080 to publish them); a webhook
# needs its own telegram.webhook.listen, which must differ.
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/duban"]
CMD ["run"]
