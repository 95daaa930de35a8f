# Hookline's container image. The build stage runs the same make targets as `make run`
# (tools, the release site with its packed bundle, the release server); the image holds
# the binary and the site, runs as an unprivileged user, and checks itself with
# `hookline health` (no curl needed). scripts/compose-check.py (run by `make test`) starts
# this recipe's command and health check, with its environment, against real Postgres.
#
#   docker build -t hookline .
#   docker run -p 127.0.0.1:3000:3000 -v hookline-data:/var/lib/hookline hookline
#
# SQLite under /var/lib/hookline by default (the master key is created beside it); set
# DATABASE_URL=postgres://… and HOOKLINE_MASTER_KEY for several nodes (compose.yaml).

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make tools site-release build-release

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/hookline --create-home hookline
COPY --from=build /src/target/release/hookline /usr/local/bin/hookline
COPY --from=build /src/target/site /usr/share/hookline/site
ENV HOOKLINE_LISTEN=0.0.0.0:3000 \
    HOOKLINE_SITE_ROOT=/usr/share/hookline/site \
    DATABASE_URL=sqlite:///var/lib/hookline/hookline.db
USER hookline
WORKDIR /var/lib/hookline
VOLUME /var/lib/hookline
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["hookline", "health"]
ENTRYPOINT ["hookline"]
CMD ["serve"]
