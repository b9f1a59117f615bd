#!/usr/bin/env bash
# Install everything the real-WordPress integration tests need, from Debian 12 packages only:
# WordPress (Debian's package, 6.1.x), MariaDB, PHP 8.2, Apache 2 with mod_php, curl.
#
# Idempotent and non-interactive; when everything is already installed it only runs dpkg-query
# and returns in well under a second. Must run as root (CI does). Nothing is started here:
# scripts/wordpress/start.sh starts the services.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

packages=(
    wordpress
    wordpress-theme-twentytwentythree # the default theme of WordPress 6.1; Debian ships it apart
    mariadb-server
    mariadb-client
    apache2
    libapache2-mod-php
    php-cli
    php-mysql
    php-gd    # featured image generation in seed.php
    php-curl
    php-xml
    php-mbstring
    curl
    ca-certificates
)

if [[ $(id -u) -ne 0 ]]; then
    echo "install.sh: must run as root (apt-get install)" >&2
    exit 1
fi

missing=()
for p in "${packages[@]}"; do
    # "install ok installed" is dpkg's status of a fully installed package.
    if [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) != "install ok installed" ]]; then
        missing+=("$p")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "install.sh: all packages already installed"
    exit 0
fi

echo "install.sh: installing ${missing[*]}"

# Without systemd as PID 1, maintainer scripts must not try to start services (they would fail
# or hang on some containers): policy-rc.d exit code 101 means "action forbidden". Our own
# file is removed afterwards, an existing one is left alone.
own_policy=0
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
fi
cleanup() { if ((own_policy)); then rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

apt_opts=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
# Refresh the package lists once (a fresh machine has none); retry the install once after a
# refresh in case the lists were stale.
if ! apt-get install "${apt_opts[@]}" --no-install-recommends "${missing[@]}"; then
    apt-get update -q
    apt-get install "${apt_opts[@]}" --no-install-recommends "${missing[@]}"
fi

echo "install.sh: done"
