// Types for loyalty-engine/widget.
import type { LitElement } from 'lit';

// The same shapes as the package's: one definition, no drift.
import type { AccountView, Quote, Program, AccountState, Cart } from '../index.js';
export type { AccountView, Quote };

export interface BrowserEngine {
  program: Program;
  quote(state: AccountState | string | null, cart: Cart): Quote;
  view(state: AccountState | string): AccountView;
  free(): void;
}

/** Loads pkg/ (the checkout module: the server's rules, quotes and views) in the browser and compiles the program. */
export function createBrowserEngine(program: Program | string, options?: { wasmUrl?: string | URL }): Promise<BrowserEngine>;

export class ApiError extends Error {
  status: number;
  code: string;
  path: string;
  body: unknown;
}

export function createClient(options?: { base?: string; token?: string; fetch?: typeof fetch }): {
  call(method: string, path: string, body?: unknown): Promise<any>;
  [route: string]: (...args: any[]) => Promise<any>;
};

/** <loyalty-admin token base by>: customer lookup, grant form, coupons, history, KPIs, templates. */
export class LoyaltyAdmin extends LitElement {
  token: string;
  base: string;
  by: string;
  tab: 'customers' | 'dashboard' | 'templates';
}

/**
 * The customer-scoped storefront routes (App Proxy base or `/storefront` with a customer token).
 * With `refreshToken`, a 401 gets one new token (shared by concurrent calls) and one retry.
 */
export function createStorefrontClient(options: { base: string; customerToken?: string; refreshToken?: () => Promise<string>; fetch?: typeof fetch }): {
  [route: string]: (...args: any[]) => Promise<any>;
};

/**
 * `refreshToken` from an element's `data-token-url` / `data-token-nonce` (the WordPress
 * plugin's admin-ajax action); sets the element's `customer-token`. Undefined without a URL.
 */
export function tokenRefresher(el: Element, options?: { fetch?: typeof fetch }): (() => Promise<string>) | undefined;

/**
 * <loyalty-balance base customer-token>: balance, pending, tier, progress to the next reward,
 * coupons, next expiry, redeem, cart preview. `customer-token` is the short-lived token the
 * shop signs for its logged-in customer: the admin token never reaches a storefront.
 */
export class LoyaltyBalance extends LitElement {
  base: string;
  customerToken: string;
  redeem(reward: string): Promise<object | null>;
  account?: AccountView;
  program?: object;
  cart?: object;
  state?: object | null;
  quote(cart: object, state?: object | null): Promise<Quote>;
}

/**
 * <loyalty-account base customer-token locale follow-url shop-url>: the customer's own page over
 * the customer-scoped storefront routes (balance, coupons at #discounts, catalogue, tier, history,
 * preferences, birthday, referral). `customer-token` is the short-lived customer token, as
 * <loyalty-balance> takes it, never an admin one. Fires `redeemed` (detail: the redeem answer).
 */
export class LoyaltyAccount extends LitElement {
  base: string;
  customerToken: string;
  locale: '' | 'en' | 'nb' | 'sv' | 'es' | string;
  followUrl: string;
  shopUrl: string;
  load(): Promise<void>;
  redeem(reward: { id: string; points?: number }): Promise<void>;
}

/**
 * <loyalty-referral base customer-token>: no UI. Remembers a referral link's `?ref=` code for
 * 30 days (an earlier one is kept); with `base` (a logged-in customer) claims it once with
 * `POST {base}/referral/claim` and forgets it. Fires `referral` (detail: the answer or the error).
 */
export class LoyaltyReferral extends LitElement {
  base: string;
  customerToken: string;
  claim(): Promise<object | null>;
}
/** Keeps the page address's `?ref=` code unless one is kept; returns the kept code or null. */
export function rememberReferral(options?: { url?: string; now?: number; days?: number }): string | null;
/** Sends the kept code once through a storefront client and forgets it; null when none is kept. */
export function claimReferral(client: { claimReferral(code: string): Promise<any> }, options?: { now?: number }): Promise<any>;

declare global {
  interface HTMLElementTagNameMap {
    'loyalty-admin': LoyaltyAdmin;
    'loyalty-balance': LoyaltyBalance;
    'loyalty-account': LoyaltyAccount;
    'loyalty-referral': LoyaltyReferral;
  }
}
