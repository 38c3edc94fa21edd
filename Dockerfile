# qabot Discord bot: a slim, non-root image, the embedding model inside. Articles are mounted
# at /data/corpus; without a mount the shipped article answers.
#   docker build -t qabot .
#   docker run --rm --env-file .env -v "$PWD/corpus:/data/corpus:ro" qabot
#   docker run --rm qabot qabot ask "why is NK courting ASEAN?"
# See docs/self-hosting.md and docs/systemd/README.md (restart policies).
ARG PYTHON_IMAGE=python:3.11-slim

# The virtualenv is made in a stage of its own, the way `make repl` makes it
# (scripts/venv-install: uv, fetched by pip for the install and removed after it), and only
# the virtualenv goes into the image: no uv, no download cache, no development tool.
FROM ${PYTHON_IMAGE} AS build

# Bytecode is compiled now: the user that runs the image cannot write its site-packages, so
# every start would otherwise compile every module again (about 0.25 s of CPU per command).
ENV UV_COMPILE_BYTECODE=1 \
    UV_NO_CACHE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/qabot

# The runtime dependencies first, in a layer built from pyproject.toml alone, so that editing
# the code does not reinstall them (and no development tool is installed).
COPY pyproject.toml ./
COPY scripts/venv-install ./scripts/
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && scripts/venv-install .venv python --requirement /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the code, without resolving dependencies again; pip goes, as nothing in the image
# installs anything.
COPY README.md LICENSE ./
COPY bot ./bot
RUN scripts/venv-install .venv python --no-deps . \
    && .venv/bin/python -m pip uninstall --yes --quiet pip

FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/qabot/.venv/bin:$PATH

# The same path as in the build stage: a virtualenv names its own folder in its scripts.
COPY --from=build /opt/qabot/.venv /opt/qabot/.venv

# An unprivileged user whose home holds the sync state and the index cache; the folders exist
# in the image so that named volumes mounted there inherit the user's ownership.
RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin qabot \
    && mkdir -p /data/corpus /home/qabot/.local/state /home/qabot/.cache \
    && chown -R qabot:qabot /home/qabot /data

# The shipped article, which a volume mounted at /data/corpus replaces.
COPY --chown=10001:10001 corpus /data/corpus
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
