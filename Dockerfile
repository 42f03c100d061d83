# picsift: search API + web UI. The vector store is a Qdrant server (see docker-compose.yml)
# or, run on its own, an embedded store under /data.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# torch comes first, explicitly, from the CPU wheel index: an unpinned torch (or torch from
# PyPI) pulls the CUDA build plus several GB of nvidia-* wheels that a CPU container never uses.
# The version matches the pin in pyproject.toml, so the `pip install` steps below find the
# requirement `torch==2.13.0` already satisfied by 2.13.0+cpu and leave it alone.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

WORKDIR /src

# Dependencies in their own layer, keyed on pyproject.toml only, so editing the source does not
# reinstall them. The package itself needs its source to install, so only its dependency list
# is read here (tomllib is in the standard library from Python 3.11).
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself (no dev extras); .dockerignore keeps .venv, .git, caches and data out.
COPY . .
RUN pip install . \
    && rm -rf build *.egg-info

# Non-root runtime user; /data (thumbnails, topic models, embedded store) and /models
# (Hugging Face cache, so real models are downloaded once) are created before VOLUME so that
# fresh named volumes inherit the picsift ownership.
RUN useradd --create-home --uid 1000 --user-group --shell /usr/sbin/nologin picsift \
    && mkdir -p /data /models \
    && chown picsift:picsift /data /models

ENV PICSIFT_HOST=0.0.0.0 \
    PICSIFT_PORT=8000 \
    PICSIFT_DATA=/data \
    HF_HOME=/models

VOLUME ["/data", "/models"]
USER picsift
# Run from /data: the default embedded store (./picsift-data) then lands in the volume.
WORKDIR /data
EXPOSE 8000

# python:*-slim has no curl; urllib raises (exit 1) on connection errors and non-2xx answers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PICSIFT_PORT', '8000') + '/healthz', timeout=4)"]

CMD ["picsift", "serve"]
