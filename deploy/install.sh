#!/usr/bin/env bash
# Installs PostalGateway: the binary, the data shipped with it, a system user, the configuration
# skeleton and the systemd unit.
#
# Usage: deploy/install.sh [--root DIR] [--binary PATH] [--no-user]
#   --root DIR     install under DIR instead of / (a staging root, or a test)
#   --binary PATH  the postal-gateway binary (default: build it with `swift build -c release`)
#   --no-user      do not create the postal-gateway system user (implied with --root)
#
# Layout:
#   /usr/local/bin/postal-gateway                  the binary
#   /usr/local/share/postal-gateway/               calendars, policies, admin-units, the sample
#                                                  catalog (the binary finds them here)
#   /etc/postal-gateway/config.json                from deploy/config.example.json, if absent
#   /etc/postal-gateway/routes.json                from deploy/routes.example.json, if absent
#   /etc/postal-gateway/catalog.json.sample        the sample catalog, to adapt into catalog.json
#   /etc/systemd/system/postal-gateway.service     the unit
#   /var/lib/postal-gateway/                       the data directory, mode 0700
# Production certificates go in /etc/postal-gateway (see deploy/README.md); the unit refuses to
# serve on a public address without them.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(dirname "$here")"
root=""
binary=""
create_user=true
while [[ $# -gt 0 ]]; do
  case "$1" in
    --root) root="$2"; create_user=false; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --no-user) create_user=false; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ -z "$binary" ]]; then
  swift build -c release --package-path "$project" --product postal-gateway >&2
  binary="$(swift build -c release --package-path "$project" --show-bin-path)/postal-gateway"
fi
bundle="$(dirname "$binary")/postal-gateway_PostalGateway.resources"
[[ -x "$binary" ]] || { echo "no executable at $binary" >&2; exit 1; }
[[ -d "$bundle/calendars" ]] || { echo "the data bundle $bundle is missing (build first)" >&2; exit 1; }

install -d -m 0755 "$root/usr/local/bin" "$root/usr/local/share/postal-gateway" \
  "$root/etc/postal-gateway" "$root/etc/systemd/system"
install -d -m 0700 "$root/var/lib/postal-gateway"
# The key-encryption key file lives here, outside the data directory and its backups; the
# service writes it when the key is rotated.
install -d -m 0700 "$root/etc/postal-gateway/keys"
install -m 0755 "$binary" "$root/usr/local/bin/postal-gateway"
rm -rf "$root/usr/local/share/postal-gateway"
cp -R "$bundle" "$root/usr/local/share/postal-gateway"
chmod -R u=rwX,go=rX "$root/usr/local/share/postal-gateway"
[[ -e "$root/etc/postal-gateway/config.json" ]] ||
  install -m 0640 "$here/config.example.json" "$root/etc/postal-gateway/config.json"
[[ -e "$root/etc/postal-gateway/routes.json" ]] ||
  install -m 0640 "$here/routes.example.json" "$root/etc/postal-gateway/routes.json"
install -m 0644 "$bundle/thai-nguyen-h55.catalog.json" "$root/etc/postal-gateway/catalog.json.sample"
install -m 0644 "$here/postal-gateway.service" "$root/etc/systemd/system/postal-gateway.service"

if $create_user; then
  if ! id postal-gateway >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postal-gateway --no-create-home \
      --shell /usr/sbin/nologin postal-gateway
  fi
  chown -R postal-gateway:postal-gateway "$root/var/lib/postal-gateway" \
    "$root/etc/postal-gateway/keys"
  chgrp postal-gateway "$root/etc/postal-gateway/config.json" "$root/etc/postal-gateway/routes.json"
  echo "installed; put the production certificates and catalog.json in /etc/postal-gateway, then:"
  echo "  systemctl daemon-reload && systemctl enable --now postal-gateway"
else
  echo "installed under ${root:-/}"
fi
