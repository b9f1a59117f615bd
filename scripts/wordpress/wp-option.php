<?php
/**
 * Read or set one WordPress option of the Reviewbridge test site, from the command line.
 *
 *   php scripts/wordpress/wp-option.php comment_moderation        # prints the value
 *   php scripts/wordpress/wp-option.php comment_moderation 1      # sets it, prints the new value
 *
 * Arrays/objects print as JSON. A reseed (start.sh) puts every option seed.php manages back.
 * Needs root (reads /etc/wordpress/config-reviewbridge.php, which holds the DB password).
 */
if (PHP_SAPI !== 'cli' || $argc < 2) {
    fwrite(STDERR, "usage: php wp-option.php NAME [VALUE]\n");
    exit(2);
}
ini_set('display_errors', 'stderr');
$port = getenv('WP_PORT') ?: '8089';
// Debian's wp-config.php reads these server variables.
$_SERVER['HTTP_HOST'] = "127.0.0.1:$port";
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['WORDPRESS_CONFIG'] = getenv('WORDPRESS_CONFIG') ?: 'reviewbridge';
require '/usr/share/wordpress/wp-load.php';

$name = $argv[1];
if ($argc >= 3) {
    update_option($name, $argv[2]);
}
$value = get_option($name);
echo is_scalar($value) || $value === null ? $value : wp_json_encode($value), "\n";
