# creditline: multi-stage build. The build stage's steps are scripts/build-release, which CI runs
# on machines without a Docker engine.
FROM swift:6.3-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libsqlite3-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources Sources
COPY Tests Tests
COPY scripts scripts
COPY migrations migrations
COPY config config
COPY seeds seeds
RUN scripts/build-release /out

# Runtime: slim Debian with the C libraries the binary links (SQLite and zlib), and the CA
# certificates that https webhook pushes verify against; the Swift runtime is inside the binary.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libsqlite3-0 zlib1g ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin creditline \
 && mkdir -p /data \
 && chown creditline:creditline /data
WORKDIR /app
COPY --from=build /out/dist/ /app/
ENV CREDITLINE_HOST=0.0.0.0 \
    CREDITLINE_PORT=8080 \
    CREDITLINE_DB=/data/creditline.sqlite
VOLUME ["/data"]
EXPOSE 8080
USER creditline
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["/app/bin/creditline", "healthcheck"]
ENTRYPOINT ["/app/bin/creditline"]
CMD ["serve"]
