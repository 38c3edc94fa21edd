# qabot Discord bot: a slim, non-root image. Articles are mounted at /data/corpus.
#   docker build -t qabot .
#   docker run --rm --env-file .env -v "$PWD/corpus:/data/corpus:ro" qabot
# See docs/self-hosting.md and docs/systemd/README.md (restart policies).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src

# The runtime dependencies first, in a layer built from pyproject.toml alone, so that editing
# the code does not reinstall them (and no development tool is installed).
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --requirement /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the code, without resolving dependencies again.
COPY README.md LICENSE ./
COPY bot ./bot
RUN pip install --no-deps . && rm -rf /src

# An unprivileged user whose home holds the sync state and the index cache; the folders exist
# in the image so that named volumes mounted there inherit the user's ownership.
RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin qabot \
    && mkdir -p /data/corpus /home/qabot/.local/state /home/qabot/.cache \
    && chown -R qabot:qabot /home/qabot /data

COPY --chmod=755 docker/qabot-service /usr/local/bin/qabot-service

USER 10001:10001
WORKDIR /home/qabot
ENV CORPUS_DIR=/data/corpus
VOLUME ["/data/corpus"]

# Unhealthy when a setting, the corpus folder or a state folder is broken (exit 1); it never
# prints the token. The same command is tested in tests/cli/test_doctor.py.
HEALTHCHECK --interval=60s --timeout=20s --start-period=60s --retries=3 \
    CMD ["qabot", "doctor", "--quick"]

# qabot run exits 0 on SIGTERM (docker stop) after closing the gateway connection; the
# wrapper passes the signal on and turns exit 2 (fix a setting) into a stop, not a restart.
STOPSIGNAL SIGTERM
CMD ["qabot-service"]
