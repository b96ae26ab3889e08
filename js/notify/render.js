// Liquid rendering with liquidjs. HTML fields escape every output by default ({{ x | raw }}
// opts out); text fields (subjects, plain text, push, SMS) are rendered as they are.
import { Liquid } from 'liquidjs';
import { FIELDS, HTML_FIELDS } from './templates.js';

// Merchant templates are code the dispatcher runs: bounded in time, memory and size, so a
// loop of 50 million iterations is an error, not a stalled outbox.
const options = { strictFilters: true, strictVariables: false, cache: false, ownPropertyOnly: true, parseLimit: 1e6, renderLimit: 1000, memoryLimit: 1e7 };
const html = new Liquid({ ...options, outputEscape: 'escape' });
const text = new Liquid(options);

// Parsed templates by (engine, source): rendering one notification per customer must not
// re-parse the same source each time.
const parsed = new Map();
function parse(engine, source) {
  const key = `${engine === html ? 'h' : 't'}\u0000${source}`;
  let t = parsed.get(key);
  if (!t) {
    t = engine.parse(source);
    if (parsed.size > 2000) parsed.clear();
    parsed.set(key, t);
  }
  return t;
}

/** A Liquid error as {field, line, column, message}: the message without liquidjs's position suffix. */
export class TemplateError extends Error {
  constructor(field, err) {
    const [line, column] = err.token?.getPosition?.() ?? [null, null];
    const message = String(err.message ?? err).replace(/, line:\d+, col:\d+$/, '');
    super(`${field}${line ? ` (line ${line})` : ''}: ${message}`);
    Object.assign(this, { code: 'template_error', field, line, column, detail: message });
  }
  toJSON() { return { code: this.code, field: this.field, line: this.line, column: this.column, message: this.detail }; }
}

/** Checks that every field of a channel's template parses; throws TemplateError. */
export function check(channel, fields) {
  for (const f of FIELDS[channel] ?? []) {
    if (fields[f] == null) continue;
    try { parse(HTML_FIELDS.has(f) ? html : text, String(fields[f])); } catch (err) { throw new TemplateError(f, err); }
  }
}

/** Renders every field of a channel's template against data: {field: string}. */
export async function render(channel, fields, data) {
  const out = {};
  for (const f of FIELDS[channel] ?? []) {
    const source = fields[f];
    if (source == null) continue;
    const engine = HTML_FIELDS.has(f) ? html : text;
    try {
      out[f] = await engine.render(parse(engine, String(source)), data);
    } catch (err) {
      throw err instanceof TemplateError ? err : new TemplateError(f, err);
    }
    if (!HTML_FIELDS.has(f)) out[f] = out[f].replace(/[ \t]+\n/g, '\n');
  }
  if (out.subject != null) out.subject = out.subject.replace(/\s+/g, ' ').trim();
  if (out.title != null) out.title = out.title.replace(/\s+/g, ' ').trim();
  if (out.url != null) out.url = out.url.trim();
  return out;
}
