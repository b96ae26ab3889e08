<?php
/**
 * The few WordPress and WooCommerce functions the loyalty-rewards plugin calls, so php-cli can
 * load the plugin and run its hooks in tests/js/woo-token.test.js. Hooks are recorded and run
 * by name; options, the user and the cart come from $GLOBALS['standin']; wp_remote_post makes a
 * real HTTP request (PHP's stream wrapper) so the backend side is a real server.
 *
 * Behaviour follows the WordPress functions' documented contracts, simplified to what the
 * plugin needs: escaping is htmlspecialchars, transients live for the process.
 */

define( 'ABSPATH', __DIR__ . '/' );
define( 'EP_ROOT', 64 );
define( 'EP_PAGES', 4096 );
define( 'MINUTE_IN_SECONDS', 60 );

$GLOBALS['standin'] = array(
	'hooks'      => array(),
	'options'    => array(),
	'user'       => 0,
	'cart'       => null,
	'transients' => array(),
	'endpoints'  => array(),
	'requests'   => array(),
);

function add_action( $hook, $callback, $priority = 10, $args = 1 ) {
	$GLOBALS['standin']['hooks'][ $hook ][] = $callback;
	return true;
}
function add_filter( $hook, $callback, $priority = 10, $args = 1 ) {
	return add_action( $hook, $callback, $priority, $args );
}
function do_action( $hook, ...$args ) {
	foreach ( isset( $GLOBALS['standin']['hooks'][ $hook ] ) ? $GLOBALS['standin']['hooks'][ $hook ] : array() as $cb ) {
		call_user_func_array( $cb, $args );
	}
}
function apply_filters( $hook, $value, ...$args ) {
	foreach ( isset( $GLOBALS['standin']['hooks'][ $hook ] ) ? $GLOBALS['standin']['hooks'][ $hook ] : array() as $cb ) {
		$value = call_user_func_array( $cb, array_merge( array( $value ), $args ) );
	}
	return $value;
}
function register_activation_hook( $file, $cb ) {}
function register_deactivation_hook( $file, $cb ) {}
function add_rewrite_endpoint( $name, $places ) {
	$GLOBALS['standin']['endpoints'][ $name ] = $places;
}
function flush_rewrite_rules() {}

function __( $text, $domain = 'default' ) {
	return $text;
}
function esc_html__( $text, $domain = 'default' ) {
	return esc_html( $text );
}
function _n( $single, $plural, $number, $domain = 'default' ) {
	return 1 === (int) $number ? $single : $plural;
}
function number_format_i18n( $number, $decimals = 0 ) {
	return number_format( $number, $decimals );
}
function esc_html( $text ) {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}
function esc_attr( $text ) {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}
function esc_url( $url ) {
	return htmlspecialchars( (string) $url, ENT_QUOTES, 'UTF-8' );
}
function admin_url( $path = '' ) {
	$site = isset( $GLOBALS['standin']['site'] ) ? $GLOBALS['standin']['site'] : 'https://store.example';
	return $site . '/wp-admin/' . $path;
}
// Bound to the user, as WordPress's nonces are (not to time or session here).
function wp_create_nonce( $action ) {
	return substr( hash( 'sha256', 'nonce|' . $action . '|' . get_current_user_id() ), 0, 10 );
}

// admin-ajax.php: a handler's answer ends the request; php-cli prints it as JSON
// {status, body} for the test's web server to send.
function standin_exit( $status, $body ) {
	echo json_encode(
		array(
			'status'  => $status,
			'body'    => $body,
			'nocache' => ! empty( $GLOBALS['standin']['nocache'] ),
		)
	);
	exit( 0 );
}
function check_ajax_referer( $action = -1, $query_arg = false, $stop = true ) {
	$nonce = '';
	foreach ( array( $query_arg, '_ajax_nonce', '_wpnonce' ) as $arg ) {
		if ( $arg && isset( $_REQUEST[ $arg ] ) ) {
			$nonce = (string) $_REQUEST[ $arg ];
			break;
		}
	}
	$ok = '' !== $nonce && hash_equals( wp_create_nonce( $action ), $nonce );
	if ( ! $ok && $stop ) {
		standin_exit( 403, '-1' ); // wp_die( -1, 403 ) in an ajax request.
	}
	return $ok ? 1 : false;
}
function nocache_headers() {
	$GLOBALS['standin']['nocache'] = true;
}
function wp_send_json( $response, $status = null ) {
	standin_exit( null === $status ? 200 : $status, wp_json_encode( $response ) );
}
function wp_send_json_success( $data = null, $status = null ) {
	wp_send_json( array( 'success' => true, 'data' => $data ), $status );
}
function wp_send_json_error( $data = null, $status = null ) {
	wp_send_json( array( 'success' => false, 'data' => $data ), $status );
}

function get_option( $name, $default = false ) {
	return array_key_exists( $name, $GLOBALS['standin']['options'] ) ? $GLOBALS['standin']['options'][ $name ] : $default;
}
function get_current_user_id() {
	return $GLOBALS['standin']['user'];
}
function is_user_logged_in() {
	return $GLOBALS['standin']['user'] > 0;
}
function get_transient( $key ) {
	return array_key_exists( $key, $GLOBALS['standin']['transients'] ) ? $GLOBALS['standin']['transients'][ $key ] : false;
}
function set_transient( $key, $value, $ttl ) {
	$GLOBALS['standin']['transients'][ $key ] = $value;
	return true;
}
function wp_json_encode( $data ) {
	return json_encode( $data );
}

function is_wp_error( $thing ) {
	return $thing instanceof Standin_WP_Error;
}
class Standin_WP_Error {
	public $message;
	public function __construct( $message ) {
		$this->message = $message;
	}
}
function wp_remote_post( $url, $args ) {
	$headers = array();
	foreach ( $args['headers'] as $name => $value ) {
		$headers[] = $name . ': ' . $value;
	}
	$context = stream_context_create(
		array(
			'http' => array(
				'method'        => 'POST',
				'header'        => implode( "\r\n", $headers ),
				'content'       => $args['body'],
				'timeout'       => $args['timeout'],
				'ignore_errors' => true,
			),
		)
	);
	$GLOBALS['standin']['requests'][] = $url;
	$body = @file_get_contents( $url, false, $context ); // phpcs:ignore
	if ( false === $body ) {
		return new Standin_WP_Error( 'request failed' );
	}
	preg_match( '#^HTTP/\S+ (\d+)#', $http_response_header[0], $m );
	return array(
		'code' => (int) $m[1],
		'body' => $body,
	);
}
function wp_remote_retrieve_response_code( $response ) {
	return $response['code'];
}
function wp_remote_retrieve_body( $response ) {
	return $response['body'];
}

// WooCommerce: WC()->cart with the cart of $GLOBALS['standin']['cart'].
class Standin_Product {
	private $sku;
	public function __construct( $sku ) {
		$this->sku = $sku;
	}
	public function get_sku() {
		return $this->sku;
	}
}
class Standin_Cart {
	private $c;
	public function __construct( $c ) {
		$this->c = $c;
	}
	public function is_empty() {
		return empty( $this->c['items'] );
	}
	public function get_cart() {
		$out = array();
		foreach ( $this->c['items'] as $key => $item ) {
			$item['data'] = new Standin_Product( $item['sku'] );
			$out[ $key ]  = $item;
		}
		return $out;
	}
	public function get_shipping_total() {
		return $this->c['shipping'];
	}
	public function get_total_tax() {
		return $this->c['tax'];
	}
	public function get_applied_coupons() {
		return $this->c['coupons'];
	}
}
function WC() { // phpcs:ignore
	$cart = $GLOBALS['standin']['cart'];
	return (object) array( 'cart' => null === $cart ? null : new Standin_Cart( $cart ) );
}
function get_woocommerce_currency() {
	return 'EUR';
}
function wc_get_price_decimals() {
	return 2;
}
