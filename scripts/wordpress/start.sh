#!/usr/bin/env bash
# Start the real WordPress used by Reviewbridge's integration tests, and (re)seed it.
#
#   scripts/wordpress/install.sh   # once per machine (Debian packages)
#   scripts/wordpress/start.sh     # start MariaDB + Apache, install/configure WordPress, reseed
#   scripts/wordpress/stop.sh      # stop Apache (and MariaDB if this script started it)
#
# Idempotent: run it again at any time. When everything already runs it only reseeds (about a
# second): all posts, comments, terms and uploads are wiped and re-created, and because the
# tables' AUTO_INCREMENT counters are reset the seeded ids are the same on every run. Users are
# kept, and so are their Application Passwords while the env file still holds working ones.
# The push plugin (wordpress-plugin/reviewbridge-push) is copied in and active, not configured.
#
# Everything listens on loopback only: Apache on 127.0.0.1:${WP_PORT:-8089}, MariaDB on its
# Unix socket (and 127.0.0.1:3306, Debian's default bind address).
#
# Output: KEY=VALUE lines in ${REVIEWBRIDGE_WP_ENV:-/tmp/reviewbridge-wordpress/site.env}
# (BLOG_URL, WORDPRESS_USER, WORDPRESS_APP_PASSWORD, WP_ADMIN_USER, WP_ADMIN_APP_PASSWORD,
# WP_*_ID, ...). tests/integration/conftest.py reads it.
#
# Options:  --no-reseed   only make sure the services run and the env file exists (seeds if the
#                         site was never seeded).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

WP_PORT=${WP_PORT:-8089}
STATE_DIR=${REVIEWBRIDGE_WP_STATE:-/tmp/reviewbridge-wordpress}
ENV_FILE=${REVIEWBRIDGE_WP_ENV:-$STATE_DIR/site.env}
BLOG_URL="http://127.0.0.1:${WP_PORT}"

# Debian's /usr/share/wordpress/wp-config.php loads /etc/wordpress/config-$WORDPRESS_CONFIG.php
# when the WORDPRESS_CONFIG server variable is set (Apache: SetEnv; CLI: seed.php sets it).
# Using a name of our own instead of config-<host>.php leaves other sites on the machine alone.
WP_CONFIG_NAME=reviewbridge
WP_CONFIG_FILE=/etc/wordpress/config-${WP_CONFIG_NAME}.php
WP_ROOT=/usr/share/wordpress
WP_CONTENT=/var/lib/wordpress/wp-content

DB_NAME=reviewbridge_wp
DB_USER=reviewbridge_wp
# A throwaway test database reachable from loopback only; the password is not a secret.
DB_PASSWORD=reviewbridge-local-test-only

reseed=1
for arg in "$@"; do
    case "$arg" in
    --no-reseed) reseed=0 ;;
    --reseed) reseed=1 ;;
    -h | --help)
        sed -n '2,22p' "${BASH_SOURCE[0]}"
        exit 0
        ;;
    *)
        echo "start.sh: unknown argument $arg" >&2
        exit 2
        ;;
    esac
done

log() { echo "start.sh: $*" >&2; }
die() {
    echo "start.sh: ERROR: $*" >&2
    exit 1
}

[[ $(id -u) -eq 0 ]] || die "must run as root (starts MariaDB and Apache, writes /etc/wordpress)"
for cmd in mysqld_safe mariadb mariadb-admin apache2 php curl; do
    command -v "$cmd" >/dev/null || die "$cmd not found: run scripts/wordpress/install.sh first"
done
[[ -f $WP_ROOT/wp-load.php ]] || die "Debian's wordpress package is missing: run scripts/wordpress/install.sh"
[[ $WP_PORT =~ ^[0-9]+$ ]] || die "WP_PORT must be a number"

mkdir -p "$STATE_DIR" "$(dirname "$ENV_FILE")"

# --------------------------------------------------------------------------- MariaDB
db_ping() { mariadb-admin --silent ping >/dev/null 2>&1; }

if db_ping; then
    log "MariaDB already running"
else
    log "starting MariaDB"
    install -d -o mysql -g root -m 755 /run/mysqld
    if [[ ! -d /var/lib/mysql/mysql ]]; then
        # A data directory wiped or never initialised (the package normally does this).
        mariadb-install-db --user=mysql --datadir=/var/lib/mysql >"$STATE_DIR/mariadb-install.log" 2>&1
    fi
    # Detached from this shell (setsid) so it survives the caller; logs to a file because
    # Debian's config sends mysqld_safe's log to syslog, which may not run here.
    # The server runs as the mysql user, so its log goes to a folder that user owns.
    install -d -o mysql -g mysql -m 755 "$STATE_DIR/mariadb"
    setsid nohup mysqld_safe --skip-syslog --log-error="$STATE_DIR/mariadb/error.log" \
        >"$STATE_DIR/mysqld_safe.out" 2>&1 </dev/null &
    echo started-by-reviewbridge >"$STATE_DIR/mariadb.started"
    for _ in $(seq 1 120); do
        db_ping && break
        sleep 0.5
    done
    db_ping || die "MariaDB did not start; see $STATE_DIR/mariadb/error.log and $STATE_DIR/mysqld_safe.out"
fi

# root connects through the Unix socket (unix_socket authentication, Debian's default).
mariadb --protocol=socket <<SQL
CREATE DATABASE IF NOT EXISTS \`${DB_NAME}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci;
CREATE USER IF NOT EXISTS '${DB_USER}'@'localhost' IDENTIFIED BY '${DB_PASSWORD}';
ALTER USER '${DB_USER}'@'localhost' IDENTIFIED BY '${DB_PASSWORD}';
GRANT ALL PRIVILEGES ON \`${DB_NAME}\`.* TO '${DB_USER}'@'localhost';
SQL

# --------------------------------------------------------------------------- wp config
# Salts are generated once per machine and kept, so logins survive restarts.
salts_file=/etc/wordpress/reviewbridge-salts.php
if [[ ! -s $salts_file ]]; then
    # shellcheck disable=SC2016 # PHP code, not shell: no expansion wanted
    php -r '
        $keys = ["AUTH_KEY","SECURE_AUTH_KEY","LOGGED_IN_KEY","NONCE_KEY",
                 "AUTH_SALT","SECURE_AUTH_SALT","LOGGED_IN_SALT","NONCE_SALT"];
        echo "<?php\n";
        foreach ($keys as $k) {
            printf("define(%s, %s);\n", var_export($k, true), var_export(bin2hex(random_bytes(32)), true));
        }' >"$salts_file.tmp"
    mv "$salts_file.tmp" "$salts_file"
fi

config=$(
    cat <<PHP
<?php
// Written by Reviewbridge's scripts/wordpress/start.sh; rewritten on every run.
define('DB_NAME', '${DB_NAME}');
define('DB_USER', '${DB_USER}');
define('DB_PASSWORD', '${DB_PASSWORD}');
define('DB_HOST', 'localhost');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
\$table_prefix = 'wp_';
require __DIR__ . '/reviewbridge-salts.php';
define('WP_HOME', '${BLOG_URL}');
define('WP_SITEURL', '${BLOG_URL}');
// 'local' lets Application Passwords work over plain http (wp_is_application_passwords_supported).
define('WP_ENVIRONMENT_TYPE', 'local');
// No internet here: never try update checks, pings, oEmbed or cron loopback calls, which would
// otherwise stall requests on connection timeouts.
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('WP_ACCESSIBLE_HOSTS', '127.0.0.1,localhost');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('WP_ALLOW_MULTISITE', false);
define('WP_DEBUG', false);
define('WP_DEBUG_LOG', '${STATE_DIR}/wp-debug.log');
PHP
)
if [[ ! -f $WP_CONFIG_FILE ]] || [[ $(cat "$WP_CONFIG_FILE") != "$config" ]]; then
    printf '%s\n' "$config" >"$WP_CONFIG_FILE.tmp"
    # Holds the DB password: readable by root and the web server only.
    chown root:www-data "$WP_CONFIG_FILE.tmp"
    chmod 640 "$WP_CONFIG_FILE.tmp"
    mv "$WP_CONFIG_FILE.tmp" "$WP_CONFIG_FILE"
fi
chown root:www-data "$salts_file"
chmod 640 "$salts_file"

# --------------------------------------------------------------------------- Apache
# A private Apache instance with its own configuration file: it does not touch
# /etc/apache2 (no port 80, no default site), and listens on loopback only.
apache_dir=$STATE_DIR/apache
mkdir -p "$apache_dir"
apache_conf=$apache_dir/httpd.conf
apache_pid=$apache_dir/httpd.pid
mods=/usr/lib/apache2/modules
php_sos=("$mods"/libphp*.so) # Debian 12: libphp8.2.so
php_mod=$(basename "${php_sos[0]}" .so)
[[ -f $mods/$php_mod.so ]] || die "mod_php missing: run scripts/wordpress/install.sh"
apache_conf_text=$(
    cat <<CONF
# Written by Reviewbridge's scripts/wordpress/start.sh; rewritten on every run.
ServerRoot "$apache_dir"
ServerName 127.0.0.1
Listen 127.0.0.1:${WP_PORT}
PidFile "$apache_pid"
Mutex file:$apache_dir
User www-data
Group www-data
ErrorLog "$apache_dir/error.log"
LogLevel warn
LogFormat "%h %t \"%r\" %>s %b %D" timed
CustomLog "$apache_dir/access.log" timed

# mod_php is not thread-safe: prefork.
LoadModule mpm_prefork_module $mods/mod_mpm_prefork.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule dir_module $mods/mod_dir.so
LoadModule mime_module $mods/mod_mime.so
LoadModule alias_module $mods/mod_alias.so
LoadModule env_module $mods/mod_env.so
LoadModule rewrite_module $mods/mod_rewrite.so
LoadModule php_module $mods/${php_mod}.so

StartServers 4
MinSpareServers 2
MaxSpareServers 8
MaxRequestWorkers 32
KeepAlive On
Timeout 60
TypesConfig /etc/mime.types
AddDefaultCharset UTF-8

<FilesMatch ".+\.php$">
    SetHandler application/x-httpd-php
</FilesMatch>

<Directory />
    Options None
    AllowOverride None
    Require all denied
</Directory>

# Makes Debian's wp-config.php load /etc/wordpress/config-${WP_CONFIG_NAME}.php
SetEnv WORDPRESS_CONFIG ${WP_CONFIG_NAME}

DocumentRoot "$WP_ROOT"
DirectoryIndex index.php
# Debian keeps wp-content (themes, plugins, uploads) under /var/lib/wordpress.
Alias /wp-content $WP_CONTENT
<Directory "$WP_CONTENT">
    Options FollowSymLinks
    Require all granted
</Directory>
<Directory "$WP_ROOT">
    Options FollowSymLinks
    Require all granted
    # Pretty permalinks (/%postname%/, /wp-json/...): what WordPress's .htaccess would say.
    # Kept here (AllowOverride None) because Debian's /etc/wordpress/htaccess is all comments.
    RewriteEngine On
    RewriteBase /
    RewriteRule ^index\.php$ - [L]
    RewriteCond %{REQUEST_FILENAME} !-f
    RewriteCond %{REQUEST_FILENAME} !-d
    RewriteRule . /index.php [L]
</Directory>
CONF
)

apache_running() { [[ -s $apache_pid ]] && kill -0 "$(cat "$apache_pid")" 2>/dev/null; }

conf_changed=0
if [[ ! -f $apache_conf ]] || [[ $(cat "$apache_conf") != "$apache_conf_text" ]]; then
    printf '%s\n' "$apache_conf_text" >"$apache_conf"
    conf_changed=1
fi
apache2 -t -f "$apache_conf" >/dev/null 2>"$apache_dir/configtest.log" ||
    die "Apache config test failed: $(cat "$apache_dir/configtest.log")"

if apache_running; then
    if ((conf_changed)); then
        log "Apache config changed: restarting"
        # A full restart, so a new Listen port takes effect.
        apache2 -f "$apache_conf" -k stop || true
        for _ in $(seq 1 50); do apache_running || break; sleep 0.1; done
        apache2 -f "$apache_conf" -k start
    else
        log "Apache already running on 127.0.0.1:${WP_PORT}"
    fi
else
    rm -f "$apache_pid"
    log "starting Apache on 127.0.0.1:${WP_PORT}"
    # APACHE_* variables are read by nothing in our config but keep Debian's apache2 wrapper quiet.
    APACHE_RUN_DIR=$apache_dir APACHE_LOG_DIR=$apache_dir APACHE_LOCK_DIR=$apache_dir \
        apache2 -f "$apache_conf" -k start
fi

# --------------------------------------------------------------------------- install + seed
# seed.php installs WordPress if needed (wp_install), configures options and users, and (unless
# --no-reseed on an already seeded site) wipes and re-creates the content. It prints KEY=VALUE
# lines; the previous env file is passed in so working Application Passwords are kept.
seed_args=("$ENV_FILE")
((reseed)) || seed_args+=(--no-reseed)
tmp_env=$(mktemp "$(dirname "$ENV_FILE")/.site.env.XXXXXX")
trap 'rm -f "$tmp_env"' EXIT
if ! WP_PORT=$WP_PORT WORDPRESS_CONFIG=$WP_CONFIG_NAME \
    php -d display_errors=stderr -d memory_limit=512M "$here/seed.php" "${seed_args[@]}" >"$tmp_env"; then
    die "seed.php failed"
fi
# The uploads seed.php created as root must stay writable by the web server.
chown -R www-data:www-data "$WP_CONTENT/uploads" 2>/dev/null || true

# --------------------------------------------------------------------------- wait for the site
ok=0
for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null --max-time 5 "$BLOG_URL/wp-json/"; then
        ok=1
        break
    fi
    sleep 0.2
done
((ok)) || die "WordPress does not answer at $BLOG_URL/wp-json/; see $apache_dir/error.log"

# Loopback-only test credentials: readable by whoever runs the tests.
chmod 644 "$tmp_env"
mv "$tmp_env" "$ENV_FILE"
trap - EXIT
log "WordPress is up at $BLOG_URL (env file: $ENV_FILE)"
