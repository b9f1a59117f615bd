# Reviewbridge in a slim image: non-root, the SQLite database on a volume.
#   docker build -t reviewbridge .
#   docker run -d --name reviewbridge --env-file .env -v reviewbridge-data:/data reviewbridge
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_PATH=/data/reviewbridge.sqlite3 \
    PUSH_HOST=0.0.0.0

# DejaVu for chart titles in any script (Pillow's bundled font is the fallback).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY discord_emulator ./discord_emulator
RUN pip install . && rm -rf /app/build

RUN useradd --system --uid 10001 --home-dir /data reviewbridge \
    && mkdir -p /data && chown reviewbridge /data
USER reviewbridge
WORKDIR /data
VOLUME ["/data"]
# The push endpoint for the WordPress plugin (only listens when PUSH_SECRET is set). It listens
# on all of the container's interfaces: the container's own loopback is unreachable from outside,
# and `docker run -p 127.0.0.1:8080:8080` decides who outside may reach it.
EXPOSE 8080

HEALTHCHECK --interval=60s --timeout=20s --start-period=60s --retries=3 \
    CMD ["reviewbridge", "check", "--live"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["reviewbridge"]
CMD ["run"]
