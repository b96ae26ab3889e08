// <loyalty-audit-log token="..." base="">: who did what in the admin (grants, redemptions,
// coupon cancels, program publishes and rollbacks, sign-ins), newest first, a page at a time.
import { LitElement, html, css, nothing } from 'lit';
import { createClient } from './api.js';

const when = (t) => (t ? String(t).replace('T', ' ').replace(/\.\d+/, '').replace(/Z$/, ' UTC') : '–');
const details = (d) => Object.entries(d ?? {}).filter(([, v]) => v != null && v !== '').map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ');

export class LoyaltyAuditLog extends LitElement {
  static properties = { token: { type: String }, base: { type: String }, _entries: { state: true }, _next: { state: true }, _error: { state: true } };

  static styles = css`
    :host { display: block; }
    section { background: #fff; border-radius: 8px; padding: 16px; }
    h2 { font-size: 15px; margin: 0 0 10px; }
    .scroll { overflow-x: auto; }
    table { border-collapse: collapse; width: 100%; }
    th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eceef2; vertical-align: top; }
    th { font-weight: 600; color: #4d5564; font-size: 12px; text-transform: uppercase; }
    button { font: inherit; min-height: 40px; padding: 6px 12px; border-radius: 4px; border: 1px solid #2d5bd8; background: #fff; color: #1f47b3; cursor: pointer; }
    .err { padding: 8px 12px; border-radius: 4px; background: #fce8e6; color: #a3231b; }
  `;

  connectedCallback() {
    super.connectedCallback();
    this.load();
  }

  async load(cursor) {
    try {
      const out = await createClient({ token: this.token, base: this.base ?? '' }).audit({ cursor });
      this._entries = cursor ? [...(this._entries ?? []), ...out.entries] : out.entries;
      this._next = out.next;
    } catch (err) {
      if (err.status === 401) this.dispatchEvent(new CustomEvent('unauthorized', { bubbles: true, composed: true }));
      this._error = err.message;
    }
  }

  render() {
    return html`<section aria-labelledby="audit-h">
      <h2 id="audit-h">Audit log</h2>
      ${this._error ? html`<div class="err" role="alert">${this._error}</div>` : nothing}
      ${!this._entries ? html`<p>Loading…</p>` : html`<div class="scroll" tabindex="0" role="region" aria-label="Audit entries"><table id="audit">
        <tr><th>When</th><th>Who</th><th>What</th><th>On</th><th>Details</th></tr>
        ${this._entries.map((e) => html`<tr data-action=${e.action}><td>${when(e.at)}</td><td class="who">${e.operator ?? '–'}</td><td>${e.action}</td><td>${e.target ?? ''}</td><td>${details(e.details)}</td></tr>`)}
      </table></div>
      ${this._next ? html`<p><button @click=${() => this.load(this._next)}>Older entries</button></p>` : nothing}`}
    </section>`;
  }
}

if (globalThis.customElements && !customElements.get('loyalty-audit-log')) customElements.define('loyalty-audit-log', LoyaltyAuditLog);
