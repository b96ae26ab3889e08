// <loyalty-admin token="..." base="" role="owner">: the merchant's admin panel as one web
// component. Customers (search by id, email or name, sorted by balance or last activity,
// paged), the customer page (balance, pending, tier, next expiry, contact and opt-outs,
// coupons with their sync state in the store, history with reasons and the rules that
// fired, notifications with resend), grant or deduct points, redeem a reward, cancel a
// coupon, the program (editor, preview, publish, versions), the audit log, a KPI dashboard
// and the notification template editor. It talks to the backend's API with the bearer
// token it is given (the operator token or a session); `role` only hides what the server
// would refuse anyway.
import { LitElement, html, css, nothing, svg } from 'lit';
import { createClient, runAction } from './api.js';
import './program-admin.js';
import './audit-log.js';

const fmt = new Intl.NumberFormat('en');
const pct = (r) => (r == null ? '–' : `${(r * 100).toFixed(1)}%`);
const day = (d) => d.toISOString().slice(0, 10);
const when = (t) => (t ? String(t).replace('T', ' ').replace(/\.\d+/, '').replace(/([+-]\d\d:\d\d|Z)$/, ' $1') : '–');

export class LoyaltyAdmin extends LitElement {
  static properties = {
    token: { type: String },
    base: { type: String },
    by: { type: String },
    role: { type: String },
    tab: { type: String, reflect: true },
    _field: { state: true },
    _sort: { state: true },
    _next: { state: true },
    _profile: { state: true },
    _q: { state: true },
    _results: { state: true },
    _customer: { state: true },
    _account: { state: true },
    _history: { state: true },
    _coupons: { state: true },
    _message: { state: true },
    _error: { state: true },
    _busy: { state: true },
    _kpis: { state: true },
    _kpiMs: { state: true },
    _range: { state: true },
    _tpl: { state: true },
    _preview: { state: true },
    _templatesReady: { state: true },
    _catalog: { state: true },
  };

  static styles = css`
    :host { display: block; font: 14px/1.45 system-ui, sans-serif; color: #1d2330; }
    nav { display: flex; flex-wrap: wrap; gap: 4px; margin-bottom: 12px; }
    nav button { border: 0; padding: 8px 14px; border-radius: 6px 6px 0 0; background: #dde1e8; font: inherit; cursor: pointer; }
    nav button[aria-selected='true'] { background: #fff; font-weight: 600; }
    section { background: #fff; border-radius: 8px; padding: 16px; margin-bottom: 12px; }
    h2 { font-size: 15px; margin: 0 0 10px; }
    input, select, textarea, button { font: inherit; }
    input, select, textarea { max-width: 100%; box-sizing: border-box; padding: 6px 8px; border: 1px solid #c5cad3; border-radius: 4px; }
    button.primary { background: #2d5bd8; color: #fff; border: 0; padding: 7px 14px; border-radius: 4px; cursor: pointer; }
    button.primary[disabled] { opacity: 0.6; }
    table { border-collapse: collapse; width: 100%; }
    th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eceef2; vertical-align: top; }
    th { font-weight: 600; color: #5a6272; font-size: 12px; text-transform: uppercase; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    .pos { color: #137333; } .neg { color: #b3261e; }
    .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
    .card { background: #f7f8fa; border-radius: 6px; padding: 10px 12px; }
    .card b { display: block; font-size: 22px; font-variant-numeric: tabular-nums; }
    .card span { color: #5a6272; font-size: 12px; }
    .row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
    .results button { background: none; border: 0; color: #2d5bd8; cursor: pointer; padding: 0; text-decoration: underline; }
    .rules { color: #5a6272; font-size: 12px; }
    .msg { padding: 8px 12px; border-radius: 4px; background: #e6f4ea; margin-bottom: 10px; }
    .err { padding: 8px 12px; border-radius: 4px; background: #fce8e6; color: #b3261e; margin-bottom: 10px; }
    /* Wide tables scroll inside their region on a phone; the region takes focus so keys scroll it. */
    .scroll { overflow-x: auto; }
    .scroll:focus-visible { outline: 3px solid #2d5bd8; }
    .editor { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
    .editor textarea { width: 100%; box-sizing: border-box; min-height: 260px; font-family: ui-monospace, monospace; font-size: 13px; }
    .preview { border: 1px solid #c5cad3; border-radius: 4px; padding: 10px; min-height: 240px; }
    .preview iframe { display: block; width: 100%; height: 320px; border: 0; background: #fff; }
    #preview-text, #preview-body { white-space: pre-wrap; }
    .chart text { font-size: 10px; fill: #5a6272; }
    .legend { display: flex; gap: 14px; font-size: 12px; }
    .legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
  `;

  constructor() {
    super();
    this.token = '';
    this.base = '';
    this.by = 'admin';
    this.tab = 'customers';
    this.role = 'owner';
    this._q = '';
    this._field = 'any';
    this._sort = 'id';
    this._results = null;
    const to = new Date(Date.now() + 86_400_000);
    this._range = { from: day(new Date(to.getTime() - 31 * 86_400_000)), to: day(to) };
    this._tpl = { trigger: 'reward_earned', channel: 'email', locale: 'en', fields: null };
    this._templatesReady = null;
  }

  connectedCallback() {
    super.connectedCallback();
    // Opened straight on a tab (tab="dashboard"): load what it shows.
    if (this.tab !== 'customers') this.setTab(this.tab);
  }

  get api() {
    if (!this._api || this._api.token !== this.token || this._api.base !== this.base) {
      this._api = { token: this.token, base: this.base, client: createClient({ token: this.token, base: this.base }) };
    }
    return this._api.client;
  }

  // Runs an API action with the busy flag and error display; 401 tells the host page.
  _run(fn) {
    return runAction(this, fn);
  }

  async search(e, { more = false } = {}) {
    e?.preventDefault();
    const q = this._q.trim();
    const seq = (this._searchSeq = (this._searchSeq ?? 0) + 1);
    const out = await this._run(() => this.api.search(q, 20, { field: this._field, sort: this._sort, cursor: more ? this._next : undefined }));
    if (!out || seq !== this._searchSeq) return; // a later search answers instead
    this._results = more ? [...this._results, ...out.customers] : out.customers;
    this._next = out.next;
    // An exact id match opens at once (a search, not the first listing).
    if (!more && q && (out.customers.length === 1 || out.customers.some((c) => c.customer === q))) await this.open(out.customers.length === 1 ? out.customers[0].customer : q);
  }

  async open(customer) {
    this._customer = customer;
    this._message = null;
    await this._run(async () => {
      const [account, history, coupons, profile] = await Promise.all([
        this.api.account(customer),
        this.api.history(customer, { limit: 50 }),
        this.api.coupons(customer).catch(() => null),
        this.api.profile(customer).catch(() => null),
      ]);
      this._account = account;
      this._history = history;
      this._profile = profile;
      // Keep the search results in step with what was just loaded.
      if (this._results?.some((r) => r.customer === customer)) {
        this._results = this._results.map((r) => (r.customer === customer ? { ...r, balance: account.balance, pending: account.pending, tier: account.tier } : r));
      }
      this._coupons = coupons?.coupons ?? account.coupons;
      if (!this._program) this._program = await this.api.program().catch(() => null);
    });
  }

  async redeem(e) {
    e.preventDefault();
    const reward = e.target.reward.value;
    if (!reward) return void (this._error = 'Choose a reward');
    const out = await this._run(() => this.api.redeem(this._customer, { reward }));
    if (!out) return;
    await this.open(this._customer);
    this._message = `Redeemed ${reward}`;
  }

  async resend(outbox) {
    const out = await this._run(() => this.api.resend(this._customer, outbox));
    if (out) this._message = `Notification ${outbox} queued again`;
  }

  async grant(e) {
    e.preventDefault();
    const form = e.target;
    const points = Number(form.points.value);
    const reason = form.reason.value.trim();
    if (!Number.isInteger(points) || points === 0) return void (this._error = 'Points: a whole number, not 0');
    if (!reason) return void (this._error = 'A reason is required');
    // The server records the signed-in operator as the author, whatever `by` says.
    const out = await this._run(() => this.api.adjust(this._customer, { points, reason, by: this.by || 'admin' }));
    if (!out) return;
    form.reset();
    this._message = `${points > 0 ? 'Granted' : 'Deducted'} ${fmt.format(Math.abs(points))} points: ${reason}`;
    const message = this._message;
    await this.open(this._customer);
    this._message = message;
    this.dispatchEvent(new CustomEvent('adjusted', { detail: out, bubbles: true, composed: true }));
  }

  async cancelCoupon(code) {
    const reason = this.renderRoot.querySelector(`input[data-cancel-reason="${code}"]`)?.value.trim();
    if (!reason) return void (this._error = 'A reason is required to cancel a coupon');
    const out = await this._run(() => this.api.cancelCoupon(code, { reason, by: this.by || 'admin' }));
    if (!out) return;
    await this.open(this._customer);
    this._message = `Coupon ${code} cancelled: ${reason}`;
  }

  async loadKpis(e) {
    e?.preventDefault();
    const t0 = performance.now();
    const out = await this._run(() => this.api.kpis({ from: `${this._range.from}T00:00:00Z`, to: `${this._range.to}T00:00:00Z` }));
    if (out) {
      this._kpis = out;
      this._kpiMs = Math.round(performance.now() - t0);
    }
  }

  setTab(tab) {
    this.tab = tab;
    this._error = null;
    if (tab === 'dashboard' && !this._kpis) this.loadKpis();
    if (tab === 'templates' && this._templatesReady === null) this.loadTemplates();
  }

  // --- templates (routes of js/server/notify-routes.js) ---
  async loadTemplates() {
    try {
      this._catalog = await this.api.templates();
    } catch (err) {
      if (err.status === 401) this.dispatchEvent(new CustomEvent('unauthorized', { bubbles: true, composed: true }));
      // No template API on this server (a memory store, or an older backend).
      this._templatesReady = err.status === 404 ? 'unavailable' : false;
      this._preview = { unavailable: err.status === 404, error: err.status === 404 ? null : { message: err.message } };
      return;
    }
    const { triggers, fields } = this._catalog;
    const t = this._tpl;
    this._tpl = { ...t, trigger: triggers.includes(t.trigger) ? t.trigger : triggers[0], channel: fields[t.channel] ? t.channel : Object.keys(fields)[0] };
    await this.loadTemplate();
  }

  async loadTemplate() {
    const t = this._tpl;
    const out = await this._run(() => this.api.template(t));
    if (!out) return;
    this._tpl = { ...t, fields: { ...out.fields }, origin: out.origin, resolved: out.resolved_locale };
    this._templatesReady = true;
    await this.preview();
  }

  editTemplate(key, value) {
    if (key.startsWith('field:')) {
      this._tpl = { ...this._tpl, fields: { ...this._tpl.fields, [key.slice(6)]: value } };
      clearTimeout(this._previewTimer);
      this._previewTimer = setTimeout(() => this.preview(), 200);
    } else {
      this._tpl = { ...this._tpl, [key]: value };
      this.loadTemplate();
    }
  }

  async preview() {
    const { trigger, channel, locale, fields } = this._tpl;
    const seq = (this._previewSeq = (this._previewSeq ?? 0) + 1);
    let out;
    try {
      out = { ok: await this.api.preview({ trigger, channel, locale, source: fields ?? {} }) };
    } catch (err) {
      out = err.status === 404 && /no route/.test(err.message) ? { unavailable: true } : { error: err.body?.error ?? { message: err.message } };
    }
    if (seq !== this._previewSeq) return; // an older request answered late
    this._preview = out;
    this.dispatchEvent(new CustomEvent('preview', { detail: out }));
  }

  async saveTemplate() {
    const { trigger, channel, locale, fields } = this._tpl;
    this._busy = true;
    this._error = null;
    try {
      const out = await this.api.saveTemplate({ trigger, channel, locale }, fields ?? {});
      this._tpl = { ...this._tpl, origin: out.origin };
      this._message = `Template ${trigger} / ${channel} / ${locale} saved`;
    } catch (err) {
      const e = err.body?.error;
      this._error = e?.line != null ? `${e.field ?? ''} line ${e.line}: ${e.message}` : err.message;
      if (e?.line != null) this._preview = { error: e };
    } finally {
      this._busy = false;
    }
  }

  // --- rendering ---
  render() {
    const tabs = [['customers', 'Customers'], ['program', 'Program'], ['dashboard', 'Dashboard'], ['templates', 'Templates'], ['audit', 'Audit']];
    return html`
      <nav role="tablist">
        ${tabs.map(([id, label]) => html`<button role="tab" id="tab-${id}" aria-selected=${this.tab === id} @click=${() => this.setTab(id)}>${label}</button>`)}
      </nav>
      ${this._message ? html`<div class="msg" id="message">${this._message}</div>` : nothing}
      ${this._error ? html`<div class="err" id="error" role="alert">${this._error}</div>` : nothing}
      ${this.tab === 'customers' ? this.renderCustomers()
        : this.tab === 'program' ? html`<loyalty-program-admin .token=${this.token} .base=${this.base} .role=${this.role}></loyalty-program-admin>`
        : this.tab === 'audit' ? html`<loyalty-audit-log .token=${this.token} .base=${this.base}></loyalty-audit-log>`
        : this.tab === 'dashboard' ? this.renderDashboard() : this.renderTemplates()}
    `;
  }

  renderCustomers() {
    const sel = (key) => (e) => { this[key] = e.target.value; this.search(); };
    return html`
      <section>
        <form class="row" id="search" @submit=${this.search}>
          <input id="q" type="search" placeholder="Email, name or customer id" .value=${this._q} @input=${(e) => (this._q = e.target.value)} aria-label="Search customers">
          <select id="field" aria-label="Search in" @change=${sel('_field')}>
            ${[['any', 'Email or id'], ['email', 'Email'], ['name', 'Name'], ['id', 'Customer id']].map(([v, l]) => html`<option value=${v} ?selected=${this._field === v}>${l}</option>`)}
          </select>
          <select id="sort" aria-label="Sort by" @change=${sel('_sort')}>
            ${[['id', 'By id'], ['balance', 'Highest balance'], ['activity', 'Latest activity']].map(([v, l]) => html`<option value=${v} ?selected=${this._sort === v}>${l}</option>`)}
          </select>
          <button class="primary" type="submit" ?disabled=${this._busy}>Search</button>
        </form>
        ${this._results ? html`
          <div class="scroll" tabindex="0" role="region" aria-label="Customers"><table class="results" id="results">
            <tr><th>Customer</th><th>Email</th><th class="num">Balance</th><th class="num">Pending</th><th>Tier</th></tr>
            ${this._results.length === 0 ? html`<tr><td colspan="5">No customer matches “${this._q}”.</td></tr>` : nothing}
            ${this._results.map((c) => html`<tr><td><button @click=${() => this.open(c.customer)}>${c.customer}</button>${c.name ? html`<div class="rules">${c.name}</div>` : nothing}</td>
              <td>${c.email ?? ''}</td><td class="num">${fmt.format(c.balance)}</td><td class="num">${fmt.format(c.pending)}</td><td>${c.tier ?? '–'}</td></tr>`)}
          </table></div>
          ${this._next ? html`<p><button id="more-customers" @click=${() => this.search(null, { more: true })}>More customers</button></p>` : nothing}` : nothing}
      </section>
      ${this._account ? this.renderAccount() : nothing}
    `;
  }

  renderProfile() {
    const p = this._profile;
    if (!p) return nothing;
    const c = p.contact;
    return html`<section id="profile">
      <h2>Contact</h2>
      ${c ? html`<p><span id="contact-email">${c.email ?? 'no email'}</span>${c.name ? ` · ${c.name}` : ''}${c.phone ? ` · ${c.phone}` : ''}${c.locale ? ` · ${c.locale}` : ''}</p>
        <p id="opt-outs">Opted out of: ${c.opt_out?.length ? c.opt_out.join(', ') : 'nothing'}</p>` : html`<p>No contact details.</p>`}
      ${p.notifications?.length ? html`<div class="scroll" tabindex="0" role="region" aria-label="Notifications"><table id="notifications">
        <tr><th>Notification</th><th>Channels</th><th>Created</th><th>Delivered</th><th></th></tr>
        ${p.notifications.map((n) => html`<tr><td>${n.trigger}</td><td>${n.channels.join(', ')}</td><td>${when(n.created_at)}</td><td>${when(n.delivered_at)}</td>
          <td>${this.role !== 'viewer' ? html`<button @click=${() => this.resend(n.id)} aria-label="Resend ${n.trigger} ${n.id}">Resend</button>` : nothing}</td></tr>`)}
      </table></div>` : nothing}
    </section>`;
  }

  renderAccount() {
    const a = this._account;
    const coupons = this._coupons ?? [];
    const entries = this._history?.entries ?? [];
    return html`
      <section id="account" data-customer=${a.customer}>
        <h2>Customer ${a.customer}</h2>
        <div class="cards">
          <div class="card"><b id="balance">${fmt.format(a.balance)}</b><span>points</span></div>
          <div class="card"><b id="pending">${fmt.format(a.pending)}</b><span>pending</span></div>
          <div class="card"><b id="tier">${a.tier ?? '–'}</b><span>tier</span></div>
          <div class="card"><b id="next-expiry">${a.next_expiry ? fmt.format(a.next_expiry.points) : '–'}</b>
            <span>${a.next_expiry ? `expire ${when(a.next_expiry.at)}` : 'nothing expiring'}</span></div>
        </div>
      </section>
      ${this.renderProfile()}
      ${this.role === 'viewer' ? nothing : html`<section>
        <h2>Grant or deduct points</h2>
        <form class="row" id="grant" @submit=${this.grant}>
          <input name="points" type="number" step="1" required placeholder="Points (+/−)" aria-label="Points">
          <input name="reason" required placeholder="Reason (required)" aria-label="Reason" size="40" maxlength="500">
          <button class="primary" type="submit" ?disabled=${this._busy}>Apply</button>
        </form>
        ${(this._program?.rewards ?? []).some((r) => !r.auto) ? html`<form class="row" id="redeem" @submit=${this.redeem} style="margin-top:8px">
          <select name="reward" aria-label="Reward to redeem">${this._program.rewards.filter((r) => !r.auto).map((r) => html`<option value=${r.id}>${r.id} (${fmt.format(r.points)} points)</option>`)}</select>
          <button type="submit" ?disabled=${this._busy}>Redeem</button>
        </form>` : nothing}
      </section>`}
      <section>
        <h2>Coupons</h2>
        ${coupons.length === 0 ? html`<p>No coupons.</p>` : html`
        <div class="scroll" tabindex="0" role="region" aria-label="Coupons"><table id="coupons">
          <tr><th>Code</th><th>Offer</th><th>Expires</th><th>Status</th><th>In the store</th><th></th></tr>
          ${coupons.map((c) => html`<tr data-code=${c.code}>
            <td><code>${c.code}</code></td>
            <td>${c.type === 'percent' ? `${c.value}% off` : c.type === 'fixed' ? `${c.value} off` : c.type}${c.min_order ? ` (min ${c.min_order})` : ''}</td>
            <td>${when(c.expires_at)}</td>
            <td class="status">${c.status}${c.cancelled ? html`<div class="rules">${c.cancelled.reason} · ${c.cancelled.by}</div>` : nothing}</td>
            <td class="sync">${c.sync?.status ?? 'not synced'}${c.sync?.store_id ? html`<div class="rules">${c.sync.store_id}</div>` : nothing}${c.sync?.error ? html`<div class="rules neg">${c.sync.error}</div>` : nothing}</td>
            <td>${c.status === 'issued' && this.role !== 'viewer' ? html`<span class="row">
              <input data-cancel-reason=${c.code} placeholder="Reason" aria-label="Cancel reason" size="14">
              <button @click=${() => this.cancelCoupon(c.code)}>Cancel</button></span>` : nothing}</td>
          </tr>`)}
        </table></div>`}
      </section>
      <section>
        <h2>History</h2>
        <div class="scroll" tabindex="0" role="region" aria-label="History"><table id="history">
          <tr><th>When</th><th>Type</th><th class="num">Points</th><th class="num">Balance</th><th>Reason and rules</th></tr>
          ${entries.map((e) => html`<tr data-id=${e.id}>
            <td>${when(e.at)}</td><td>${e.type}</td>
            <td class="num ${e.points > 0 ? 'pos' : e.points < 0 ? 'neg' : ''}">${e.points > 0 ? '+' : ''}${fmt.format(e.points)}</td>
            <td class="num">${fmt.format(e.balance_after)}</td>
            <td><div class="reason">${e.reason ?? ''}${e.by ? ` (by ${e.by})` : ''}${e.order_id ? ` · order ${e.order_id}` : ''}${e.coupon ? ` · ${e.coupon}` : ''}</div>
              ${e.rules?.length ? html`<div class="rules">${e.rules.join(' · ')}</div>` : nothing}</td>
          </tr>`)}
        </table></div>
        ${this._history?.next ? html`<p><button @click=${this.more}>Older entries</button></p>` : nothing}
      </section>
    `;
  }

  async more() {
    const out = await this._run(() => this.api.history(this._customer, { cursor: this._history.next, limit: 50 }));
    if (out) this._history = { entries: [...this._history.entries, ...out.entries], next: out.next };
  }

  renderDashboard() {
    const k = this._kpis;
    const range = (field) => (e) => (this._range = { ...this._range, [field]: e.target.value });
    return html`
      <section>
        <form class="row" @submit=${this.loadKpis}>
          <label>From <input type="date" id="from" .value=${this._range.from} @change=${range('from')}></label>
          <label>To <input type="date" id="to" .value=${this._range.to} @change=${range('to')}></label>
          <button class="primary" type="submit" ?disabled=${this._busy}>Show</button>
          ${this._kpiMs != null ? html`<span class="rules" id="kpi-ms">loaded in ${this._kpiMs} ms</span>` : nothing}
        </form>
      </section>
      ${k ? html`
      <section id="kpis">
        <div class="cards">
          ${this.card('members', fmt.format(k.members), 'members')}
          ${this.card('active', fmt.format(k.active_members), 'active (90 days)')}
          ${this.card('repeat', pct(k.repeat_purchase_rate), `repeat purchase rate (${fmt.format(k.repeat_buyers)}/${fmt.format(k.buyers)} buyers)`)}
          ${this.card('redemption', pct(k.redemption_rate), 'redemption rate (redeemed / earned)')}
          ${this.card('liability', fmt.format(k.liability.points), `points outstanding${k.liability.value != null ? ` = ${k.liability.value} ${k.liability.currency}` : ''}`)}
          ${this.card('breakage', pct(k.breakage), 'breakage (expired / earned)')}
          ${this.card('earned', fmt.format(k.earned), 'points earned')}
          ${this.card('redeemed', fmt.format(k.redeemed), 'points redeemed')}
          ${this.card('expired', fmt.format(k.expired), 'points expired')}
        </div>
      </section>
      <section>
        <h2>Points per day (${k.timezone})</h2>
        ${this.renderChart(k.days)}
      </section>` : nothing}
    `;
  }

  card(id, value, label) {
    return html`<div class="card" data-kpi=${id}><b>${value}</b><span>${label}</span></div>`;
  }

  renderChart(days) {
    const W = 1000, H = 240, L = 56, B = 22, T = 8;
    const series = [['earned', '#2d5bd8'], ['redeemed', '#f29900'], ['expired', '#b3261e']];
    if (!days.length) return html`<p id="chart-empty">No ledger activity in this range.</p>`;
    const max = Math.max(1, ...days.flatMap((d) => series.map(([s]) => d[s])));
    const x = (i) => L + (days.length === 1 ? (W - L) / 2 : (i * (W - L - 10)) / (days.length - 1));
    const y = (v) => T + (H - T - B) * (1 - v / max);
    const ticks = [0, max / 2, max];
    const every = Math.max(1, Math.ceil(days.length / 8));
    return html`
      <div class="legend">${series.map(([s, c]) => html`<span><i style="background:${c}"></i>${s}</span>`)}</div>
      <svg class="chart" id="chart" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="Points earned, redeemed and expired per day">
        ${ticks.map((t) => svg`<line x1=${L} x2=${W} y1=${y(t)} y2=${y(t)} stroke="#eceef2"/><text x=${L - 6} y=${y(t) + 3} text-anchor="end">${fmt.format(Math.round(t))}</text>`)}
        ${days.map((d, i) => (i % every === 0 ? svg`<text x=${x(i)} y=${H - 6} text-anchor="middle">${d.day.slice(5)}</text>` : nothing))}
        ${series.map(([s, c]) => svg`
          <polyline fill="none" stroke=${c} stroke-width="2" points=${days.map((d, i) => `${x(i)},${y(d[s])}`).join(' ')}/>
          ${days.map((d, i) => svg`<circle cx=${x(i)} cy=${y(d[s])} r="3" fill=${c}><title>${d.day} ${s}: ${d[s]}</title></circle>`)}`)}
      </svg>`;
  }

  renderTemplates() {
    const t = this._tpl;
    const p = this._preview;
    const c = this._catalog;
    if (this._templatesReady === 'unavailable' || p?.unavailable) {
      return html`<section><p id="templates-unavailable">Notification templates are not available on this server.</p></section>`;
    }
    if (!c || !t.fields) return html`<section><p>Loading templates…</p></section>`;
    const field = (name) => (e) => this.editTemplate(name, e.target.value);
    const names = c.fields[t.channel] ?? [];
    let body;
    if (!p) body = html`<span class="rules">…</span>`;
    else if (p.error) {
      body = html`<div class="err" id="preview-error">${p.error.field ? `${p.error.field}, ` : ''}${p.error.line != null ? `line ${p.error.line}: ` : ''}${p.error.message}</div>`;
    } else body = this.renderRendered(p.ok?.rendered ?? {});
    return html`
      <section>
        <div class="row">
          <label>Trigger <select id="tpl-trigger" @change=${field('trigger')}>${c.triggers.map((v) => html`<option ?selected=${v === t.trigger}>${v}</option>`)}</select></label>
          <label>Channel <select id="tpl-channel" @change=${field('channel')}>${Object.keys(c.fields).map((v) => html`<option ?selected=${v === t.channel}>${v}</option>`)}</select></label>
          <label>Locale <select id="tpl-locale" @change=${field('locale')}>${c.locales.map((v) => html`<option ?selected=${v === t.locale}>${v}</option>`)}</select></label>
          <span class="rules" id="tpl-origin">${t.origin === 'override' ? 'your version' : `shipped default${t.resolved && t.resolved !== t.locale ? ` (${t.resolved})` : ''}`}</span>
          <button class="primary" id="tpl-save" @click=${this.saveTemplate} ?disabled=${this._busy}>Save</button>
        </div>
      </section>
      <section class="editor">
        <div><h2>Template (Liquid)</h2>
          ${names.map((n) => html`<label>${n}<br>${n === 'subject' || n === 'title' || n === 'url'
            ? html`<input id="tpl-${n}" style="width:100%;box-sizing:border-box" .value=${t.fields[n] ?? ''} @input=${field(`field:${n}`)}>`
            : html`<textarea id="tpl-${n}" spellcheck="false" .value=${t.fields[n] ?? ''} @input=${field(`field:${n}`)}></textarea>`}</label>`)}
        </div>
        <div><h2>Preview</h2><div class="preview" id="preview">${body}</div></div>
      </section>
    `;
  }

  renderRendered(r) {
    return html`
      ${r.subject != null ? html`<div><b id="preview-subject">${r.subject}</b></div>` : nothing}
      ${r.title != null ? html`<div><b id="preview-title">${r.title}</b></div>` : nothing}
      ${r.html != null ? html`<iframe id="preview-html" sandbox="" title="HTML preview" .srcdoc=${r.html}></iframe>` : nothing}
      ${r.body != null ? html`<div id="preview-body">${r.body}</div>` : nothing}
      ${r.text != null && r.html == null ? html`<div id="preview-text">${r.text}</div>` : nothing}
      ${r.url != null ? html`<div class="rules" id="preview-url">${r.url}</div>` : nothing}
    `;
  }

}
