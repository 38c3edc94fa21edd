# qabot Discord bot: a slim, non-root image. Articles are mounted at /data/corpus.
#   docker build -t qabot .
#   docker run --rm --env-file .env -v "$PWD/corpus:/data/corpus:ro" qabot
# See docs/self-hosting.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Dependencies first, so editing the code does not reinstall them.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . && rm -rf /src

# An unprivileged user whose home holds the sync state and the index cache; the folders exist
# in the image so that named volumes mounted there inherit the user's ownership.
RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin qabot \
    && mkdir -p /data/corpus /home/qabot/.local/state /home/qabot/.cache \
    && chown -R qabot:qabot /home/qabot /data

USER qabot
WORKDIR /home/qabot
ENV CORPUS_DIR=/data/corpus
VOLUME ["/data/corpus"]

# qabot run exits 0 on SIGTERM (docker stop) after closing the gateway connection.
STOPSIGNAL SIGTERM
CMD ["qabot", "run"]
