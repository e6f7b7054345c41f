# syntax=docker/dockerfile:1
# weighin: multi-stage image. Build: docker build -t weighin .
#   docker run --rm -e DATABASE_URL=postgres://... weighin migrate
#   docker run --rm -p 8080:8080 -e DATABASE_URL=postgres://... weighin        (serve)

# ---------------------------------------------------------------- build stage
# The tag must match the project's Swift toolchain (6.3.1 here): swift:6.3-bookworm follows
# the 6.3.x releases; pin swift:6.3.1-bookworm for a reproducible build.
FROM swift:6.3-bookworm AS build

# libpq headers and libpq.so for linking (libpq5 is installed in the runtime stage); zlib's for the web app's gzip
# (zlib1g itself is part of every Debian image).
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src

# Dependencies first: this layer stays cached until Package.swift or Package.resolved change.
COPY Package.swift Package.resolved* ./
RUN swift package resolve $([ -f Package.resolved ] && echo --force-resolved-versions)

# Then the sources (see .dockerignore) and the release build, Swift runtime linked statically.
COPY . .
RUN swift build -c release --static-swift-stdlib --product weighin

# Stage what the runtime needs: the binary (the OpenAPI document is built into it), the web app's files (the
# resource bundle, found beside the binary) and the migrations.
RUN BIN="$(swift build -c release --show-bin-path)" \
    && mkdir -p /staging \
    && cp "$BIN/weighin" /staging/weighin \
    && cp -R "$BIN/weighin_WeighinHTTP.resources" /staging/ \
    && cp -R sql /staging/sql

# ---------------------------------------------------------------- runtime stage
FROM debian:bookworm-slim

# libpq5: the PostgreSQL client library; ca-certificates: TLS to the database;
# curl: the health check; tzdata: time zone data for Foundation.
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update \
    && apt-get install -y --no-install-recommends libpq5 ca-certificates curl tzdata \
    && rm -rf /var/lib/apt/lists/*

# A non-root user; the files in /app stay owned by root (read-only for the service).
RUN groupadd --system --gid 10001 weighin \
    && useradd --system --uid 10001 --gid weighin --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin weighin

WORKDIR /app
COPY --from=build /staging/ /app/

# WEIGHIN_HOST must be 0.0.0.0 in a container (the binary defaults to 127.0.0.1).
# DATABASE_URL is given at run time.
ENV WEIGHIN_HOST=0.0.0.0 \
    WEIGHIN_PORT=8080 \
    WEIGHIN_SQL_DIR=/app/sql

USER 10001:10001
EXPOSE 8080

# Healthy when the database answers and its schema is at the newest migration.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD curl -fsS -o /dev/null "http://127.0.0.1:${WEIGHIN_PORT}/readyz" || exit 1

ENTRYPOINT ["/app/weighin"]
CMD ["serve"]
