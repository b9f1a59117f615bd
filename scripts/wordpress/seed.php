<?php
/**
 * Installs (if needed), configures and seeds the Reviewbridge test WordPress.
 *
 * Run by start.sh as:  php seed.php ENV_FILE [--no-reseed]
 *   (environment: WP_PORT, WORDPRESS_CONFIG=reviewbridge)
 *
 * Prints the site's KEY=VALUE env lines on stdout (start.sh writes them to the env file).
 * ENV_FILE is the previous env file, if any: Application Passwords it holds that still work are
 * kept, so credentials stay stable across reseeds.
 *
 * Reseeding wipes posts, comments, terms and uploads with TRUNCATE / AUTO_INCREMENT resets and
 * re-creates everything in a fixed order, so every seeded id is the same on every run
 * (posts and attachments from 1001, comments from 5001, categories and tags from 11).
 * Users (admin, editor "reviewbridge", author "mara") are kept and updated in place.
 *
 * On every run (also --no-reseed) this repository's push plugin (wordpress-plugin/
 * reviewbridge-push) is copied into wp-content/plugins and activated, with its settings emptied:
 * push off until a test sets reviewbridge_push_url and reviewbridge_push_secret (wp-option.php).
 */

if (PHP_SAPI !== 'cli') {
    exit(1);
}
ini_set('display_errors', 'stderr');
error_reporting(E_ALL & ~E_DEPRECATED & ~E_NOTICE);

$port = getenv('WP_PORT') ?: '8089';
$blog_url = "http://127.0.0.1:$port";
$prev_env_file = $argv[1] ?? '';
$reseed = !in_array('--no-reseed', $argv, true);

// Debian's wp-config.php reads these server variables.
$_SERVER['HTTP_HOST'] = "127.0.0.1:$port";
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['SERVER_PORT'] = $port;
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['REMOTE_ADDR'] = '127.0.0.1';
$_SERVER['WORDPRESS_CONFIG'] = getenv('WORDPRESS_CONFIG') ?: 'reviewbridge';

// There is no MTA: a pluggable wp_mail() defined before WordPress loads replaces the real one,
// so wp_install()'s "new site" mail does not try /usr/sbin/sendmail.
function wp_mail($to, $subject, $message, $headers = '', $attachments = array())
{
    return true;
}

// WP_INSTALLING keeps wp-load.php from redirecting to wp-admin/install.php when the tables do
// not exist yet; it is switched off again right after the install step.
define('WP_INSTALLING', true);
require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/user.php';
require_once ABSPATH . 'wp-admin/includes/image.php';
require_once ABSPATH . 'wp-admin/includes/taxonomy.php';

const ADMIN_LOGIN = 'wpadmin';
const EDITOR_LOGIN = 'reviewbridge';
const AUTHOR_LOGIN = 'mara';
const APP_PASSWORD_NAME = 'reviewbridge-tests';
const TIMEZONE = 'Europe/Rome';
const PUSH_PLUGIN = 'reviewbridge-push/reviewbridge-push.php';
const PUSH_OPTIONS = array('reviewbridge_push_url', 'reviewbridge_push_secret');

function fail($msg)
{
    fwrite(STDERR, "seed.php: ERROR: $msg\n");
    exit(1);
}

function check($result, $what)
{
    if (is_wp_error($result)) {
        fail("$what: " . $result->get_error_message());
    }
    if ($result === false || $result === 0) {
        fail("$what failed");
    }
    return $result;
}

function read_env_file($path)
{
    $out = array();
    if ($path !== '' && is_readable($path)) {
        foreach (file($path, FILE_IGNORE_NEW_LINES) as $line) {
            if (preg_match('/^([A-Z0-9_]+)=(.*)$/', $line, $m)) {
                $out[$m[1]] = $m[2];
            }
        }
    }
    return $out;
}

// ------------------------------------------------------------------------------ install
global $wpdb, $wp_rewrite;

if (!is_blog_installed()) {
    fwrite(STDERR, "seed.php: installing WordPress\n");
    $result = wp_install(
        'Frame by Frame',
        ADMIN_LOGIN,
        'admin@reviewbridge.test',
        true,
        '',
        wp_generate_password(24, false)
    );
    check($result, 'wp_install');
}
wp_installing(false);
wp_cache_flush();

// ------------------------------------------------------------------------------ options
$options = array(
    'blogname' => 'Frame by Frame',
    'blogdescription' => 'Film, TV and book reviews',
    'admin_email' => 'admin@reviewbridge.test',
    'siteurl' => $blog_url,
    'home' => $blog_url,
    // Site time is NOT UTC: REST "date" and "date_gmt" differ (+1 h in winter, +2 h in summer).
    'timezone_string' => TIMEZONE,
    'gmt_offset' => '',
    'date_format' => 'j F Y',
    'time_format' => 'H:i',
    'start_of_week' => 1,
    'blog_public' => 1,
    'users_can_register' => 0,
    'default_role' => 'subscriber',
    'show_on_front' => 'posts',
    'page_on_front' => 0,
    'page_for_posts' => 0,
    'wp_page_for_privacy_policy' => 0,
    'sticky_posts' => array(),
    'posts_per_page' => 10,
    // Comments: open, threaded 5 deep, no moderation (new comments appear at once); tests that
    // want held comments hold them through the REST API or wp-option.php.
    'default_comment_status' => 'open',
    'default_ping_status' => 'closed',
    'default_pingback_flag' => 0,
    'ping_sites' => '',
    'thread_comments' => 1,
    'thread_comments_depth' => 5,
    'comment_moderation' => 0,
    'comment_previously_approved' => 0,
    'comment_registration' => 0,
    'require_name_email' => 1,
    'close_comments_for_old_posts' => 0,
    'page_comments' => 0,
    'comments_per_page' => 50,
    'comment_order' => 'asc',
    'comments_notify' => 0,
    'moderation_notify' => 0,
    'comment_max_links' => 2,
    'show_avatars' => 1,
    'uploads_use_yearmonth_folders' => 1,
    // Our own uploads folder, so a reseed can wipe it without touching anything else.
    'upload_path' => WP_CONTENT_DIR . '/uploads/reviewbridge',
    'upload_url_path' => $blog_url . '/wp-content/uploads/reviewbridge',
);
foreach ($options as $name => $value) {
    update_option($name, $value);
}
if (get_option('permalink_structure') !== '/%postname%/') {
    $wp_rewrite->set_permalink_structure('/%postname%/');
}
// Soft flush: the rewrite rules live in the database; Apache's rules are in start.sh's config.
flush_rewrite_rules(false);

// ------------------------------------------------------------------------------ push plugin
// This repository's wordpress-plugin/reviewbridge-push, copied into wp-content/plugins (so the
// web server never needs to read the checkout) and activated. Its settings are reset to empty
// on every run, which turns pushing off: other tests follow the site by polling, and the push
// tests point the plugin at their bot with wp-option.php (and reset it afterwards).
install_push_plugin(dirname(__DIR__, 2) . '/wordpress-plugin/reviewbridge-push');

// ------------------------------------------------------------------------------ users
function ensure_user($login, $role, $email, $first, $last, $display, $url, $bio)
{
    $user = get_user_by('login', $login);
    $data = array(
        'user_login' => $login,
        'user_email' => $email,
        'first_name' => $first,
        'last_name' => $last,
        'display_name' => $display,
        'nickname' => $display,
        'user_url' => $url,
        'description' => $bio,
        'role' => $role,
    );
    if ($user) {
        $data['ID'] = $user->ID;
        $id = check(wp_update_user($data), "update user $login");
    } else {
        $data['user_pass'] = wp_generate_password(24, false);
        $id = check(wp_insert_user($data), "create user $login");
    }
    return (int) $id;
}

$admin_id = ensure_user(
    ADMIN_LOGIN, 'administrator', 'admin@reviewbridge.test', 'Site', 'Admin', 'Site Admin',
    '', 'Runs the blog.'
);
$editor_id = ensure_user(
    EDITOR_LOGIN, 'editor', 'bot@reviewbridge.test', 'Reviewbridge', '', 'Reviewbridge',
    '', 'The Discord bridge: posts Discord replies as comments.'
);
$author_id = ensure_user(
    AUTHOR_LOGIN, 'author', 'mara@reviewbridge.test', 'Mara', 'Ellison', 'Mara Ellison',
    $blog_url, 'Film critic. Writes most of the reviews on Frame by Frame.'
);

// Users that tests may have created go away; their content is wiped below anyway.
foreach (get_users(array('fields' => array('ID', 'user_login'))) as $u) {
    if (!in_array($u->user_login, array(ADMIN_LOGIN, EDITOR_LOGIN, AUTHOR_LOGIN), true)) {
        wp_delete_user((int) $u->ID);
    }
}

// Keep an Application Password that still works, else replace ours with a new one.
function ensure_app_password($user_id, $candidate)
{
    $items = WP_Application_Passwords::get_user_application_passwords($user_id);
    if ($candidate !== '' && $candidate !== null) {
        foreach ($items as $item) {
            // Application Passwords are stored as phpass hashes.
            if (wp_check_password($candidate, $item['password'])) {
                return $candidate;
            }
        }
    }
    foreach ($items as $item) {
        if ($item['name'] === APP_PASSWORD_NAME) {
            WP_Application_Passwords::delete_application_password($user_id, $item['uuid']);
        }
    }
    $created = WP_Application_Passwords::create_new_application_password(
        $user_id,
        array('name' => APP_PASSWORD_NAME)
    );
    check($created, 'create application password');
    return $created[0];
}

$prev = read_env_file($prev_env_file);
$editor_pw = ensure_app_password($editor_id, $prev['WORDPRESS_APP_PASSWORD'] ?? '');
$admin_pw = ensure_app_password($admin_id, $prev['WP_ADMIN_APP_PASSWORD'] ?? '');

// ------------------------------------------------------------------------------ content
$ids = get_option('reviewbridge_seed_ids');
if ($reseed || !is_array($ids) || !get_post($ids['WP_HER_POST_ID'] ?? 0)) {
    $ids = seed_content($admin_id, $author_id, $blog_url);
    update_option('reviewbridge_seed_ids', $ids, false);
    update_option('reviewbridge_seeded_at', gmdate('c'), false);
}

$env = array(
    'BLOG_URL' => $blog_url,
    'WP_REST_URL' => $blog_url . '/wp-json/',
    // The bot refuses loopback/private blog hosts unless told otherwise (bot/config.py).
    'BLOG_ALLOW_PRIVATE_HOST' => 'true',
    'WORDPRESS_USER' => EDITOR_LOGIN,
    'WORDPRESS_APP_PASSWORD' => $editor_pw,
    'WP_ADMIN_USER' => ADMIN_LOGIN,
    'WP_ADMIN_APP_PASSWORD' => $admin_pw,
    'WP_AUTHOR_USER' => AUTHOR_LOGIN,
    'WP_TIMEZONE' => TIMEZONE,
    'WP_VERSION' => get_bloginfo('version'),
    'WP_SEEDED_AT' => get_option('reviewbridge_seeded_at'),
    'WP_ADMIN_USER_ID' => $admin_id,
    'WP_EDITOR_USER_ID' => $editor_id,
    'WP_AUTHOR_USER_ID' => $author_id,
) + $ids;
foreach ($env as $k => $v) {
    echo "$k=$v\n";
}
exit(0);

// ==============================================================================================

/** Wipes all content and creates the seed; returns the env lines with the new ids. */
function seed_content($admin_id, $author_id, $blog_url)
{
    global $wpdb;

    // ---- wipe (TRUNCATE resets AUTO_INCREMENT, so ids repeat on every run)
    foreach (array('comments', 'commentmeta', 'posts', 'postmeta', 'term_relationships', 'termmeta') as $t) {
        $wpdb->query("TRUNCATE TABLE {$wpdb->$t}");
    }
    // Distinct id ranges (posts from 1001, comments from 5001, terms from 11), so code that mixes
    // up a post id with a comment id cannot pass a test by accident.
    $wpdb->query("ALTER TABLE {$wpdb->posts} AUTO_INCREMENT = 1001");
    $wpdb->query("ALTER TABLE {$wpdb->comments} AUTO_INCREMENT = 5001");
    // Term 1 is "Uncategorized", the default category: keep it, drop every other term.
    $wpdb->query("DELETE FROM {$wpdb->terms} WHERE term_id <> 1");
    $wpdb->query("DELETE FROM {$wpdb->term_taxonomy} WHERE term_taxonomy_id <> 1");
    $wpdb->query("UPDATE {$wpdb->term_taxonomy} SET count = 0");
    $wpdb->query("ALTER TABLE {$wpdb->terms} AUTO_INCREMENT = 11");
    $wpdb->query("ALTER TABLE {$wpdb->term_taxonomy} AUTO_INCREMENT = 11");
    update_option('default_category', 1);
    update_option('sticky_posts', array());
    delete_option('category_children');
    $uploads = get_option('upload_path');
    if ($uploads && strpos($uploads, '/reviewbridge') !== false && is_dir($uploads)) {
        rrmdir($uploads);
    }
    wp_cache_flush();

    $ids = array();

    // ---- categories (fixed order => fixed term ids)
    $cat = array();
    foreach (array(
        'film' => array('Film reviews', 'film-reviews'),
        'tv' => array('TV reviews', 'tv-reviews'),
        'book' => array('Book reviews', 'book-reviews'),
        'features' => array('Features', 'features'),
    ) as $key => $c) {
        $term = check(wp_insert_term($c[0], 'category', array('slug' => $c[1])), "category $c[0]");
        $cat[$key] = (int) $term['term_id'];
        $ids['WP_CATEGORY_' . strtoupper($key) . '_ID'] = $cat[$key];
    }

    // Posts are inserted as the admin (unfiltered_html: the JSON-LD <script> survives kses);
    // their author is the critic persona.
    wp_set_current_user($admin_id);

    // ---- "Her": the fixture review, as block-editor paragraphs
    $fixture = parse_her_fixture(__DIR__ . '/seed-data/her-review.txt');
    $her_id = insert_post(array(
        'post_title' => 'Her',
        'post_name' => 'her',
        'post_content' => block_paragraphs($fixture['review']),
        'post_excerpt' => 'Spike Jonze’s Her is a near-future love story that feels like the present, '
            . 'and one of the rare films that deserve a perfect score.',
        'post_date' => '2018-11-04 20:30:00',
        'post_author' => $author_id,
        'post_category' => array($cat['film']),
        'tags_input' => array('Spike Jonze', 'Joaquin Phoenix', 'Science fiction'),
    ));
    $ids['WP_HER_POST_ID'] = $her_id;
    $image_id = make_featured_image($her_id, $author_id);
    if ($image_id) {
        $ids['WP_HER_IMAGE_ID'] = $image_id;
    }

    // ---- other score formats, in date order
    $ids['WP_STARS_POST_ID'] = insert_post(array(
        'post_title' => 'Blade Runner 2049',
        'post_content' => html_paragraphs(array(
            'Denis Villeneuve returns to Ridley Scott’s rain-soaked Los Angeles thirty years on, '
            . 'and somehow makes the sequel feel both reverent and new.',
            'Roger Deakins’ photography alone is worth the ticket; the story stumbles in the middle '
            . 'act but lands its ending.',
            '<strong>Verdict:</strong> 4/5 stars',
        )),
        'post_excerpt' => 'A reverent, gorgeous sequel that stumbles in the middle.',
        'post_date' => '2019-01-20 18:00:00',
        'post_author' => $author_id,
        'post_category' => array($cat['film']),
        'tags_input' => array('Denis Villeneuve', 'Science fiction'),
    ));
    $ids['WP_UNICODE_STARS_POST_ID'] = insert_post(array(
        'post_title' => 'Arrival',
        'post_content' => html_paragraphs(array(
            'Amy Adams plays a linguist asked to talk to visitors who do not experience time the way we do.',
            'It is quiet, patient science fiction, and its last twenty minutes rearrange everything before them.',
            'Our rating: ★★★½',
        )),
        'post_date' => '2019-04-07 11:15:00',
        'post_author' => $author_id,
        'post_category' => array($cat['film']),
        'tags_input' => array('Denis Villeneuve', 'Science fiction'),
    ));
    $ids['WP_HUNDRED_POST_ID'] = insert_post(array(
        'post_title' => 'Ex Machina',
        'post_content' => html_paragraphs(array(
            'Alex Garland’s debut is a chamber piece with three characters, one of whom may not be a person.',
            'Score: 87/100',
        )),
        'post_date' => '2019-07-14 21:45:00',
        'post_author' => $author_id,
        'post_category' => array($cat['film']),
        'tags_input' => array('Alex Garland', 'Science fiction'),
    ));
    $jsonld = array(
        '@context' => 'https://schema.org',
        '@type' => 'Review',
        'name' => 'Minority Report review',
        'author' => array('@type' => 'Person', 'name' => 'Mara Ellison'),
        'datePublished' => '2019-09-29',
        'itemReviewed' => array(
            '@type' => 'Movie',
            'name' => 'Minority Report',
            'dateCreated' => '2002',
            'director' => array('@type' => 'Person', 'name' => 'Steven Spielberg'),
        ),
        'reviewRating' => array(
            '@type' => 'Rating',
            'ratingValue' => '8',
            'bestRating' => '10',
            'worstRating' => '1',
        ),
    );
    $ids['WP_JSONLD_POST_ID'] = insert_post(array(
        'post_title' => 'Minority Report, revisited',
        'post_content' => html_paragraphs(array(
            'Spielberg’s pre-crime thriller has aged better than most futures imagined in 2002.',
            'The score for this one lives only in the structured data below, as a review plugin would write it.',
        )) . "\n\n<!-- wp:html -->\n<script type=\"application/ld+json\">"
            . wp_json_encode($jsonld, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE)
            . "</script>\n<!-- /wp:html -->",
        'post_date' => '2019-09-29 16:20:00',
        'post_author' => $author_id,
        'post_category' => array($cat['film']),
        'tags_input' => array('Steven Spielberg', 'Science fiction'),
    ));
    $ids['WP_NOSCORE_POST_ID'] = insert_post(array(
        'post_title' => 'Rome Film Fest diary',
        'post_content' => html_paragraphs(array(
            'On 10/10/2019 the festival announced its programme, and the press office has been open 24/7 ever since.',
            'Some of the directors here have been making films for thirty years; others are on their first.',
            'No reviews today, just notes: the queues start at 7:30 and the coffee is excellent.',
        )),
        'post_date' => '2019-10-20 09:00:00',
        'post_author' => $author_id,
        'post_category' => array($cat['features']),
        'tags_input' => array('Festivals', 'Rome'),
    ));
    $ids['WP_OUT_OF_POST_ID'] = insert_post(array(
        'post_title' => 'Black Mirror: San Junipero',
        'post_content' => html_paragraphs(array(
            'The kindest hour Black Mirror ever made, set in a beach town that is not quite a place.',
            'Rating: 3.5 out of 5',
        )),
        'post_date' => '2020-02-16 22:10:00',
        'post_author' => $author_id,
        'post_category' => array($cat['tv']),
        'tags_input' => array('Black Mirror'),
    ));
    // 28 March 2021 is the day Rome switched to summer time: 09:30 local is 07:30 UTC.
    $ids['WP_GRADE_POST_ID'] = insert_post(array(
        'post_title' => 'Klara and the Sun',
        'post_content' => html_paragraphs(array(
            'Kazuo Ishiguro’s narrator is an Artificial Friend watching a family from a shop window and then from inside it.',
            'Grade: B+',
        )),
        'post_date' => '2021-03-28 09:30:00',
        'post_author' => $author_id,
        'post_category' => array($cat['book']),
        'tags_input' => array('Kazuo Ishiguro'),
    ));
    $ids['WP_DRAFT_POST_ID'] = insert_post(array(
        'post_title' => 'Dune (draft)',
        'post_content' => html_paragraphs(array('Not finished yet. Probably 9/10.')),
        'post_status' => 'draft',
        'post_author' => $author_id,
        'post_category' => array($cat['film']),
    ));

    // ---- comments, inserted as an anonymous visitor would send them (kses on) unless noted
    wp_set_current_user(0);
    $author = get_userdata($author_id);
    $as_author = array(
        'comment_author' => $author->display_name,
        'comment_author_email' => $author->user_email,
        'comment_author_url' => $author->user_url,
        'user_id' => $author_id,
    );

    // The fixture's two comments on "Her": the reader, and the critic's reply nested under it.
    $ids['WP_HER_READER_COMMENT_ID'] = insert_comment(array(
        'comment_post_ID' => $her_id,
        'comment_author' => 'Claire Ashworth',
        'comment_author_email' => 'claire.ashworth@example.com',
        'comment_author_url' => 'https://flashfilmreviews.example.com/',
        'comment_content' => implode("\n\n", $fixture['reader']),
        'comment_date' => '2018-11-12 18:47:00',
    ));
    $ids['WP_HER_REPLY_COMMENT_ID'] = insert_comment($as_author + array(
        'comment_post_ID' => $her_id,
        'comment_parent' => $ids['WP_HER_READER_COMMENT_ID'],
        'comment_content' => implode("\n\n", $fixture['reply']),
        'comment_date' => '2018-11-13 09:05:00',
    ));
    // Not public: held for moderation, spam, trashed.
    $ids['WP_HER_HELD_COMMENT_ID'] = insert_comment(array(
        'comment_post_ID' => $her_id,
        'comment_author' => 'Dana Whitfield',
        'comment_author_email' => 'dana.whitfield@example.net',
        'comment_content' => 'Is there a director’s cut? I heard the first assembly ran over four hours.',
        'comment_date' => '2018-11-20 23:12:00',
        'comment_approved' => '0',
    ));
    $ids['WP_HER_SPAM_COMMENT_ID'] = insert_comment(array(
        'comment_post_ID' => $her_id,
        'comment_author' => 'Cheap Replica Watches',
        'comment_author_email' => 'sales@replica-watches.example',
        'comment_author_url' => 'https://replica-watches.example/',
        'comment_content' => 'Great post!!! Buy <a href="https://replica-watches.example/">cheap watches</a> now, best prices.',
        'comment_date' => '2018-11-21 03:33:00',
        'comment_approved' => 'spam',
    ));
    $ids['WP_HER_TRASHED_COMMENT_ID'] = insert_comment(array(
        'comment_post_ID' => $her_id,
        'comment_author' => 'Oops',
        'comment_author_email' => 'oops@example.org',
        'comment_content' => 'Wrong post, sorry!',
        'comment_date' => '2018-11-22 12:00:00',
        'comment_approved' => 'trash',
    ));
    // WordPress keeps what the status was before trashing; "untrash" restores it.
    add_comment_meta($ids['WP_HER_TRASHED_COMMENT_ID'], '_wp_trash_meta_status', '1');
    add_comment_meta($ids['WP_HER_TRASHED_COMMENT_ID'], '_wp_trash_meta_time', strtotime('2018-11-22 12:05:00'));

    // A reply chain on "Blade Runner 2049": reader -> critic -> reader -> another reader
    // (depth 1..4; thread_comments_depth is 5).
    $blade = $ids['WP_STARS_POST_ID'];
    $ids['WP_CHAIN_1_COMMENT_ID'] = insert_comment(array(
        'comment_post_ID' => $blade,
        'comment_author' => 'Tomás Ferreira',
        'comment_author_email' => 'tomas.ferreira@example.com',
        'comment_content' => "Only four stars? The baseline test scene alone is five.",
        'comment_date' => '2019-01-21 08:14:00',
    ));
    $ids['WP_CHAIN_2_COMMENT_ID'] = insert_comment($as_author + array(
        'comment_post_ID' => $blade,
        'comment_parent' => $ids['WP_CHAIN_1_COMMENT_ID'],
        'comment_content' => "It is a great scene! The middle hour cost it the fifth star for me.",
        'comment_date' => '2019-01-21 12:40:00',
    ));
    $ids['WP_CHAIN_3_COMMENT_ID'] = insert_comment(array(
        'comment_post_ID' => $blade,
        'comment_parent' => $ids['WP_CHAIN_2_COMMENT_ID'],
        'comment_author' => 'Tomás Ferreira',
        'comment_author_email' => 'tomas.ferreira@example.com',
        'comment_content' => "Fair. I will rewatch it and report back.\n\nStill five.",
        'comment_date' => '2019-01-22 19:02:00',
    ));
    $ids['WP_CHAIN_4_COMMENT_ID'] = insert_comment(array(
        'comment_post_ID' => $blade,
        'comment_parent' => $ids['WP_CHAIN_3_COMMENT_ID'],
        'comment_author' => 'Priya Natarajan',
        'comment_author_email' => 'priya.n@example.org',
        'comment_author_url' => 'https://priya.example.org/',
        'comment_content' => 'Jumping in: the middle hour is the best part. Fight me.',
        'comment_date' => '2019-01-23 07:55:00',
    ));

    // Hostile text on "Arrival", stored unfiltered (as if sent by a user with unfiltered_html or
    // imported): kses would otherwise drop "<@123...>" as a malformed tag.
    $ids['WP_HOSTILE_COMMENT_ID'] = insert_comment(array(
        'comment_post_ID' => $ids['WP_UNICODE_STARS_POST_ID'],
        'comment_author' => "Clyde @everyone Discord\u{202E}nimda\u{202C}",
        'comment_author_email' => 'hostile@evil.example',
        'comment_author_url' => 'https://evil.example/',
        'comment_content' => hostile_text(),
        'comment_date' => '2019-04-08 02:22:00',
    ), false);

    wp_cache_flush();
    return $ids;
}

/** Copies the plugin in (only files that changed, each replaced atomically), activates it. */
function install_push_plugin($source)
{
    require_once ABSPATH . 'wp-admin/includes/plugin.php';
    if (!is_file($source . '/reviewbridge-push.php')) {
        fail("the push plugin is missing: $source/reviewbridge-push.php");
    }
    $target = WP_PLUGIN_DIR . '/' . dirname(PUSH_PLUGIN);
    if (is_link($target)) {
        unlink($target); // someone linked it by hand: replace the link with a copy
    }
    sync_dir($source, $target);

    foreach (PUSH_OPTIONS as $name) {
        update_option($name, '');
    }
    // Activated once; when it is active already there is nothing to do.
    if (!is_plugin_active(PUSH_PLUGIN)) {
        wp_cache_delete('plugins', 'plugins'); // get_plugins() must see the new folder
        // activate_plugin() loads the plugin once to check it, and refuses it on a fatal
        // error or any output.
        check(activate_plugin(PUSH_PLUGIN) ?? true, 'activate the push plugin');
        fwrite(STDERR, "seed.php: activated the push plugin\n");
    }
}

/** Makes $dst hold the same files as $src: changed files are replaced by rename(), so a
 * request running meanwhile never includes half a file; files $src lacks are removed. */
function sync_dir($src, $dst)
{
    if (!is_dir($dst) && !mkdir($dst, 0755, true)) {
        fail("cannot create $dst");
    }
    $wanted = array_diff(scandir($src), array('.', '..'));
    foreach ($wanted as $name) {
        $from = "$src/$name";
        $to = "$dst/$name";
        if (is_dir($from)) {
            sync_dir($from, $to);
        } elseif (!is_file($to) || md5_file($from) !== md5_file($to)) {
            $tmp = "$dst/.$name.tmp";
            if (!copy($from, $tmp) || !chmod($tmp, 0644) || !rename($tmp, $to)) {
                fail("cannot copy $from to $to");
            }
        }
    }
    foreach (array_diff(scandir($dst), array('.', '..'), $wanted) as $name) {
        $p = "$dst/$name";
        is_dir($p) && !is_link($p) ? rrmdir($p) : unlink($p);
    }
}

function insert_post($args)
{
    $args += array('post_status' => 'publish', 'post_type' => 'post', 'comment_status' => 'open');
    if (isset($args['post_date'])) {
        // post_date is site-local (Europe/Rome); WordPress derives date_gmt from the timezone.
        $args['post_date_gmt'] = get_gmt_from_date($args['post_date']);
    }
    return (int) check(wp_insert_post(wp_slash($args), true), 'insert post ' . $args['post_title']);
}

function insert_comment($args, $filtered = true)
{
    $args += array(
        'comment_approved' => '1',
        'comment_type' => 'comment',
        'comment_parent' => 0,
        'user_id' => 0,
        'comment_author_url' => '',
        'comment_author_IP' => '127.0.0.1',
        'comment_agent' => 'Mozilla/5.0 (X11; Linux x86_64) reviewbridge-seed',
    );
    $args['comment_date_gmt'] = get_gmt_from_date($args['comment_date']);
    // Like wp_new_comment(), work on slashed data: the kses filters and wp_insert_comment()
    // both expect it.
    $args = wp_slash($args);
    if ($filtered) {
        // What wp_new_comment() does to a submitted comment (kses, rel="nofollow ugc", ...).
        $args = wp_filter_comment($args);
    }
    return (int) check(wp_insert_comment($args), 'insert comment');
}

function html_paragraphs($paragraphs)
{
    return implode("\n\n", array_map(function ($p) {
        return "<p>$p</p>";
    }, $paragraphs));
}

/** Block-editor markup, as a post written in Gutenberg is stored (content.raw). */
function block_paragraphs($paragraphs)
{
    return implode("\n\n", array_map(function ($p) {
        return "<!-- wp:paragraph -->\n<p>" . esc_html($p) . "</p>\n<!-- /wp:paragraph -->";
    }, $paragraphs));
}

function parse_her_fixture($path)
{
    $text = file_get_contents($path);
    if ($text === false) {
        fail("cannot read $path");
    }
    $text = str_replace("\r\n", "\n", $text);
    // Layout: review paragraphs, then "  1. " reader comment, then "    1. " nested reply,
    // then the comment form's "Leave a comment".
    $parts = explode("\n\n\n  1. ", $text, 2);
    $comments = explode("\n\n    1. ", $parts[1] ?? '', 2);
    $reply = explode("\n\nLeave a comment", $comments[1] ?? '', 2)[0];
    $split = function ($s) {
        return array_values(array_filter(array_map('trim', explode("\n\n", trim($s))), 'strlen'));
    };
    $out = array(
        'review' => $split($parts[0]),
        'reader' => $split($comments[0]),
        'reply' => $split($reply),
    );
    if (count($out['review']) !== 7 || count($out['reader']) !== 3 || count($out['reply']) !== 2) {
        fail("unexpected layout of $path");
    }
    return $out;
}

function hostile_text()
{
    $zw = "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}";
    $rtl = "\u{202E}\u{200F}\u{2067}";
    $head = implode("\n\n", array(
        "@everyone @here <@123456789012345678> <@!123456789012345678> <@&987654321098765432> <#112233445566778899>",
        "Escaped too: &lt;@123456789012345678&gt; and @\u{200B}everyone with a zero-width space.",
        "**bold** __underline__ *italics* ~~strike~~ ||spoiler|| `code` ```py\nprint('block')\n``` > quote # heading",
        "[masked](https://evil.example) and [https://good.example](https://evil.example/phish) and discord.gg/invite",
        "<b><i>unclosed bold italics <a href=\"https://evil.example\">unclosed link <div><span>",
        "Zero-width: a{$zw}b. Right-to-left: {$rtl}gnp.exe\u{202C} txt.exe and \u{202E}evil\u{202C} done.",
        "Emoji and combining: 👍🏽 👨‍👩‍👧 é (e + U+0301: e\u{0301}) and a null-ish \u{0007} bell.",
    ));
    $filler = ' Lorem ipsum dolor sit amet, consectetur adipiscing elit @everyone.';
    $body = $head . "\n\n";
    while (mb_strlen($body) < 9950) {
        $body .= $filler;
    }
    return mb_substr($body, 0, 9950) . "\n\nTHE END @here";
}

function make_featured_image($post_id, $author_id)
{
    if (!function_exists('imagecreatetruecolor')) {
        fwrite(STDERR, "seed.php: php-gd missing, no featured image\n");
        return 0;
    }
    $im = imagecreatetruecolor(1200, 630);
    imagefill($im, 0, 0, imagecolorallocate($im, 196, 52, 52));
    $white = imagecolorallocate($im, 255, 240, 235);
    imagefilledrectangle($im, 80, 260, 1120, 370, imagecolorallocate($im, 150, 30, 40));
    imagestring($im, 5, 560, 305, 'H E R', $white);
    ob_start();
    imagepng($im);
    $png = ob_get_clean();
    imagedestroy($im);

    $upload = wp_upload_bits('her-featured.png', null, $png, '2018/11');
    if (!empty($upload['error'])) {
        fail('upload: ' . $upload['error']);
    }
    $attachment_id = check(wp_insert_attachment(array(
        'post_mime_type' => 'image/png',
        'post_title' => 'Her – featured image',
        'post_status' => 'inherit',
        'post_author' => $author_id,
        'post_date' => '2018-11-04 20:25:00',
        'post_date_gmt' => get_gmt_from_date('2018-11-04 20:25:00'),
        'guid' => $upload['url'],
    ), $upload['file'], $post_id, true), 'insert attachment');
    wp_update_attachment_metadata($attachment_id, wp_generate_attachment_metadata($attachment_id, $upload['file']));
    update_post_meta($attachment_id, '_wp_attachment_image_alt', 'A red poster with the word HER');
    set_post_thumbnail($post_id, $attachment_id);
    return (int) $attachment_id;
}

function rrmdir($dir)
{
    foreach (array_diff(scandir($dir), array('.', '..')) as $f) {
        $p = "$dir/$f";
        is_dir($p) && !is_link($p) ? rrmdir($p) : unlink($p);
    }
    rmdir($dir);
}
