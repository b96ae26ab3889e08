// Referral links on the storefront: a visitor who arrives at `https://shop/?ref=CODE` (the
// link GET referral hands a customer) has the code remembered in this browser for 30 days
// (localStorage, first-party; an earlier code is kept, not replaced). Once a page shows the
// widget for a logged-in customer, the code is sent once to `POST {base}/referral/claim` and
// forgotten whatever the answer: the backend credits the referral or says why not, and a
// refusal is final. Only a request that got no answer at all (offline) is tried again later.
// The code is not a secret: it names the referrer and carries the shop's MAC, which only the
// backend checks.
//   <loyalty-referral>                     remembers ?ref= (every page, for guests too)
//   <loyalty-referral base customer-token> also claims it for that customer
// <loyalty-balance> does the same on its own (js/widget/balance.js).
import { LitElement } from 'lit';
import { createStorefrontClient, tokenChanged, tokenRefresher } from './api.js';

export const REFERRAL_KEY = 'loyalty-referral';
export const REFERRAL_DAYS = 30;
// The shape storefront.js's referralCode() makes: base64url(customer) "." 16-char MAC.
const CODE = /^[A-Za-z0-9_-]{1,400}\.[A-Za-z0-9_-]{16}$/;
const DAY = 86_400_000;

// localStorage can be missing or throw (storage disabled, some private modes): then the
// link is simply not remembered.
function storage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/** The remembered code, or null (an expired or unreadable entry is dropped). */
export function storedReferral({ now = Date.now() } = {}) {
  const s = storage();
  try {
    const kept = JSON.parse(s?.getItem(REFERRAL_KEY) ?? 'null');
    if (kept && CODE.test(kept.code) && kept.expires > now) return kept.code;
    s?.removeItem(REFERRAL_KEY);
  } catch {
    s?.removeItem?.(REFERRAL_KEY);
  }
  return null;
}

/**
 * Remembers the page address's `?ref=` code unless one is already kept; returns the kept code.
 * @example rememberReferral() // on https://shop/?ref=NDI.Hn3x1Qk0aZ2cAbCd -> 'NDI.Hn3x1Qk0aZ2cAbCd'
 */
export function rememberReferral({ url = globalThis.location?.href, now = Date.now(), days = REFERRAL_DAYS } = {}) {
  const kept = storedReferral({ now });
  if (kept || !url) return kept;
  let code;
  try {
    code = new URL(url).searchParams.get('ref');
  } catch {
    return null;
  }
  if (!code || !CODE.test(code)) return null;
  try {
    storage()?.setItem(REFERRAL_KEY, JSON.stringify({ code, expires: now + days * DAY }));
  } catch {
    return null; // storage full or refused
  }
  return storedReferral({ now });
}

/**
 * Claims the remembered code for the customer `client` is vouched for (createStorefrontClient),
 * once: the code is taken out of storage before the request, so two widgets on one page send
 * it once. Resolves to the backend's answer ({credited, reason?}), the ApiError of a refusal,
 * or null when there was nothing to claim.
 */
export async function claimReferral(client, { now = Date.now() } = {}) {
  const code = storedReferral({ now });
  if (!code) return null;
  const s = storage();
  const kept = s.getItem(REFERRAL_KEY);
  s.removeItem(REFERRAL_KEY);
  try {
    return await client.claimReferral(code);
  } catch (err) {
    // No answer (network): put it back for the next page, unless a newer visit stored one.
    if (err?.status === undefined && !s.getItem(REFERRAL_KEY)) s.setItem(REFERRAL_KEY, kept);
    return err;
  }
}

/** <loyalty-referral base customer-token>: no UI; remembers `?ref=`, and claims it when `base` is set. */
export class LoyaltyReferral extends LitElement {
  static properties = {
    base: { type: String },
    customerToken: { type: String, attribute: 'customer-token' },
  };

  constructor() {
    super();
    this.base = '';
    this.customerToken = '';
  }

  connectedCallback() {
    super.connectedCallback();
    rememberReferral();
  }

  createRenderRoot() {
    return this; // nothing to show
  }

  updated(changed) {
    if (changed.has('base') || tokenChanged(this, changed)) this.claim();
  }

  /** Claims the remembered code through `base`; fires `referral` with the answer. */
  async claim() {
    if (!this.base || !storedReferral()) return null;
    const out = await claimReferral(createStorefrontClient({ base: this.base, customerToken: this.customerToken, refreshToken: tokenRefresher(this) }));
    if (out) this.dispatchEvent(new CustomEvent('referral', { detail: out, bubbles: true, composed: true }));
    return out;
  }
}

if (globalThis.customElements && !customElements.get('loyalty-referral')) customElements.define('loyalty-referral', LoyaltyReferral);
