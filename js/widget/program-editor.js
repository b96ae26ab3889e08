// <loyalty-program-editor>: the merchant's program as a form built from its JSON Schema
// (js/schema/program.schema.json, generated from the Rust types), so a rule added to the
// engine appears here with no form code written for it. Reads what schemars emits, draft
// 2020-12 or draft-07: objects, maps (additionalProperties), arrays, enums (also as oneOf of
// documented consts), Option as anyOf/type with null, tagged unions (oneOf of objects told
// apart by a `type` const), untagged unions (an amount or a count), $ref into $defs or
// definitions, and descriptions as help text.
//
//   el.schema = schema; el.program = program;
//   el.addEventListener('change', (e) => preview(e.detail.program));
//   el.showErrors([{ path: 'rewards[0].coupon.type', message: 'unknown variant ...' }]);
//
// Every field carries data-path, the JSON path as the engine spells it, so an error the
// engine reports lands at its field.
import { LitElement, html, css, nothing } from 'lit';

// --- schema reading ----------------------------------------------------------------------
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

/** The schema behind $ref / single allOf, with the referring site's title, description and default on top. */
function deref(root, s, seen = new Set()) {
  if (!isObj(s)) return {};
  let out = s;
  if (typeof s.$ref === 'string' && !seen.has(s.$ref)) {
    seen.add(s.$ref);
    const parts = s.$ref.replace(/^#\/?/, '').split('/').filter(Boolean).map((p) => decodeURIComponent(p.replace(/~1/g, '/').replace(/~0/g, '~')));
    const target = parts.reduce((o, k) => (isObj(o) ? o[k] : undefined), root);
    const { $ref, ...site } = s;
    out = { ...deref(root, target, seen), ...site };
  }
  if (Array.isArray(out.allOf) && out.allOf.length === 1) {
    const { allOf, ...site } = out;
    out = { ...deref(root, allOf[0], seen), ...site };
  }
  return out;
}

const isNull = (s) => s.type === 'null' || (s.const === null);
const constOf = (s) => ('const' in s ? s.const : Array.isArray(s.enum) && s.enum.length === 1 ? s.enum[0] : undefined);

/**
 * What a schema is, for the form: {kind, nullable, ...}. Kinds: object, map, array, multi
 * (array of enum, unique: checkboxes), enum, tagged, union, string, integer, number, boolean, const, any.
 */
export function classify(root, raw) {
  let s = deref(root, raw);
  let nullable = false;
  const alts = s.oneOf ?? s.anyOf;
  if (Array.isArray(alts)) {
    const branches = alts.map((b) => deref(root, b));
    const real = branches.filter((b) => !isNull(b));
    nullable = real.length < branches.length;
    const site = { ...s };
    delete site.oneOf;
    delete site.anyOf;
    if (real.length === 1) return { ...classify(root, { ...real[0], ...pick(site) }), nullable: true };
    // Unit enum variants with doc comments: oneOf [{const: "floor", description}, ...].
    if (real.every((b) => constOf(b) !== undefined && !b.properties)) {
      return { kind: 'enum', schema: site, nullable, options: real.map((b) => ({ value: constOf(b), help: b.description ?? b.title })) };
    }
    // Internally tagged enum: every variant an object whose tag property is a const.
    const tag = ['type', 'kind', ...Object.keys(real[0]?.properties ?? {})].find((k) =>
      real.every((b) => b.properties && constOf(deref(root, b.properties[k])) !== undefined));
    if (tag) {
      return { kind: 'tagged', schema: site, nullable, tag, variants: real.map((b) => ({ value: constOf(deref(root, b.properties[tag])), schema: b })) };
    }
    return { kind: 'union', schema: site, nullable, branches: real };
  }
  let type = s.type;
  if (Array.isArray(type)) {
    nullable = type.includes('null');
    const rest = type.filter((t) => t !== 'null');
    type = rest.length === 1 ? rest[0] : undefined;
    if (rest.length > 1) return { kind: 'union', schema: s, nullable, branches: rest.map((t) => ({ ...s, type: t })) };
  }
  if ('const' in s) return { kind: 'const', schema: s, nullable, value: s.const };
  if (Array.isArray(s.enum)) {
    const values = s.enum.filter((v) => v !== null);
    return { kind: 'enum', schema: s, nullable: nullable || values.length < s.enum.length, options: values.map((value) => ({ value })) };
  }
  if (type === 'object' || (!type && (s.properties || s.additionalProperties))) {
    if (!s.properties && isObj(s.additionalProperties)) return { kind: 'map', schema: s, nullable, values: s.additionalProperties };
    return { kind: 'object', schema: s, nullable };
  }
  if (type === 'array') {
    const items = classify(root, s.items ?? {});
    // A list of choices (channels) as checkboxes, in the enum's order; schemars writes
    // uniqueItems only for sets, but a repeated choice means nothing in these lists either.
    if (items.kind === 'enum') return { kind: 'multi', schema: s, nullable, options: items.options };
    return { kind: 'array', schema: s, nullable, items: s.items ?? {} };
  }
  if (['string', 'integer', 'number', 'boolean'].includes(type)) return { kind: type, schema: s, nullable };
  return { kind: 'any', schema: s, nullable };
}

// The referring site's words win over the target's.
const pick = (s) => Object.fromEntries(['title', 'description', 'default'].filter((k) => k in s).map((k) => [k, s[k]]));

/** A starting value for a schema: its default, else the least a valid one needs. */
export function defaultFor(root, raw) {
  const c = classify(root, raw);
  if (c.schema.default !== undefined) return clone(c.schema.default);
  switch (c.kind) {
    case 'const': return c.value;
    case 'enum': case 'multi': return c.kind === 'enum' ? c.options[0]?.value : [];
    case 'tagged': return variantValue(root, c, c.variants[0], {});
    case 'union': return defaultFor(root, c.branches[0]);
    case 'object': {
      const out = {};
      for (const k of c.schema.required ?? []) if (c.schema.properties?.[k]) out[k] = defaultFor(root, c.schema.properties[k]);
      return out;
    }
    case 'map': return {};
    case 'array': return [];
    case 'string': return '';
    case 'integer': case 'number': return c.schema.minimum ?? 0;
    case 'boolean': return false;
    default: return null;
  }
}

// A tagged union's value switched to `variant`: keeps the fields the new variant also has.
function variantValue(root, c, variant, old) {
  const props = variant.schema.properties ?? {};
  const out = { [c.tag]: variant.value };
  for (const [k, v] of Object.entries(isObj(old) ? old : {})) if (k !== c.tag && k in props) out[k] = v;
  for (const k of variant.schema.required ?? []) if (!(k in out) && props[k]) out[k] = defaultFor(root, props[k]);
  return out;
}

// Schemas generated from Rust structs list properties alphabetically, but a merchant reads a
// program top-down: what it is, how points are earned, what they buy, when they expire. An
// `x-order` number in the schema wins; then these well-known keys; then required before
// optional; the schema's order breaks ties. Unknown keys still appear, only later.
const ORDER = ['id', 'name', 'type', 'currency', 'timezone', 'points_per_unit', 'value', 'points', 'earn', 'rewards', 'expiry', 'tiers', 'actions', 'referral', 'campaigns', 'notifications'];
export function orderedProps(s, first = () => 0) {
  const props = s.properties ?? {};
  const rank = (k) => {
    const explicit = props[k]?.['x-order'];
    if (typeof explicit === 'number') return explicit;
    const i = ORDER.indexOf(k);
    return i >= 0 ? 1000 + i : s.required?.includes(k) ? 2000 : 3000;
  };
  return Object.entries(props).map((e, i) => ({ e, i }))
    .sort((x, y) => first(x.e) - first(y.e) || rank(x.e[0]) - rank(y.e[0]) || x.i - y.i)
    .map(({ e }) => e);
}

// --- paths ---------------------------------------------------------------------------------
/** `['rewards', 0, 'coupon', 'type']` -> `rewards[0].coupon.type`, as the engine writes paths. */
export const pathText = (segs) => segs.reduce((out, k) => (typeof k === 'number' ? `${out}[${k}]` : out ? `${out}.${k}` : String(k)), '');
const parentPath = (p) => p.replace(/(\[\d+\]|\.?[^.[\]]+)$/, '');
// Element ids from paths: every character outside [A-Za-z0-9] escaped, so two paths never share one.
const idOf = (path) => `f-${path.replace(/[^A-Za-z0-9]/g, (ch) => `_${ch.charCodeAt(0).toString(16)}_`)}`;
const humanize = (k) => String(k).replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

function setIn(value, segs, next) {
  if (!segs.length) return next;
  const [k, ...rest] = segs;
  const copy = Array.isArray(value) ? [...value] : { ...(isObj(value) ? value : {}) };
  const child = setIn(copy[k], rest, next);
  if (child === undefined) {
    if (Array.isArray(copy)) copy.splice(k, 1);
    else delete copy[k];
  } else copy[k] = child;
  return copy;
}
const getIn = (value, segs) => segs.reduce((v, k) => (v == null ? undefined : v[k]), value);

// Kinds shown as one input; the rest get a section or a fieldset.
const SIMPLE = ['string', 'integer', 'number', 'boolean', 'enum', 'const'];

// --- the element ---------------------------------------------------------------------------
export class LoyaltyProgramEditor extends LitElement {
  static properties = {
    schema: { attribute: false },
    schemaSrc: { type: String, attribute: 'schema-src' },
    // For operators who may read the program but not change it (the viewer role).
    readonly: { type: Boolean, reflect: true },
    program: { attribute: false },
    _errors: { state: true },
  };

  static styles = css`
    :host { display: block; font: 15px/1.45 system-ui, sans-serif; color: #1d2330; }
    * { box-sizing: border-box; }
    form, fieldset.all { display: grid; gap: 10px; }
    fieldset.all { border: 0; padding: 0; }
    details.section { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; padding: 0 14px; }
    details.section > summary { font-weight: 600; padding: 12px 0; cursor: pointer; min-height: 44px; }
    details.section[open] { padding-bottom: 14px; }
    fieldset { border: 1px solid #dde1e8; border-radius: 6px; padding: 10px 12px; margin: 0; min-width: 0; display: grid; gap: 10px; }
    legend { font-weight: 600; padding: 0 4px; }
    .field { display: grid; gap: 3px; min-width: 0; }
    .field.check { grid-template-columns: auto 1fr; align-items: start; column-gap: 8px; }
    .field.check .help, .field.check .error { grid-column: 2; }
    label { font-weight: 500; }
    input:not([type='checkbox']), select { font: inherit; width: 100%; max-width: 28rem; min-height: 40px; padding: 6px 8px; border: 1px solid #8a93a3; border-radius: 4px; background: #fff; color: inherit; }
    input[type='checkbox'] { width: 20px; height: 20px; margin: 2px 0 0; }
    input[aria-invalid='true'], select[aria-invalid='true'] { border: 2px solid #b3261e; }
    .help { color: #4d5564; font-size: 13px; }
    .error { color: #b3261e; font-size: 13px; font-weight: 600; margin: 0; }
    .row { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
    .item-head { display: flex; gap: 6px; flex-wrap: wrap; justify-content: flex-end; }
    button { font: inherit; min-height: 40px; padding: 6px 12px; border-radius: 4px; border: 1px solid #2d5bd8; background: #fff; color: #1f47b3; cursor: pointer; }
    button.remove { border-color: #b3261e; color: #a3231b; }
    button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible { outline: 3px solid #2d5bd8; outline-offset: 2px; }
    .summary { border: 2px solid #b3261e; border-radius: 6px; padding: 10px 14px; background: #fdf0ef; }
    .summary h2 { font-size: 15px; margin: 0 0 6px; }
    .summary ul { margin: 0; padding-left: 18px; }
    .summary button { border: 0; background: none; color: #a3231b; text-decoration: underline; padding: 0; min-height: 0; text-align: left; }
    .checks { display: flex; flex-wrap: wrap; gap: 4px 16px; }
    .checks label { display: flex; gap: 6px; align-items: center; font-weight: 400; min-height: 32px; }
    @media (max-width: 560px) {
      :host { font-size: 16px; }
      details.section { padding: 0 10px; }
      fieldset { padding: 8px; }
      input:not([type='checkbox']), select { max-width: none; font-size: 16px; }
    }
  `;

  constructor() {
    super();
    this.schema = null;
    this.program = null;
    this.readonly = false;
    this._errors = new Map();
  }

  // schema-src="/admin/schema/program.schema.json": the schema fetched from there.
  async updated(changed) {
    if (changed.has('schemaSrc') && this.schemaSrc) {
      const res = await fetch(this.schemaSrc, { headers: { accept: 'application/json' } });
      if (res.ok) this.schema = await res.json();
      this.dispatchEvent(new CustomEvent(res.ok ? 'schema-loaded' : 'schema-error', { detail: { status: res.status } }));
    }
  }

  /** The edited program (also `event.detail.program` of each `change`). */
  get value() {
    return this.program;
  }

  // One edit: the new program replaces the old (never mutated: hosts may keep the old one).
  _edit(segs, next) {
    this.program = setIn(this.program ?? {}, segs, next);
    const path = pathText(segs);
    if ([...this._errors.keys()].some((p) => p === path || p.startsWith(path))) {
      this._errors = new Map([...this._errors].filter(([p]) => !(p === path || p.startsWith(`${path}.`) || p.startsWith(`${path}[`))));
    }
    this.dispatchEvent(new CustomEvent('change', { detail: { program: this.program, path }, bubbles: true, composed: true }));
  }

  /**
   * Shows errors at their fields: `[{path, message}]`, paths as the engine writes them. A path
   * with no field of its own (a missing key) shows at the nearest enclosing one. Opens the
   * sections holding them and focuses the first. Returns where each went.
   */
  async showErrors(errors = []) {
    await this.updateComplete;
    const rendered = new Set([...this.renderRoot.querySelectorAll('[data-path]')].map((e) => e.dataset.path));
    const map = new Map();
    const placed = [];
    for (const { path = '', message = '' } of errors) {
      let at = String(path);
      while (at && !rendered.has(at)) at = parentPath(at);
      const text = String(message).startsWith(`${path}: `) ? String(message).slice(path.length + 2) : String(message);
      map.set(at, [...(map.get(at) ?? []), path && at !== path ? `${path}: ${text}` : text]);
      placed.push({ path, at });
    }
    this._errors = map;
    await this.updateComplete;
    for (const at of map.keys()) {
      for (let el = this.renderRoot.querySelector(`[data-path="${CSS.escape(at)}"]`); el; el = el.parentElement) if (el.tagName === 'DETAILS') el.open = true;
    }
    const first = placed.find((p) => p.at !== '');
    if (first) this._focus(first.at);
    return placed;
  }

  _focus(path) {
    const box = this.renderRoot.querySelector(`[data-path="${CSS.escape(path)}"]`);
    for (let el = box; el; el = el.parentElement) if (el.tagName === 'DETAILS') el.open = true;
    const control = box?.matches('input, select, button') ? box : box?.querySelector('input, select, button, summary');
    control?.focus();
  }

  render() {
    if (!this.schema) return html`<p>No program schema.</p>`;
    const root = this.schema;
    const c = classify(root, root);
    const program = this.program ?? defaultFor(root, root);
    const errors = [...this._errors];
    return html`
      ${errors.length ? html`<div class="summary" role="alert" id="error-summary">
        <h2>Please fix ${errors.length === 1 ? 'this' : 'these'} before publishing</h2>
        <ul>${errors.map(([at, msgs]) => msgs.map((m) => html`<li>${at ? html`<button type="button" @click=${() => this._focus(at)}>${m}</button>` : m}</li>`))}</ul>
      </div>` : nothing}
      <form @submit=${(e) => e.preventDefault()} aria-label=${c.schema.title ?? 'Program'} novalidate>
        <fieldset class="all" ?disabled=${this.readonly}>
        ${orderedProps(c.schema, ([, ps]) => (SIMPLE.includes(classify(root, ps).kind) ? 0 : 1)).map(([key, s]) => {
          const sc = classify(root, s);
          const simple = SIMPLE.includes(sc.kind);
          const label = deref(root, s).title ?? humanize(key);
          return simple
            ? this._field(s, program?.[key], [key], { label, required: c.schema.required?.includes(key) })
            : html`<details class="section" data-section=${key} ?open=${key === 'earn' || key === 'rewards'}>
                <summary>${label}</summary>
                ${this._field(s, program?.[key], [key], { label, required: c.schema.required?.includes(key), bare: true })}
              </details>`;
        })}
        </fieldset>
      </form>
    `;
  }

  // A field of any kind. `bare`: the section summary already names it (no legend).
  _field(raw, value, segs, { label, required = false, bare = false, onRemove = null }) {
    const root = this.schema;
    const c = classify(root, raw);
    const path = pathText(segs);
    const id = idOf(path);
    const help = c.schema.description;
    const errs = this._errors.get(path);
    const describedBy = [help ? `${id}-help` : '', errs ? `${id}-err` : ''].filter(Boolean).join(' ') || nothing;
    const helpEl = help ? html`<span class="help" id="${id}-help">${help}</span>` : nothing;
    const errEl = errs ? html`<p class="error" id="${id}-err">${errs.join('; ')}</p>` : nothing;
    const invalid = errs ? 'true' : nothing;
    const optional = !required;
    const present = value !== undefined && value !== null;

    // Optional structured values start absent, with a button to add them (a map, like a
    // list, shows its own "add" row instead).
    if (!present && optional && ['object', 'tagged', 'union'].includes(c.kind)) {
      return html`<div class="field" data-path=${path}>
        ${helpEl}
        <div class="row"><button type="button" class="add" aria-describedby=${describedBy} @click=${() => this._edit(segs, defaultFor(root, raw))}>Add ${label.toLowerCase()}</button></div>
        ${errEl}
      </div>`;
    }
    const removeBtn = onRemove
      ? html`<button type="button" class="remove" @click=${onRemove}>Remove ${label.toLowerCase()}</button>`
      : optional && present && ['object', 'map', 'tagged', 'union'].includes(c.kind)
        ? html`<button type="button" class="remove" @click=${() => this._edit(segs, undefined)}>Remove ${label.toLowerCase()}</button>`
        : nothing;

    switch (c.kind) {
      case 'object': case 'map': case 'tagged': {
        const body = c.kind === 'object' ? this._props(c.schema, value, segs)
          : c.kind === 'map' ? this._map(c, value, segs, label)
          : this._tagged(c, value, segs, label);
        return bare
          ? html`<div class="group" data-path=${path}>${helpEl}${errEl}${body}${removeBtn !== nothing ? html`<div class="row">${removeBtn}</div>` : nothing}</div>`
          : html`<fieldset data-path=${path} aria-describedby=${describedBy}><legend>${label}</legend>${helpEl}${errEl}${body}${removeBtn !== nothing ? html`<div class="row">${removeBtn}</div>` : nothing}</fieldset>`;
      }
      case 'array': return this._array(c, value, segs, label, { bare, helpEl, errEl, describedBy });
      case 'multi': {
        const chosen = Array.isArray(value) ? value : [];
        return html`<fieldset data-path=${path} aria-describedby=${describedBy}><legend>${label}</legend>${helpEl}
          <div class="checks">${c.options.map((o) => html`<label><input type="checkbox" .checked=${chosen.includes(o.value)}
            @change=${(e) => this._edit(segs, e.target.checked ? [...chosen, o.value].sort((a, b) => c.options.findIndex((x) => x.value === a) - c.options.findIndex((x) => x.value === b)) : chosen.filter((x) => x !== o.value))}>${String(o.value)}</label>`)}</div>
          ${errEl}</fieldset>`;
      }
      case 'union': {
        const at = Math.max(0, c.branches.findIndex((b) => matches(root, b, value)));
        const branch = c.branches[at];
        const name = (b) => { const bc = classify(root, b); return b.title ?? (bc.kind === 'string' ? 'text' : bc.kind === 'integer' ? 'whole number' : bc.kind); };
        // The value's own field carries the path (errors land at the input, not the kind).
        return html`<fieldset aria-describedby=${help ? `${id}-help` : nothing}><legend>${label}</legend>${helpEl}
          <div class="field"><label for="${id}-kind">${label}: kind</label>
            <select id="${id}-kind" @change=${(e) => this._edit(segs, defaultFor(root, c.branches[Number(e.target.value)]))}>
              ${c.branches.map((b, i) => html`<option value=${i} ?selected=${i === at}>${name(b)}</option>`)}</select></div>
          ${this._field({ ...branch, description: undefined }, value, segs, { label: `${label} value`, required: true })}
          ${removeBtn}</fieldset>`;
      }
      case 'const': return nothing;
      default: return this._input(c, value, segs, { label, required, id, helpEl, errEl, describedBy, invalid, path });
    }
  }

  _input(c, value, segs, { label, required, id, helpEl, errEl, describedBy, invalid, path }) {
    const s = c.schema;
    const optional = !required;
    if (c.kind === 'boolean') {
      const checked = value ?? s.default ?? false;
      return html`<div class="field check" data-path=${path}>
        <input type="checkbox" id=${id} .checked=${checked} aria-describedby=${describedBy} aria-invalid=${invalid} @change=${(e) => this._edit(segs, e.target.checked)}>
        <label for=${id}>${label}</label>${helpEl}${errEl}</div>`;
    }
    if (c.kind === 'enum') {
      const fallback = s.default ?? null;
      const opts = c.options;
      return html`<div class="field" data-path=${path}>
        <label for=${id}>${label}</label>
        <select id=${id} aria-describedby=${describedBy} aria-invalid=${invalid}
          @change=${(e) => this._edit(segs, e.target.value === '' ? undefined : opts[Number(e.target.value)].value)}>
          ${optional || value === undefined ? html`<option value="" ?selected=${value === undefined}>${fallback != null ? `Default (${fallback})` : optional ? 'Not set' : 'Choose…'}</option>` : nothing}
          ${opts.map((o, i) => html`<option value=${i} ?selected=${o.value === value}>${String(o.value)}${o.help ? ` – ${o.help}` : ''}</option>`)}
          ${value !== undefined && !opts.some((o) => o.value === value) ? html`<option value="" selected disabled>${String(value)} (unknown)</option>` : nothing}
        </select>${helpEl}${errEl}</div>`;
    }
    const numeric = c.kind === 'integer' || c.kind === 'number';
    const decimalText = c.kind === 'string' && /\[0-9\]|\\d/.test(s.pattern ?? '') && !/^\^P/.test(s.pattern ?? '');
    const type = numeric ? 'number' : s.format === 'date' ? 'date' : 'text';
    const onInput = (e) => {
      const raw = e.target.value;
      if (raw === '') return this._edit(segs, optional ? undefined : numeric ? getIn(this.program, segs) : '');
      if (numeric) {
        const n = Number(raw);
        if (!Number.isFinite(n) || (c.kind === 'integer' && !Number.isInteger(n))) return;
        return this._edit(segs, n);
      }
      return this._edit(segs, raw);
    };
    const placeholder = s.default !== undefined ? String(s.default) : s.examples?.[0] ?? nothing;
    return html`<div class="field" data-path=${path}>
      <label for=${id}>${label}${required ? html`<span aria-hidden="true"> *</span>` : nothing}</label>
      <input id=${id} type=${type} .value=${value == null ? '' : String(value)} ?required=${required}
        inputmode=${numeric ? (c.kind === 'integer' ? 'numeric' : 'decimal') : decimalText ? 'decimal' : nothing}
        step=${c.kind === 'integer' ? '1' : c.kind === 'number' ? 'any' : nothing}
        min=${s.minimum ?? nothing} max=${s.maximum ?? nothing} placeholder=${placeholder}
        autocomplete="off" spellcheck="false"
        aria-describedby=${describedBy} aria-invalid=${invalid} @input=${onInput}>
      ${helpEl}${errEl}</div>`;
  }

  // An object's properties: all present ones, every simple one (empty = not set), and an
  // "Add ..." button for each absent structured one.
  _props(s, value, segs) {
    const v = isObj(value) ? value : {};
    return orderedProps(s).map(([key, ps]) =>
      this._field(ps, v[key], [...segs, key], { label: deref(this.schema, ps).title ?? humanize(key), required: s.required?.includes(key) }));
  }

  _map(c, value, segs, label) {
    const entries = Object.entries(isObj(value) ? value : {});
    const path = pathText(segs);
    const id = idOf(path);
    const add = (e) => {
      e.preventDefault();
      const input = this.renderRoot.getElementById(`${id}-new`);
      const key = input.value.trim();
      if (!key || key in (value ?? {})) return void input.focus();
      input.value = '';
      this._edit([...segs, key], defaultFor(this.schema, c.values));
    };
    return html`
      ${entries.map(([key, v]) => this._field(c.values, v, [...segs, key], { label: key, required: true, onRemove: () => this._edit([...segs, key], undefined) }))}
      <div class="row">
        <div class="field"><label for="${id}-new">New ${label.toLowerCase()} name</label>
          <input id="${id}-new" type="text" autocomplete="off" @keydown=${(e) => e.key === 'Enter' && add(e)}></div>
        <button type="button" class="add" @click=${add}>Add</button>
      </div>`;
  }

  _tagged(c, value, segs, label) {
    const root = this.schema;
    const v = isObj(value) ? value : {};
    const at = c.variants.findIndex((x) => x.value === v[c.tag]);
    const variant = c.variants[at] ?? null;
    const tagPath = pathText([...segs, c.tag]);
    const id = idOf(tagPath);
    const errs = this._errors.get(tagPath);
    const s = variant?.schema ?? {};
    return html`
      <div class="field" data-path=${tagPath}>
        <label for=${id}>${humanize(c.tag)}</label>
        <select id=${id} aria-invalid=${errs ? 'true' : nothing} aria-describedby=${errs ? `${id}-err` : nothing}
          @change=${(e) => this._edit(segs, variantValue(root, c, c.variants[Number(e.target.value)], v))}>
          ${variant ? nothing : html`<option value="" selected disabled>${v[c.tag] === undefined ? 'Choose…' : `${v[c.tag]} (unknown)`}</option>`}
          ${c.variants.map((x, i) => html`<option value=${i} ?selected=${i === at}>${x.schema.title ?? humanize(x.value)}</option>`)}
        </select>
        ${errs ? html`<p class="error" id="${id}-err">${errs.join('; ')}</p>` : nothing}
      </div>
      ${orderedProps(s).filter(([k]) => k !== c.tag).map(([key, ps]) =>
        this._field(ps, v[key], [...segs, key], { label: deref(root, ps).title ?? humanize(key), required: s.required?.includes(key) }))}`;
  }

  _array(c, value, segs, label, { bare, helpEl, errEl, describedBy }) {
    const root = this.schema;
    const list = Array.isArray(value) ? value : [];
    const path = pathText(segs);
    const ic = classify(root, c.items);
    const itemLabel = deref(root, c.items).title ?? singular(label);
    const structured = ['object', 'map', 'tagged', 'union', 'array'].includes(ic.kind);
    const move = (i, d) => {
      const next = [...list];
      [next[i], next[i + d]] = [next[i + d], next[i]];
      this._edit(segs, next);
    };
    const items = list.map((item, i) => {
      const name = isObj(item) ? item.name ?? item.id : null;
      const title = `${itemLabel} ${i + 1}${name ? `: ${name}` : ''}`;
      const controls = html`<div class="item-head">
        ${i > 0 ? html`<button type="button" @click=${() => move(i, -1)} aria-label="Move ${title} up">Up</button>` : nothing}
        ${i < list.length - 1 ? html`<button type="button" @click=${() => move(i, 1)} aria-label="Move ${title} down">Down</button>` : nothing}
        <button type="button" class="remove" @click=${() => this._edit([...segs, i], undefined)} aria-label="Remove ${title}">Remove</button></div>`;
      if (!structured) {
        return html`<div class="row">${this._field(c.items, item, [...segs, i], { label: title, required: true })}${controls}</div>`;
      }
      const ip = pathText([...segs, i]);
      return html`<fieldset data-path=${ip}><legend>${title}</legend>
        ${ic.kind === 'object' ? this._props(ic.schema, item, [...segs, i]) : this._field(c.items, item, [...segs, i], { label: title, required: true, bare: true })}
        ${this._errors.get(ip) ? html`<p class="error">${this._errors.get(ip).join('; ')}</p>` : nothing}
        ${controls}</fieldset>`;
    });
    const add = html`<div class="row"><button type="button" class="add" @click=${() => this._edit(segs, [...list, defaultFor(root, c.items)])}>Add ${itemLabel.toLowerCase()}</button></div>`;
    return bare
      ? html`<div class="group" data-path=${path}>${helpEl}${errEl}${items}${add}</div>`
      : html`<fieldset data-path=${path} aria-describedby=${describedBy}><legend>${label}</legend>${helpEl}${errEl}${items}${add}</fieldset>`;
  }
}

const singular = (label) => label.replace(/ies$/, 'y').replace(/s$/, '');

// Whether a value fits a branch of an untagged union (by JSON type).
function matches(root, branch, value) {
  const k = classify(root, branch).kind;
  if (value === undefined || value === null) return false;
  if (k === 'integer') return Number.isInteger(value);
  if (k === 'number') return typeof value === 'number';
  if (k === 'string' || k === 'enum') return typeof value === 'string';
  if (k === 'boolean') return typeof value === 'boolean';
  if (k === 'array' || k === 'multi') return Array.isArray(value);
  return isObj(value);
}

// Defined where there is a DOM, once (server-side imports just get the class).
if (globalThis.customElements && !customElements.get('loyalty-program-editor')) customElements.define('loyalty-program-editor', LoyaltyProgramEditor);
