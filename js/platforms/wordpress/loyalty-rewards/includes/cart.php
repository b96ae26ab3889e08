<?php
/**
 * The cart as the loyalty engine quotes it (js/index.d.ts `Cart`), built the way the backend's
 * WooCommerce adapter reads an order (js/platforms/woocommerce.js), so "you will earn N points"
 * matches what the order then earns: line amounts without tax, unit price rounded up with the
 * rounding moved into the line's discount, no categories (the order webhook carries none).
 *
 * Plain PHP without WordPress, tested by tests/js/woo-token.test.js.
 *
 * @package LoyaltyRewards
 */

if ( ! function_exists( 'loyalty_rewards_units' ) ) {
	/**
	 * Minor units of an amount. WooCommerce keeps cart amounts as floats: they are rounded once
	 * to the store's decimals here and only integers are used after that.
	 *
	 * @param float|int|string $amount Amount in major units.
	 * @param int              $dp     Store decimals.
	 * @return int
	 */
	function loyalty_rewards_units( $amount, $dp ) {
		if ( is_string( $amount ) && preg_match( '/^(-?)(\d+)(?:\.(\d+))?$/', $amount, $m ) ) {
			$frac = isset( $m[3] ) ? $m[3] : '';
			if ( strlen( $frac ) <= $dp ) {
				$units = (int) ( $m[2] . str_pad( $frac, $dp, '0' ) );
				return '-' === $m[1] ? -$units : $units;
			}
		}
		return (int) round( (float) $amount * pow( 10, $dp ) );
	}
}

if ( ! function_exists( 'loyalty_rewards_amount' ) ) {
	/**
	 * Minor units back to a decimal string with `$dp` decimals.
	 *
	 * @param int $units Minor units.
	 * @param int $dp    Decimals.
	 * @return string
	 */
	function loyalty_rewards_amount( $units, $dp ) {
		$sign   = $units < 0 ? '-' : '';
		$digits = str_pad( (string) abs( $units ), $dp + 1, '0', STR_PAD_LEFT );
		if ( 0 === $dp ) {
			return $sign . $digits;
		}
		return $sign . substr( $digits, 0, -$dp ) . '.' . substr( $digits, -$dp );
	}
}

if ( ! function_exists( 'loyalty_rewards_cart_body' ) ) {
	/**
	 * The quote request's cart.
	 *
	 * @param array  $lines    Each: id, product_id, sku, quantity, subtotal (before coupons), total (after), without tax.
	 * @param array  $totals   shipping, tax, coupon_codes.
	 * @param string $currency ISO 4217 code.
	 * @param int    $dp       Store decimals.
	 * @param string $at       ISO 8601 instant of the quote.
	 * @return array
	 */
	function loyalty_rewards_cart_body( array $lines, array $totals, $currency, $dp, $at ) {
		$out = array();
		foreach ( $lines as $line ) {
			$qty      = max( 1, (int) $line['quantity'] );
			$subtotal = max( 0, loyalty_rewards_units( $line['subtotal'], $dp ) );
			$total    = loyalty_rewards_units( $line['total'], $dp );
			$unit     = intdiv( $subtotal + $qty - 1, $qty );
			$extra    = $unit * $qty - $subtotal;
			$sku      = isset( $line['sku'] ) ? (string) $line['sku'] : '';
			$out[]    = array(
				'id'         => (string) $line['id'],
				'sku'        => '' === $sku ? null : $sku,
				'product_id' => empty( $line['product_id'] ) ? null : (string) $line['product_id'],
				'categories' => array(),
				'quantity'   => $qty,
				'unit_price' => loyalty_rewards_amount( $unit, $dp ),
				'discount'   => loyalty_rewards_amount( $subtotal - $total + $extra, $dp ),
			);
		}
		return array(
			'currency'       => (string) $currency,
			'lines'          => $out,
			'shipping'       => loyalty_rewards_amount( loyalty_rewards_units( isset( $totals['shipping'] ) ? $totals['shipping'] : 0, $dp ), $dp ),
			'tax'            => loyalty_rewards_amount( loyalty_rewards_units( isset( $totals['tax'] ) ? $totals['tax'] : 0, $dp ), $dp ),
			'taxes_included' => false,
			'coupon_codes'   => array_values( array_map( 'strval', isset( $totals['coupon_codes'] ) ? $totals['coupon_codes'] : array() ) ),
			'at'             => (string) $at,
		);
	}
}
