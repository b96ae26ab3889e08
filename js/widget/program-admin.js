// <loyalty-program-admin token="..." base="" role="owner">: the Program tab of the admin.
// The program in force in <loyalty-program-editor>, beside it what the edited program would
// have done over the shop's last 12 months (the server replays them with the same simulator
// as `loyalty simulate`), a Publish button (owners), and the versions with rollback. Before
// the first publish it offers the presets to start from and shows the storefront block's
// wording for the program being edited.
import { LitElement, html, css, nothing } from 'lit';
import { createClient, runAction } from './api.js';
import './program-editor.js';

const fmt = new Intl.NumberFormat('en');
const num = (v) => (v == null ? '–' : fmt.format(v));
const diff = (a, b) => (a == null || b == null ? '' : b - a === 0 ? '0' : `${b - a > 0 ? '+' : ''}${fmt.format(b - a)}`);
const when = (t) => (t ? String(t).replace('T', ' ').replace(/\.\d+/, '').replace(/Z$/, ' UTC') : '–');

/** What the storefront block says about a program (its first way to earn and first reward). */
export function storefrontText(program) {
  const rate = program?.earn?.points_per_unit;
  const reward = (program?.rewards ?? [])[0];
  const c = reward?.coupon;
  const offer = !c ? null : c.type === 'percent' ? `${c.value}% off` : c.type === 'fixed' ? `${c.value} ${program.currency} off` : c.type.replace(/_/g, ' ');
  return [
    rate ? `Earn ${rate} points per ${program.currency} spent.` : 'Earn points on every order.',
    reward ? `${fmt.format(reward.points)} points give ${offer ?? reward.id}${c?.min_order ? ` on orders of at least ${c.min_order} ${program.currency}` : ''}.` : '',
  ].filter(Boolean).join(' ');
}

export class LoyaltyProgramAdmin extends LitElement {
  static properties = {
    token: { type: String },
    base: { type: String },
    role: { type: String },
    _state: { state: true },
    _schema: { state: true },
    _draft: { state: true },
    _preview: { state: true },
    _previewing: { state: true },
    _versions: { state: true },
    _presets: { state: true },
    _message: { state: true },
    _error: { state: true },
    _busy: { state: true },
  };

  static styles = css`
    :host { display: block; }
    .layout { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 12px; align-items: start; }
    @media (max-width: 900px) { .layout { grid-template-columns: minmax(0, 1fr); } }
    section { background: #fff; border-radius: 8px; padding: 16px; margin-bottom: 12px; }
    h2 { font-size: 15px; margin: 0 0 10px; }
    table { border-collapse: collapse; width: 100%; }
    th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eceef2; }
    th { font-weight: 600; color: #4d5564; font-size: 12px; text-transform: uppercase; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    button, input, select { font: inherit; min-height: 40px; }
    input, select { padding: 6px 8px; border: 1px solid #8a93a3; border-radius: 4px; }
    button { padding: 6px 12px; border-radius: 4px; border: 1px solid #2d5bd8; background: #fff; color: #1f47b3; cursor: pointer; }
    button.primary { background: #2d5bd8; color: #fff; border: 0; }
    button[disabled] { opacity: 0.6; cursor: default; }
    .row { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
    .msg { padding: 8px 12px; border-radius: 4px; background: #e6f4ea; margin-bottom: 10px; }
    .err { padding: 8px 12px; border-radius: 4px; background: #fce8e6; color: #a3231b; margin-bottom: 10px; }
    .muted { color: #4d5564; font-size: 13px; }
    .block { border: 1px dashed #8a93a3; border-radius: 8px; padding: 12px; background: #fbfbfd; }
    .sticky { position: sticky; top: 8px; }
  `;

  constructor() {
    super();
    this.token = '';
    this.base = '';
    this.role = 'owner';
    this._previewSeq = 0;
  }

  get api() {
    if (!this._api || this._api.token !== this.token || this._api.base !== this.base) this._api = { token: this.token, base: this.base, client: createClient({ token: this.token, base: this.base }) };
    return this._api.client;
  }

  connectedCallback() {
    super.connectedCallback();
    this.load();
  }

  _run(fn) {
    return runAction(this, fn);
  }

  async load() {
    await this._run(async () => {
      const [state, schema, versions] = await Promise.all([this.api.programState(), this.api.programSchema(), this.api.versions()]);
      this._state = state;
      this._schema = schema;
      this._versions = versions.versions;
      this._draft = state.program;
      // First run: nothing published yet, so offer the ready programs to start from.
      if (state.version === 0) this._presets = (await this.api.presets()).presets;
    });
    this.dispatchEvent(new CustomEvent('program-loaded', { detail: this._state }));
    await this.preview();
  }

  edited(e) {
    this._draft = e.detail.program;
    clearTimeout(this._timer);
    this._timer = setTimeout(() => this.preview(), 400);
  }

  usePreset(id) {
    const preset = this._presets?.find((p) => p.id === id);
    if (!preset) return;
    this._draft = { ...preset.program, id: this._state.program.id };
    this.preview();
  }

  async preview() {
    if (!this._draft) return;
    const seq = ++this._previewSeq;
    this._previewing = true;
    let out;
    try {
      out = { ok: await this.api.previewProgram(this._draft) };
    } catch (err) {
      out = { error: err.body?.error ?? { message: err.message } };
    }
    if (seq !== this._previewSeq) return; // a later edit's preview is on its way
    this._previewing = false;
    this._preview = out;
    if (out.error?.path != null) this.editor?.showErrors([{ path: out.error.path, message: out.error.message }]);
    this.dispatchEvent(new CustomEvent('preview', { detail: out }));
  }

  get editor() {
    return this.renderRoot.querySelector('loyalty-program-editor');
  }

  async publish() {
    const note = this.renderRoot.querySelector('#note')?.value.trim() || undefined;
    this._busy = true;
    this._error = null;
    this._message = null;
    try {
      const v = await this.api.publishProgram(this._draft, note);
      this._message = `Version ${v.version} published: it applies to events from now on.`;
      await this.reload();
      this.dispatchEvent(new CustomEvent('published', { detail: v, bubbles: true, composed: true }));
    } catch (err) {
      if (err.status === 401) this.dispatchEvent(new CustomEvent('unauthorized', { bubbles: true, composed: true }));
      const e = err.body?.error;
      this._error = e?.message ?? err.message;
      // The engine's message at its field.
      if (e?.path) await this.editor?.showErrors([{ path: e.path, message: e.message }]);
    } finally {
      this._busy = false;
    }
  }

  async rollback(version) {
    const v = await this._run(() => this.api.rollback(version));
    if (!v) return;
    await this.reload();
    this._message = `Version ${version} is in force again (as version ${v.version}).`;
  }

  async reload() {
    const [state, versions] = await Promise.all([this.api.programState(), this.api.versions()]);
    this._state = state;
    this._versions = versions.versions;
    this._draft = state.program;
    this._presets = null;
    await this.preview();
  }

  render() {
    if (!this._state || !this._schema) return html`<section>${this._error ? html`<div class="err" role="alert">${this._error}</div>` : html`<p>Loading the program…</p>`}</section>`;
    const owner = this.role === 'owner';
    const s = this._state;
    return html`
      ${this._message ? html`<div class="msg" id="program-message" role="status">${this._message}</div>` : nothing}
      ${this._error ? html`<div class="err" id="program-error" role="alert">${this._error}</div>` : nothing}
      ${s.version === 0 ? this.renderSetup() : nothing}
      <div class="layout">
        <section aria-labelledby="editor-h">
          <h2 id="editor-h">Program${s.version ? html` <span class="muted">· version ${s.version} by ${s.author}, ${when(s.created_at)}</span>` : html` <span class="muted">· not published yet</span>`}</h2>
          <loyalty-program-editor .schema=${this._schema} .program=${this._draft} ?readonly=${!owner} @change=${this.edited}></loyalty-program-editor>
        </section>
        <div class="sticky">
          ${this.renderPreview()}
          ${owner ? html`<section aria-labelledby="publish-h">
            <h2 id="publish-h">Publish</h2>
            <div class="row">
              <input id="note" placeholder="What changed (optional)" aria-label="Note" maxlength="500">
              <button class="primary" id="publish" @click=${this.publish} ?disabled=${this._busy}>Publish</button>
            </div>
            <p class="muted">Orders from now on earn under the published program; what was earned stays as recorded.</p>
          </section>` : nothing}
          ${this.renderVersions(owner)}
        </div>
      </div>
    `;
  }

  renderSetup() {
    return html`<section id="setup" aria-labelledby="setup-h">
      <h2 id="setup-h">Set up your program</h2>
      <p>Start from a ready program, adjust it, and publish when the storefront block reads right.</p>
      <div class="row">
        <label for="preset">Start from</label>
        <select id="preset" @change=${(e) => this.usePreset(e.target.value)}>
          <option value="">The current program</option>
          ${(this._presets ?? []).map((p) => html`<option value=${p.id}>${p.name}</option>`)}
        </select>
      </div>
      <h2 style="margin-top:12px">Storefront block</h2>
      <div class="block" id="storefront-block"><strong>Rewards</strong><p>${storefrontText(this._draft)}</p></div>
    </section>`;
  }

  renderPreview() {
    const p = this._preview;
    const rows = [['Points issued', 'issued'], ['Points redeemed', 'redeemed'], ['Points expired', 'expired'], ['Outstanding (liability)', 'outstanding']];
    return html`<section id="preview" aria-labelledby="preview-h" aria-busy=${this._previewing ? 'true' : 'false'}>
      <h2 id="preview-h">Preview on your last 12 months</h2>
      ${!p ? html`<p class="muted">Replaying…</p>` : p.error ? html`<div class="err" id="preview-error">${p.error.message}</div>` : html`
        <p class="muted" id="preview-events">${fmt.format(p.ok.events)} events replayed</p>
        <table id="preview-table">
          <tr><th>Figure</th><th class="num">In force</th><th class="num">Edited</th><th class="num">Difference</th></tr>
          ${rows.map(([label, k]) => html`<tr data-figure=${k}><td>${label}</td><td class="num current">${num(p.ok.current[k])}</td><td class="num proposed">${num(p.ok.proposed[k])}</td><td class="num">${diff(p.ok.current[k], p.ok.proposed[k])}</td></tr>`)}
          ${[...new Set([...Object.keys(p.ok.current.rewards ?? {}), ...Object.keys(p.ok.proposed.rewards ?? {})])].map((r) => html`<tr data-figure="reward:${r}"><td>Rewards: ${r}</td>
            <td class="num current">${num(p.ok.current.rewards?.[r] ?? 0)}</td><td class="num proposed">${num(p.ok.proposed.rewards?.[r] ?? 0)}</td><td class="num">${diff(p.ok.current.rewards?.[r] ?? 0, p.ok.proposed.rewards?.[r] ?? 0)}</td></tr>`)}
          ${p.ok.proposed.liability?.value != null ? html`<tr data-figure="liability"><td>Liability value</td><td class="num">${p.ok.current.liability?.value ?? '–'}</td><td class="num">${p.ok.proposed.liability.value}</td><td></td></tr>` : nothing}
        </table>`}
    </section>`;
  }

  renderVersions(owner) {
    const vs = this._versions ?? [];
    return html`<section id="versions" aria-labelledby="versions-h">
      <h2 id="versions-h">Versions</h2>
      ${vs.length === 0 ? html`<p class="muted">None published yet.</p>` : html`<table>
        <tr><th>Version</th><th>By</th><th>When</th><th>Note</th><th></th></tr>
        ${vs.map((v, i) => html`<tr data-version=${v.version}><td>${v.version}</td><td>${v.author}</td><td>${when(v.created_at)}</td><td>${v.note ?? ''}</td>
          <td>${owner && i > 0 ? html`<button @click=${() => this.rollback(v.version)} aria-label="Roll back to version ${v.version}">Roll back</button>` : i === 0 ? html`<span class="muted">in force</span>` : nothing}</td></tr>`)}
      </table>`}
    </section>`;
  }
}

if (globalThis.customElements && !customElements.get('loyalty-program-admin')) customElements.define('loyalty-program-admin', LoyaltyProgramAdmin);
