<?php
/**
 * Customer tokens for the loyalty backend's storefront routes (Authorization: Bearer <token>).
 *
 * Plain PHP without WordPress, so it is tested on its own (tests/js/woo-token.test.js signs here
 * and verifies with js/platforms/customer-token.js). The format is that file's:
 * base64url(JSON {"shop","customer","exp"}) "." base64url(HMAC-SHA256(secret, first part)),
 * exp in epoch seconds. The MAC covers the encoded payload as sent, so PHP's JSON escaping
 * never has to match JavaScript's.
 *
 * @package LoyaltyRewards
 */

if ( ! defined( 'LOYALTY_REWARDS_MAX_TOKEN_LIFETIME' ) ) {
	// The backend refuses longer-lived tokens: a token printed in a page must not outlive the hour.
	define( 'LOYALTY_REWARDS_MAX_TOKEN_LIFETIME', 3600 );
}

if ( ! function_exists( 'loyalty_rewards_base64url' ) ) {
	/**
	 * URL-safe base64 without padding (RFC 4648 section 5).
	 *
	 * @param string $bytes Raw bytes.
	 * @return string
	 */
	function loyalty_rewards_base64url( $bytes ) {
		return rtrim( strtr( base64_encode( $bytes ), '+/', '-_' ), '=' );
	}
}

if ( ! function_exists( 'loyalty_rewards_sign_token' ) ) {
	/**
	 * A token vouching that `$customer` of `$shop` is logged in, valid until `$expires_at`.
	 *
	 * @param string $shop       The shop id in the loyalty backend.
	 * @param string $customer   The WooCommerce customer (WordPress user) id, as a string.
	 * @param int    $expires_at Expiry, epoch seconds; at most one hour from `$now`.
	 * @param string $secret     The shop's token secret (at least 16 characters).
	 * @param int    $now        The current time, epoch seconds (tests pass it).
	 * @return string
	 * @throws InvalidArgumentException When an argument is unusable; the message names it.
	 */
	function loyalty_rewards_sign_token( $shop, $customer, $expires_at, $secret, $now = null ) {
		$now = null === $now ? time() : (int) $now;
		if ( ! is_string( $secret ) || strlen( $secret ) < 16 ) {
			throw new InvalidArgumentException( 'secret: the token secret must be at least 16 characters' );
		}
		if ( ! is_string( $shop ) || '' === $shop ) {
			throw new InvalidArgumentException( 'shop: expected a non-empty string' );
		}
		$customer = (string) $customer;
		if ( '' === $customer || '0' === $customer ) {
			throw new InvalidArgumentException( 'customer: expected a logged-in customer id' );
		}
		if ( ! is_int( $expires_at ) || $expires_at <= $now ) {
			throw new InvalidArgumentException( 'expires_at: expected epoch seconds in the future' );
		}
		if ( $expires_at - $now > LOYALTY_REWARDS_MAX_TOKEN_LIFETIME ) {
			throw new InvalidArgumentException( 'expires_at: more than one hour ahead' );
		}
		$json = json_encode(
			array(
				'shop'     => $shop,
				'customer' => $customer,
				'exp'      => $expires_at,
			),
			JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE
		);
		if ( false === $json ) {
			throw new InvalidArgumentException( 'shop/customer: not valid UTF-8' );
		}
		$payload = loyalty_rewards_base64url( $json );
		return $payload . '.' . loyalty_rewards_base64url( hash_hmac( 'sha256', $payload, $secret, true ) );
	}
}
