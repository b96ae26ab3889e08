<?php
/**
 * Plugin Name:       Loyalty Rewards
 * Description:       Shows customers their loyalty points and rewards in My Account and the points a cart will earn, from a loyalty-engine backend.
 * Version:           0.1.0
 * Requires at least: 6.0
 * Requires PHP:      7.4
 * Requires Plugins:  woocommerce
 * License:           MIT
 * Text Domain:       loyalty-rewards
 *
 * The browser never holds a secret: this plugin signs a short-lived token for the logged-in
 * customer server-side (includes/token.php) and the backend's /storefront routes accept it.
 *
 * @package LoyaltyRewards
 */

defined( 'ABSPATH' ) || exit;

require_once __DIR__ . '/includes/token.php';
require_once __DIR__ . '/includes/cart.php';

const LOYALTY_REWARDS_ENDPOINT  = 'rewards';
const LOYALTY_REWARDS_TOKEN_TTL = 900; // 15 minutes; the page refreshes it through admin-ajax.

/**
 * One of the plugin's options: backend_url, shop_id, token_secret, widget_url.
 *
 * @param string $name Option name without the prefix.
 * @return string
 */
function loyalty_rewards_option( $name ) {
	return (string) get_option( 'loyalty_rewards_' . $name, '' );
}

/**
 * A token for the logged-in customer, or '' when there is none or the plugin is not set up.
 *
 * @return string
 */
function loyalty_rewards_customer_token() {
	$user_id = get_current_user_id();
	$shop    = loyalty_rewards_option( 'shop_id' );
	$secret  = loyalty_rewards_option( 'token_secret' );
	if ( ! $user_id || '' === $shop || '' === $secret ) {
		return '';
	}
	try {
		return loyalty_rewards_sign_token( $shop, (string) $user_id, time() + LOYALTY_REWARDS_TOKEN_TTL, $secret );
	} catch ( InvalidArgumentException $e ) {
		return '';
	}
}

/* ---------- Settings (Settings > Loyalty Rewards) ---------- */

add_action(
	'admin_menu',
	function () {
		add_options_page(
			__( 'Loyalty Rewards', 'loyalty-rewards' ),
			__( 'Loyalty Rewards', 'loyalty-rewards' ),
			'manage_options',
			'loyalty-rewards',
			'loyalty_rewards_settings_page'
		);
	}
);

add_action(
	'admin_init',
	function () {
		register_setting(
			'loyalty_rewards',
			'loyalty_rewards_backend_url',
			array(
				'type'              => 'string',
				'sanitize_callback' => 'loyalty_rewards_sanitize_url',
				'default'           => '',
			)
		);
		register_setting(
			'loyalty_rewards',
			'loyalty_rewards_shop_id',
			array(
				'type'              => 'string',
				'sanitize_callback' => 'sanitize_text_field',
				'default'           => '',
			)
		);
		register_setting(
			'loyalty_rewards',
			'loyalty_rewards_token_secret',
			array(
				'type'              => 'string',
				'sanitize_callback' => 'loyalty_rewards_sanitize_secret',
				'default'           => '',
			)
		);
		register_setting(
			'loyalty_rewards',
			'loyalty_rewards_widget_url',
			array(
				'type'              => 'string',
				'sanitize_callback' => 'loyalty_rewards_sanitize_url',
				'default'           => '',
			)
		);
		add_settings_section( 'loyalty_rewards_main', __( 'Backend', 'loyalty-rewards' ), '__return_false', 'loyalty-rewards' );
		$fields = array(
			'backend_url'  => array( __( 'Backend URL', 'loyalty-rewards' ), 'url', 'https://loyalty.example.com' ),
			'shop_id'      => array( __( 'Shop id', 'loyalty-rewards' ), 'text', '' ),
			'token_secret' => array( __( 'Token secret', 'loyalty-rewards' ), 'password', __( 'Leave empty to keep the saved secret', 'loyalty-rewards' ) ),
			'widget_url'   => array( __( 'Widget script URL (optional)', 'loyalty-rewards' ), 'url', __( 'Default: {backend}/widget/loyalty-widget.js', 'loyalty-rewards' ) ),
		);
		foreach ( $fields as $name => $field ) {
			add_settings_field(
				'loyalty_rewards_' . $name,
				$field[0],
				function () use ( $name, $field ) {
					// The secret is never printed back into the page.
					$value = 'password' === $field[1] ? '' : loyalty_rewards_option( $name );
					printf(
						'<input type="%s" class="regular-text" name="%s" value="%s" placeholder="%s" autocomplete="off" />',
						esc_attr( $field[1] ),
						esc_attr( 'loyalty_rewards_' . $name ),
						esc_attr( $value ),
						esc_attr( $field[2] )
					);
				},
				'loyalty-rewards',
				'loyalty_rewards_main'
			);
		}
	}
);

/**
 * An https URL without a trailing slash (http only for localhost, for development).
 *
 * @param string $value Submitted value.
 * @return string
 */
function loyalty_rewards_sanitize_url( $value ) {
	$url  = untrailingslashit( esc_url_raw( trim( (string) $value ), array( 'https', 'http' ) ) );
	$host = (string) wp_parse_url( $url, PHP_URL_HOST );
	if ( '' !== $url && 0 !== strpos( $url, 'https://' ) && ! in_array( $host, array( 'localhost', '127.0.0.1' ), true ) ) {
		add_settings_error( 'loyalty_rewards', 'loyalty_rewards_url', __( 'The backend URL must use https.', 'loyalty-rewards' ) );
		return loyalty_rewards_option( 'backend_url' );
	}
	return $url;
}

/**
 * The token secret: kept when the field is left empty, refused when shorter than 16 characters.
 *
 * @param string $value Submitted value.
 * @return string
 */
function loyalty_rewards_sanitize_secret( $value ) {
	$value = trim( (string) $value );
	if ( '' === $value ) {
		return loyalty_rewards_option( 'token_secret' );
	}
	if ( strlen( $value ) < 16 ) {
		add_settings_error( 'loyalty_rewards', 'loyalty_rewards_secret', __( 'The token secret must be at least 16 characters.', 'loyalty-rewards' ) );
		return loyalty_rewards_option( 'token_secret' );
	}
	return $value;
}

/**
 * Settings > Loyalty Rewards.
 */
function loyalty_rewards_settings_page() {
	if ( ! current_user_can( 'manage_options' ) ) {
		return;
	}
	echo '<div class="wrap"><h1>' . esc_html__( 'Loyalty Rewards', 'loyalty-rewards' ) . '</h1><form method="post" action="options.php">';
	settings_fields( 'loyalty_rewards' );
	do_settings_sections( 'loyalty-rewards' );
	submit_button();
	echo '</form></div>';
}

/* ---------- The widgets' script ---------- */

/**
 * Prints the storefront bundle once per page: <loyalty-balance>, <loyalty-account> and
 * <loyalty-referral> in one classic script (an IIFE, not a module: printed twice it would run
 * twice), deferred so the elements upgrade once the page is parsed. It is the backend's
 * /widget/loyalty-widget.js unless the widget_url option names another copy. Printed with
 * the content: works in classic and block themes alike.
 *
 * @param string $backend The backend URL.
 */
function loyalty_rewards_widget_script( $backend ) {
	static $printed = false;
	if ( $printed ) {
		return;
	}
	$printed = true;
	$widget  = loyalty_rewards_option( 'widget_url' );
	$widget  = '' !== $widget ? $widget : $backend . '/widget/loyalty-widget.js';
	echo '<script src="' . esc_url( $widget ) . '" defer></script>'; // phpcs:ignore WordPress.WP.EnqueuedResources.NonEnqueuedScript
}

/* ---------- My Account > Rewards ---------- */

add_action(
	'init',
	function () {
		add_rewrite_endpoint( LOYALTY_REWARDS_ENDPOINT, EP_ROOT | EP_PAGES );
	}
);

register_activation_hook(
	__FILE__,
	function () {
		add_rewrite_endpoint( LOYALTY_REWARDS_ENDPOINT, EP_ROOT | EP_PAGES );
		flush_rewrite_rules();
	}
);
register_deactivation_hook( __FILE__, 'flush_rewrite_rules' );

add_filter(
	'woocommerce_account_menu_items',
	function ( $items ) {
		// Before "Log out", wherever the theme put it.
		$logout = isset( $items['customer-logout'] ) ? array( 'customer-logout' => $items['customer-logout'] ) : array();
		unset( $items['customer-logout'] );
		$items[ LOYALTY_REWARDS_ENDPOINT ] = __( 'Rewards', 'loyalty-rewards' );
		return $items + $logout;
	}
);

add_filter(
	'woocommerce_endpoint_' . LOYALTY_REWARDS_ENDPOINT . '_title',
	function () {
		return __( 'Rewards', 'loyalty-rewards' );
	}
);

add_action( 'woocommerce_account_' . LOYALTY_REWARDS_ENDPOINT . '_endpoint', 'loyalty_rewards_account_page' );

/**
 * Where a widget gets a fresh token when the printed one has expired (the wp_ajax action
 * below; js/widget/api.js tokenRefresher reads these attributes).
 */
function loyalty_rewards_token_refresh_attrs() {
	return sprintf(
		'data-token-url="%s" data-token-nonce="%s"',
		esc_url( admin_url( 'admin-ajax.php?action=loyalty_rewards_token' ) ),
		esc_attr( wp_create_nonce( 'loyalty_rewards_token' ) )
	);
}

/**
 * The Rewards tab: the backend's widgets, given the storefront base URL and the customer's token.
 */
function loyalty_rewards_account_page() {
	$backend = loyalty_rewards_option( 'backend_url' );
	$token   = loyalty_rewards_customer_token();
	if ( '' === $backend || '' === $token ) {
		echo '<p>' . esc_html__( 'Rewards are not available right now.', 'loyalty-rewards' ) . '</p>';
		return;
	}
	$attrs = sprintf(
		'base="%s" customer-token="%s" customer="%s" %s',
		esc_url( $backend . '/storefront' ),
		esc_attr( $token ),
		esc_attr( (string) get_current_user_id() ),
		loyalty_rewards_token_refresh_attrs()
	);
	echo '<loyalty-balance ' . $attrs . '></loyalty-balance>'; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- every attribute escaped above.
	echo '<loyalty-account ' . $attrs . '></loyalty-account>'; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- every attribute escaped above.
	loyalty_rewards_widget_script( $backend );
}

/* ---------- Referral links (?ref=CODE) ---------- */

/**
 * On every page: <loyalty-referral> (js/widget/referral.js) remembers a referral link's
 * ?ref= code in the browser for 30 days; for a logged-in customer it sends it once to the
 * backend's /storefront/referral/claim with the customer's token, which credits the referral.
 */
function loyalty_rewards_referral_tag() {
	$backend = loyalty_rewards_option( 'backend_url' );
	if ( '' === $backend ) {
		return;
	}
	$token = loyalty_rewards_customer_token();
	$attrs = '' === $token ? '' : sprintf( ' base="%s" customer-token="%s" %s', esc_url( $backend . '/storefront' ), esc_attr( $token ), loyalty_rewards_token_refresh_attrs() );
	echo '<loyalty-referral hidden' . $attrs . '></loyalty-referral>'; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- every attribute escaped above.
	loyalty_rewards_widget_script( $backend );
}
add_action( 'wp_footer', 'loyalty_rewards_referral_tag' );

// A fresh token for a page left open past the token's 15 minutes (logged-in customers only).
add_action(
	'wp_ajax_loyalty_rewards_token',
	function () {
		check_ajax_referer( 'loyalty_rewards_token' );
		$token = loyalty_rewards_customer_token();
		if ( '' === $token ) {
			wp_send_json_error( array( 'code' => 'not_configured' ), 503 );
		}
		nocache_headers();
		wp_send_json_success( array( 'token' => $token ) );
	}
);

/* ---------- "You will earn N points" on cart and checkout ---------- */

/**
 * Points the current cart earns, from the backend's quote route; null when unknown
 * (guest, empty cart, backend unreachable). Cached a minute per customer and cart.
 *
 * @return int|null
 */
function loyalty_rewards_cart_points() {
	$backend = loyalty_rewards_option( 'backend_url' );
	if ( '' === $backend || ! is_user_logged_in() || ! function_exists( 'WC' ) || ! WC()->cart || WC()->cart->is_empty() ) {
		return null;
	}
	$lines = array();
	foreach ( WC()->cart->get_cart() as $key => $item ) {
		$product = isset( $item['data'] ) ? $item['data'] : null;
		$lines[] = array(
			'id'         => $key,
			'product_id' => $item['product_id'],
			'sku'        => $product ? $product->get_sku() : '',
			'quantity'   => $item['quantity'],
			'subtotal'   => $item['line_subtotal'],
			'total'      => $item['line_total'],
		);
	}
	$totals = array(
		'shipping'     => WC()->cart->get_shipping_total(),
		'tax'          => WC()->cart->get_total_tax(),
		'coupon_codes' => WC()->cart->get_applied_coupons(),
	);
	$cart  = loyalty_rewards_cart_body( $lines, $totals, get_woocommerce_currency(), wc_get_price_decimals(), gmdate( 'Y-m-d\TH:i:s\Z' ) );
	$key   = 'loyalty_rewards_quote_' . md5( get_current_user_id() . '|' . wp_json_encode( array( $cart['lines'], $cart['coupon_codes'], $cart['shipping'] ) ) );
	$known = get_transient( $key );
	if ( false !== $known ) {
		return (int) $known;
	}
	$token = loyalty_rewards_customer_token();
	if ( '' === $token ) {
		return null;
	}
	$response = wp_remote_post(
		$backend . '/storefront/quote',
		array(
			'timeout' => 3, // Never hold the cart page up for long: no line is better than a slow page.
			'headers' => array(
				'Authorization' => 'Bearer ' . $token,
				'Content-Type'  => 'application/json',
				'Accept'        => 'application/json',
			),
			'body'    => wp_json_encode( array( 'cart' => $cart ) ),
		)
	);
	if ( is_wp_error( $response ) || 200 !== (int) wp_remote_retrieve_response_code( $response ) ) {
		return null;
	}
	$data = json_decode( wp_remote_retrieve_body( $response ), true );
	if ( ! is_array( $data ) || ! isset( $data['points'] ) || ! is_int( $data['points'] ) ) {
		return null;
	}
	set_transient( $key, $data['points'], MINUTE_IN_SECONDS );
	return $data['points'];
}

/**
 * A row in the cart totals and the checkout review tables.
 */
function loyalty_rewards_points_row() {
	$points = loyalty_rewards_cart_points();
	if ( null === $points || $points <= 0 ) {
		return;
	}
	printf(
		'<tr class="loyalty-rewards-points"><th>%s</th><td>%s</td></tr>',
		esc_html__( 'Points', 'loyalty-rewards' ),
		esc_html(
			sprintf(
				/* translators: %s: number of points */
				_n( 'You will earn %s point', 'You will earn %s points', $points, 'loyalty-rewards' ),
				number_format_i18n( $points )
			)
		)
	);
}
add_action( 'woocommerce_cart_totals_after_order_total', 'loyalty_rewards_points_row' );
add_action( 'woocommerce_review_order_after_order_total', 'loyalty_rewards_points_row' );
