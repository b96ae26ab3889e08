// <loyalty-balance>: the storefront account page's loyalty box: balance, pending, tier,
// progress to the next reward, coupons and the next expiry. It reads `${base}/account`
// from the customer-scoped storefront routes (js/server/storefront.js): `base` is the
// Shopify App Proxy path (`/apps/loyalty`, Shopify signs the logged-in customer) or the
// backend's `/storefront` with `customer-token`, the short-lived token the store signed
// for this customer. Or give it the view yourself (`.account = view`). It takes no admin
// token: that one must never reach a shop's page.
// With a `.program` and a `.cart` it also previews the cart's points with the wasm engine
// in the browser (the server's numbers, no round trip).
// A referral link's `?ref=` code is remembered on arrival and, once the box has loaded a
// customer's account, claimed for them once (js/widget/referral.js).
import { LitElement, html, css, nothing } from 'lit';
import { createStorefrontClient, tokenChanged, tokenRefresher } from './api.js';
import { createBrowserEngine } from './browser-engine.js';
import { claimReferral, rememberReferral } from './referral.js';

const fmt = new Intl.NumberFormat('en');

// What the next tier still needs, in the tier's terms (money, points or orders).
function tierNeeded({ basis, needed }) {
  if (basis === 'spend') return `Spend ${needed} more`;
  return `${fmt.format(needed)} more ${basis === 'orders' ? (needed === 1 ? 'order' : 'orders') : 'points'}`;
}

export class LoyaltyBalance extends LitElement {
  static properties = {
    base: { type: String },
    customerToken: { type: String, attribute: 'customer-token' },
    account: { attribute: false },
    program: { attribute: false },
    cart: { attribute: false },
    state: { attribute: false },
    _quote: { state: true },
    _error: { state: true },
    _busy: { state: true },
    _message: { state: true },
  };

  static styles = css`
    :host { display: block; font: 14px/1.45 system-ui, sans-serif; border: 1px solid #dde1e8; border-radius: 8px; padding: 14px; max-width: 420px; }
    .balance { font-size: 28px; font-weight: 700; font-variant-numeric: tabular-nums; }
    .muted { color: #5a6272; font-size: 12px; }
    progress { width: 100%; }
    ul { padding-left: 18px; margin: 6px 0; }
    code { background: #f4f5f7; padding: 1px 4px; border-radius: 3px; }
    .err { color: #b3261e; }
  `;

  constructor() {
    super();
    this.base = '';
    this.customerToken = '';
  }

  connectedCallback() {
    super.connectedCallback();
    rememberReferral();
  }

  /** The engine for local quotes, loaded once per program. */
  async engine() {
    if (!this.program) throw new Error('loyalty-balance: set .program to quote in the browser');
    if (this._engineFor !== this.program) {
      this._engineFor = this.program;
      this._engine = createBrowserEngine(this.program);
    }
    return this._engine;
  }

  /** Quotes a cart locally: {points, rules, perks, coupons}, as POST /api/quote answers. */
  async quote(cart, state = this.state ?? null) {
    return (await this.engine()).quote(state, { ...cart, at: cart.at ?? new Date().toISOString() });
  }

  client() {
    return createStorefrontClient({ base: this.base, customerToken: this.customerToken, refreshToken: tokenRefresher(this) });
  }

  /** Redeems a catalogue reward (through `base`): the account updates, the code is shown. */
  async redeem(reward) {
    this._busy = true;
    try {
      // One key per click: a request the network retries still redeems once.
      const key = globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`;
      const r = await this.client().redeem(reward, { idempotencyKey: key });
      this.account = r.account;
      this._message = r.redeemed ? `Your code: ${r.coupon.code}` : r.reason;
      this.dispatchEvent(new CustomEvent('redeem', { detail: r }));
      return r;
    } catch (err) {
      this._error = err.message;
      return null;
    } finally {
      this._busy = false;
    }
  }

  async updated(changed) {
    if ((changed.has('base') || tokenChanged(this, changed)) && this.base && !changed.has('account')) {
      try {
        this.account = await this.client().account();
        this._error = undefined;
        this.dispatchEvent(new CustomEvent('account', { detail: this.account }));
        // A customer is vouched for: a remembered referral code is theirs to claim.
        const referral = await claimReferral(this.client());
        if (referral) this.dispatchEvent(new CustomEvent('referral', { detail: referral }));
        if (referral?.account) this.account = referral.account;
      } catch (err) {
        this._error = err.message;
      }
    }
    if ((changed.has('cart') || changed.has('program') || changed.has('state')) && this.cart && this.program) {
      try {
        this._quote = await this.quote(this.cart);
        this.dispatchEvent(new CustomEvent('quote', { detail: this._quote }));
      } catch (err) {
        this._error = err.message;
      }
    }
  }

  /** The next threshold reward: the server's (`next_reward` of GET account), else from `.program`. */
  nextReward() {
    const a = this.account;
    if (a?.next_reward) return { id: a.next_reward.reward, name: a.next_reward.name, points: a.next_reward.points };
    const rewards = (this.program?.rewards ?? []).filter((r) => r.points > 0).sort((x, y) => x.points - y.points);
    return a ? rewards.find((r) => r.points > a.balance) ?? rewards[rewards.length - 1] ?? null : null;
  }

  render() {
    const a = this.account;
    const q = this._quote;
    const next = this.nextReward();
    const coupons = (a?.coupons ?? []).filter((c) => c.status === 'issued');
    return html`
      ${this._error ? html`<div class="err">${this._error}</div>` : nothing}
      ${a ? html`
        <div class="muted">Your points</div>
        <div class="balance" id="balance">${fmt.format(a.balance)}</div>
        ${a.pending ? html`<div class="muted" id="pending">${fmt.format(a.pending)} pending</div>` : nothing}
        ${a.tier ? html`<div id="tier">Tier: <b>${a.tier}</b></div>` : nothing}
        ${a.tier_progress?.next_tier ? html`<div id="tier-progress" class="muted">${tierNeeded(a.tier_progress)} to ${a.tier_progress.next_tier}</div>` : nothing}
        ${next ? html`<div id="progress"><progress max=${next.points} value=${Math.min(a.balance, next.points)}></progress>
          <div class="muted">${a.balance >= next.points ? `Enough for ${next.name ?? next.id}` : `${fmt.format(next.points - a.balance)} points to ${next.name ?? next.id}`}</div></div>` : nothing}
        ${a.next_expiry ? html`<div id="expiry" class="muted">${fmt.format(a.next_expiry.points)} points expire ${a.next_expiry.at.slice(0, 10)}</div>` : nothing}
        ${coupons.length ? html`<div>Your coupons:</div><ul id="coupons">${coupons.map((c) => html`<li><code>${c.code}</code>
          ${c.type === 'percent' ? `${c.value}% off` : c.type === 'fixed' ? `${c.value} off` : c.type.replace('_', ' ')}${c.min_order ? ` orders from ${c.min_order}` : ''}, until ${String(c.expires_at).slice(0, 10)}</li>`)}</ul>` : nothing}
        ${this.base && a.catalogue?.length ? html`<div>Rewards:</div><ul id="catalogue">${a.catalogue.map((r) => html`<li data-reward=${r.reward}>
          ${r.name}, ${fmt.format(r.points)} points <button ?disabled=${!r.affordable || this._busy} @click=${() => this.redeem(r.reward)}>Redeem</button></li>`)}</ul>` : nothing}
        ${this._message ? html`<div id="message">${this._message}</div>` : nothing}
      ` : nothing}
      ${q ? html`<div id="quote">This cart earns <b id="quote-points">${fmt.format(q.points)}</b> points</div>` : nothing}
    `;
  }
}
