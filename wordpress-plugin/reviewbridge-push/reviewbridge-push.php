<?php
/**
 * Plugin Name:       Reviewbridge Push
 * Description:       Tells the Reviewbridge Discord bot at once when a comment is posted, edited, approved, unapproved, spammed, trashed or deleted, so its threads follow without waiting for the next poll. Sends only a signed hint (ids, no content); the bot reads the comment from the REST API.
 * Version:           1.0.0
 * Requires at least: 5.0
 * Requires PHP:      7.2
 * License:           MIT
 *
 * Configure in wp-config.php (preferred: the secret stays out of the database):
 *     define( 'REVIEWBRIDGE_PUSH_URL', 'https://bot.example.com/push/wordpress' );
 *     define( 'REVIEWBRIDGE_PUSH_SECRET', 'the same secret as the bot's PUSH_SECRET' );
 * or under Settings > Reviewbridge Push.
 *
 * Each hint is a POST with the JSON body {"event","comment_id","post_id","nonce"} and headers
 * X-Reviewbridge-Timestamp (Unix seconds), X-Reviewbridge-Nonce (the body's nonce) and
 * X-Reviewbridge-Signature: sha256=HMAC-SHA256(secret, timestamp + "." + body).
 * Hints are sent at the end of the request with a one-second timeout ('blocking' => false, but
 * WordPress's cURL transport still waits for the answer up to the timeout), and the hints of one
 * request get that second together: a bot that is down or refuses the secret never breaks or
 * noticeably slows commenting, one that hangs delays a request by about a second, and the bot's
 * regular poll catches up on whatever was not sent.
 */

defined( 'ABSPATH' ) || exit;

final class Reviewbridge_Push {

	const OPTION_URL    = 'reviewbridge_push_url';
	const OPTION_SECRET = 'reviewbridge_push_secret';
	const TIMEOUT       = 1; // seconds per hint, and for all the hints of one request

	/** @var array<string, array{event: string, comment_id: int, post_id: int}> Hints of this request, one per comment. */
	private static $queue = array();

	public static function init() {
		// Not comment_post: that one fires for comments sent through the comment form
		// (wp_new_comment) only, not for comments created through the REST API.
		add_action( 'wp_insert_comment', array( __CLASS__, 'on_comment_post' ), 10, 1 );
		add_action( 'edit_comment', array( __CLASS__, 'on_edit_comment' ), 10, 1 );
		add_action( 'transition_comment_status', array( __CLASS__, 'on_status' ), 10, 3 );
		add_action( 'deleted_comment', array( __CLASS__, 'on_deleted' ), 10, 2 );
		add_action( 'shutdown', array( __CLASS__, 'flush' ) );
		add_action( 'admin_init', array( __CLASS__, 'register_settings' ) );
		add_action( 'admin_menu', array( __CLASS__, 'add_settings_page' ) );
	}

	// ---- hooks: queue one hint per comment; the last event of a request wins, except that a
	// deletion stays a deletion (wp_delete_comment() fires a status change after it).

	public static function on_comment_post( $comment_id ) {
		self::queue( 'comment_posted', $comment_id );
	}

	public static function on_edit_comment( $comment_id ) {
		self::queue( 'comment_edited', $comment_id );
	}

	public static function on_status( $new_status, $old_status, $comment ) {
		if ( $new_status !== $old_status && $comment instanceof WP_Comment ) {
			self::queue( 'comment_status', $comment->comment_ID, (int) $comment->comment_post_ID );
		}
	}

	public static function on_deleted( $comment_id, $comment = null ) {
		$post_id = $comment instanceof WP_Comment ? (int) $comment->comment_post_ID : 0;
		self::queue( 'comment_deleted', $comment_id, $post_id );
	}

	private static function queue( $event, $comment_id, $post_id = 0 ) {
		$comment_id = (int) $comment_id;
		if ( $comment_id <= 0 ) {
			return;
		}
		$key = (string) $comment_id;
		if ( isset( self::$queue[ $key ] ) && 'comment_deleted' === self::$queue[ $key ]['event'] ) {
			return;
		}
		if ( $post_id <= 0 ) {
			$comment = get_comment( $comment_id );
			$post_id = $comment ? (int) $comment->comment_post_ID : 0;
		}
		if ( $post_id > 0 ) {
			self::$queue[ $key ] = array(
				'event'      => $event,
				'comment_id' => $comment_id,
				'post_id'    => $post_id,
			);
		}
	}

	// ---- sending

	public static function flush() {
		$url    = self::setting( 'REVIEWBRIDGE_PUSH_URL', self::OPTION_URL );
		$secret = self::setting( 'REVIEWBRIDGE_PUSH_SECRET', self::OPTION_SECRET );
		$hints  = self::$queue;
		self::$queue = array();
		if ( '' === $url || '' === $secret || empty( $hints ) ) {
			return;
		}
		// A bot that accepts connections but does not answer costs a full timeout per hint:
		// stop once the hints of this request took the timeout in all, so that a moderator
		// deleting a post with hundreds of comments waits a second, not hundreds.
		$started = microtime( true );
		foreach ( $hints as $hint ) {
			if ( microtime( true ) - $started >= self::TIMEOUT ) {
				break; // the bot's poll catches up on the rest
			}
			self::send( $url, $secret, $hint );
		}
	}

	private static function send( $url, $secret, array $hint ) {
		try {
			$nonce = bin2hex( random_bytes( 16 ) );
		} catch ( Exception $e ) {
			return; // no good randomness: skip the hint, the bot's poll still sees the change
		}
		$hint['nonce'] = $nonce;
		$body          = wp_json_encode( $hint );
		$timestamp     = (string) time();
		$signature     = 'sha256=' . hash_hmac( 'sha256', $timestamp . '.' . $body, $secret );
		// Non-blocking with a short timeout, and errors ignored: commenting must never fail
		// because of the bot, nor wait on it longer than the timeout.
		wp_remote_post(
			$url,
			array(
				'body'        => $body,
				'timeout'     => self::TIMEOUT,
				'blocking'    => false,
				'redirection' => 0,
				'headers'     => array(
					'Content-Type'             => 'application/json',
					'X-Reviewbridge-Timestamp' => $timestamp,
					'X-Reviewbridge-Nonce'     => $nonce,
					'X-Reviewbridge-Signature' => $signature,
				),
			)
		);
	}

	/** A constant from wp-config.php wins over the option saved on the settings page. */
	private static function setting( $constant, $option ) {
		if ( defined( $constant ) ) {
			return trim( (string) constant( $constant ) );
		}
		return trim( (string) get_option( $option, '' ) );
	}

	// ---- settings page

	public static function register_settings() {
		register_setting(
			'reviewbridge_push',
			self::OPTION_URL,
			array(
				'type'              => 'string',
				'sanitize_callback' => array( __CLASS__, 'sanitize_url' ),
				'default'           => '',
			)
		);
		register_setting(
			'reviewbridge_push',
			self::OPTION_SECRET,
			array(
				'type'              => 'string',
				'sanitize_callback' => array( __CLASS__, 'sanitize_secret' ),
				'default'           => '',
			)
		);
	}

	public static function sanitize_url( $value ) {
		$url = esc_url_raw( trim( (string) $value ), array( 'https', 'http' ) );
		// WordPress runs this twice when the option is first saved (update_option, then
		// add_option): warn once.
		if ( '' !== $url && 0 !== strpos( $url, 'https://' ) && ! self::has_settings_error( self::OPTION_URL, 'insecure' ) ) {
			add_settings_error( self::OPTION_URL, 'insecure', __( 'Use https:// unless the bot runs on this machine.', 'reviewbridge-push' ), 'warning' );
		}
		return $url;
	}

	private static function has_settings_error( $setting, $code ) {
		foreach ( get_settings_errors( $setting ) as $error ) {
			if ( $code === $error['code'] ) {
				return true;
			}
		}
		return false;
	}

	public static function sanitize_secret( $value ) {
		$secret = trim( (string) $value );
		if ( '' === $secret ) {
			return (string) get_option( self::OPTION_SECRET, '' ); // an empty field keeps the saved secret
		}
		if ( strlen( $secret ) < 32 ) {
			add_settings_error( self::OPTION_SECRET, 'short', __( 'The secret must be at least 32 characters; it was not saved.', 'reviewbridge-push' ) );
			return (string) get_option( self::OPTION_SECRET, '' );
		}
		return $secret;
	}

	public static function add_settings_page() {
		add_options_page(
			__( 'Reviewbridge Push', 'reviewbridge-push' ),
			__( 'Reviewbridge Push', 'reviewbridge-push' ),
			'manage_options',
			'reviewbridge-push',
			array( __CLASS__, 'render_settings_page' )
		);
	}

	public static function render_settings_page() {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		$url_fixed    = defined( 'REVIEWBRIDGE_PUSH_URL' );
		$secret_fixed = defined( 'REVIEWBRIDGE_PUSH_SECRET' );
		$url          = self::setting( 'REVIEWBRIDGE_PUSH_URL', self::OPTION_URL );
		$has_secret   = '' !== self::setting( 'REVIEWBRIDGE_PUSH_SECRET', self::OPTION_SECRET );
		?>
		<div class="wrap">
			<h1><?php esc_html_e( 'Reviewbridge Push', 'reviewbridge-push' ); ?></h1>
			<p><?php esc_html_e( 'Tells the Reviewbridge Discord bot when comments change. Only ids are sent, signed with the shared secret.', 'reviewbridge-push' ); ?></p>
			<form method="post" action="options.php">
				<?php settings_fields( 'reviewbridge_push' ); ?>
				<table class="form-table" role="presentation">
					<tr>
						<th scope="row"><label for="reviewbridge-push-url"><?php esc_html_e( 'Bot endpoint', 'reviewbridge-push' ); ?></label></th>
						<td>
							<input type="url" class="regular-text" id="reviewbridge-push-url" name="<?php echo esc_attr( self::OPTION_URL ); ?>" value="<?php echo esc_attr( $url ); ?>" placeholder="https://bot.example.com/push/wordpress" <?php disabled( $url_fixed ); ?> />
							<?php if ( $url_fixed ) : ?>
								<p class="description"><?php esc_html_e( 'Set by REVIEWBRIDGE_PUSH_URL in wp-config.php.', 'reviewbridge-push' ); ?></p>
							<?php endif; ?>
						</td>
					</tr>
					<tr>
						<th scope="row"><label for="reviewbridge-push-secret"><?php esc_html_e( 'Shared secret', 'reviewbridge-push' ); ?></label></th>
						<td>
							<input type="password" class="regular-text" id="reviewbridge-push-secret" name="<?php echo esc_attr( self::OPTION_SECRET ); ?>" value="" autocomplete="new-password" placeholder="<?php echo $has_secret ? esc_attr__( '(saved; leave empty to keep)', 'reviewbridge-push' ) : ''; ?>" <?php disabled( $secret_fixed ); ?> />
							<p class="description">
								<?php
								echo $secret_fixed
									? esc_html__( 'Set by REVIEWBRIDGE_PUSH_SECRET in wp-config.php.', 'reviewbridge-push' )
									: esc_html__( 'At least 32 characters, the same as the bot\'s PUSH_SECRET.', 'reviewbridge-push' );
								?>
							</p>
						</td>
					</tr>
				</table>
				<?php submit_button(); ?>
			</form>
		</div>
		<?php
	}

	public static function uninstall() {
		delete_option( self::OPTION_URL );
		delete_option( self::OPTION_SECRET );
	}
}

Reviewbridge_Push::init();
register_uninstall_hook( __FILE__, array( 'Reviewbridge_Push', 'uninstall' ) );
