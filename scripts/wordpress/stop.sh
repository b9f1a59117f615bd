#!/usr/bin/env bash
# Stop the Reviewbridge test WordPress started by start.sh: the private Apache instance, and
# MariaDB if (and only if) start.sh was the one that started it. Idempotent.
#   --keep-db   leave MariaDB running even if start.sh started it
set -euo pipefail

STATE_DIR=${REVIEWBRIDGE_WP_STATE:-/tmp/reviewbridge-wordpress}
apache_dir=$STATE_DIR/apache
keep_db=0
[[ ${1:-} == --keep-db ]] && keep_db=1

log() { echo "stop.sh: $*" >&2; }

if [[ -s $apache_dir/httpd.pid ]] && kill -0 "$(cat "$apache_dir/httpd.pid")" 2>/dev/null; then
    log "stopping Apache"
    apache2 -f "$apache_dir/httpd.conf" -k stop || kill "$(cat "$apache_dir/httpd.pid")"
    for _ in $(seq 1 50); do
        [[ -s $apache_dir/httpd.pid ]] || break
        sleep 0.1
    done
else
    log "Apache not running"
fi

if ((keep_db == 0)) && [[ -f $STATE_DIR/mariadb.started ]]; then
    if mariadb-admin --silent ping >/dev/null 2>&1; then
        log "stopping MariaDB"
        # A clean shutdown; mysqld_safe exits when the server does.
        mariadb-admin shutdown
    fi
    rm -f "$STATE_DIR/mariadb.started"
fi
log "stopped"
