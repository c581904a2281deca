#!/usr/bin/env bash
# Install Docker Compose v2 as a docker CLI plugin from Debian's own package, for a Debian 12 host
# whose only source of software is the Debian mirror (Debian 12 itself ships Compose v1, 1.29, which
# cannot read deploy/compose.yaml: it rejects the Compose Specification's top-level `name:`).
# Takes the `docker-compose` package (2.x, a Go binary that needs only glibc >= 2.34) from Debian 13
# "trixie" with a private apt configuration: the host's sources and installed packages are untouched.
#   sudo deploy/tools/compose-v2-from-debian.sh [PLUGIN_DIR]   # default /usr/local/lib/docker/cli-plugins
#   docker compose version
set -euo pipefail
DEST="${1:-/usr/local/lib/docker/cli-plugins}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
WORK="$(mktemp -d /var/tmp/compose-v2.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/lists/partial" "$WORK/cache/archives/partial" "$WORK/x"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR trixie main" >"$WORK/sources.list"
APT=(-o "Dir::Etc::sourcelist=$WORK/sources.list" -o Dir::Etc::sourceparts=/dev/null
     -o "Dir::State::lists=$WORK/lists" -o "Dir::Cache=$WORK/cache" -o APT::Sandbox::User=root)
apt-get "${APT[@]}" update -qq
(cd "$WORK" && apt-get "${APT[@]}" download -qq docker-compose)
dpkg-deb -x "$WORK"/docker-compose_*.deb "$WORK/x"
install -D -m 0755 "$WORK/x/usr/libexec/docker/cli-plugins/docker-compose" "$DEST/docker-compose"
"$DEST/docker-compose" version
