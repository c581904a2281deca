#!/usr/bin/env bash
# Build a stand-in for python:3.11-slim from the Debian mirror alone, for hosts that cannot reach
# Docker Hub (an air-gapped server, a sandbox): Debian 12 minbase + Python 3.11 in a venv on PATH,
# with pip, setuptools and wheel as the official image has them.
#   sudo deploy/tools/offline-base-image.sh [TAG]        # default tag: monitor-base:bookworm
#   docker build -f deploy/Dockerfile --build-arg BASE=monitor-base:bookworm -t minghu-monitor .
# Needs root, debootstrap and a running Docker daemon. CA certificates added to the host
# (/usr/local/share/ca-certificates, e.g. an egress proxy's) are trusted inside the image too.
set -euo pipefail
TAG="${1:-monitor-base:bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ROOT="$(mktemp -d /var/tmp/monitor-base.XXXXXX)"
trap 'rm -rf "$ROOT"' EXIT

debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$ROOT" "$MIRROR" >/dev/null
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
    chroot "$ROOT" update-ca-certificates >/dev/null
fi
chroot "$ROOT" python3 -m venv /opt/python
chroot "$ROOT" env -i PATH=/usr/bin:/bin PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    /opt/python/bin/pip install -q --disable-pip-version-check --upgrade 'pip<25' 'setuptools<80' wheel
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT"/root/.cache
tar -C "$ROOT" -c . | docker import \
    --change 'ENV PATH=/opt/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' - "$TAG"
echo "built $TAG"
