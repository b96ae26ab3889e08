// <loyalty-account base="/apps/loyalty" customer-token="..." locale="nb">: the customer's own
// loyalty page. It talks only to the customer-scoped storefront routes (CONTRACT.md): the
// platform vouches for the customer (Shopify's signed app proxy under `base`, or the backend's
// `/storefront` with `customer-token`, the short-lived token the store signed for this
// customer, as <loyalty-balance> takes it), so no secret and no admin token is ever here.
//
// Routes under `base`, and the answers it reads (fields it does not know are ignored):
//   GET  account      {balance, pending, tier, tier_progress, next_expiry, coupons, currency?, timezone?,
//                      catalogue: [{id, name, points, coupon, available?}], progress?: {reward, needed}}
//   GET  coupons      {coupons: [{code, type, value, min_order, expires_at, status}]}
//   GET  history?cursor=  {entries: [{type, points, balance_after, reason, at}], next}
//   POST redeem {reward}  {coupon?, account?}
//   GET|PUT preferences   {locale, opt_out: [], birthday, newsletter}
//   POST actions {action} (birthday, newsletter, social_follow, social_share)
//   GET  referral     {url, code}
// Errors: {"error": {code, path, message}}.
//
// A reward push opens this page at #discounts: the coupons section scrolls into view.
import { LitElement, html, css, nothing } from 'lit';
import { createStorefrontClient, tokenChanged, tokenRefresher } from './api.js';

// --- texts -------------------------------------------------------------------------------
const MESSAGES = {
  en: {
    title: 'Your rewards', points: 'points', balance: 'Your points', pending: '{n} pending', expires: '{n} points expire on {date}',
    toReward: '{n} more points to {reward}', enoughFor: 'You have enough for {reward}', tier: 'Tier', toTier: '{need} more to {tier}',
    spend: 'Spend {amount}', orders: '{n} orders', discounts: 'Your discount codes', noCoupons: 'No discount codes yet.',
    copy: 'Copy', copyCode: 'Copy code {code}', copied: 'Copied {code}', until: 'valid until {date}', minOrder: 'on orders from {amount}',
    percentOff: '{value}% off', amountOff: '{value} off', freeShipping: 'Free shipping', freeProduct: 'A free product',
    catalogue: 'Rewards to choose', redeem: 'Redeem for {n} points', needMore: 'You need {n} more points',
    redeemed: 'Done: your code is {code}', history: 'History', noHistory: 'Nothing here yet.', more: 'Show more',
    date: 'Date', what: 'What', change: 'Points',
    prefs: 'Contact preferences', noEmail: 'No emails', noPush: 'No push notifications', noSms: 'No text messages', language: 'Language',
    save: 'Save', saved: 'Saved', birthday: 'Birthday', birthdayHelp: 'Tell us once and get a treat on your birthday. It cannot be changed later.',
    birthdaySet: 'Your birthday: {date}', saveBirthday: 'Save birthday', refer: 'Invite a friend', referHelp: 'Share your link: your friend gets a welcome gift, and you get points on their first order.',
    link: 'Your link', share: 'Share', earnMore: 'More ways to earn', newsletter: 'Sign up for the newsletter', newsletterDone: 'You are signed up for the newsletter',
    follow: 'Follow us', shareShop: 'Share the shop', thanks: 'Thank you!', error: 'Something went wrong: {message}', loading: 'Loading…',
    type_earn: 'Earned', type_reverse: 'Returned order', type_redeem: 'Redeemed', type_expire: 'Expired', type_adjust: 'Adjustment',
    type_release: 'Released', type_restore: 'Given back', type_action: 'Bonus', type_forgive: 'Forgiven', type_donate: 'Donated',
  },
  nb: {
    title: 'Dine fordeler', points: 'poeng', balance: 'Dine poeng', pending: '{n} venter', expires: '{n} poeng utløper {date}',
    toReward: '{n} poeng til {reward}', enoughFor: 'Du har nok til {reward}', tier: 'Nivå', toTier: '{need} til {tier}',
    spend: 'Handle for {amount}', orders: '{n} bestillinger', discounts: 'Dine rabattkoder', noCoupons: 'Ingen rabattkoder ennå.',
    copy: 'Kopier', copyCode: 'Kopier koden {code}', copied: 'Kopierte {code}', until: 'gyldig til {date}', minOrder: 'ved kjøp fra {amount}',
    percentOff: '{value} % rabatt', amountOff: '{value} rabatt', freeShipping: 'Gratis frakt', freeProduct: 'Et gratis produkt',
    catalogue: 'Velg en belønning', redeem: 'Løs inn for {n} poeng', needMore: 'Du trenger {n} poeng til',
    redeemed: 'Ferdig: koden din er {code}', history: 'Historikk', noHistory: 'Ingenting her ennå.', more: 'Vis flere',
    date: 'Dato', what: 'Hva', change: 'Poeng',
    prefs: 'Kontaktvalg', noEmail: 'Ingen e-post', noPush: 'Ingen push-varsler', noSms: 'Ingen SMS', language: 'Språk',
    save: 'Lagre', saved: 'Lagret', birthday: 'Bursdag', birthdayHelp: 'Fortell oss én gang og få en overraskelse på bursdagen din. Den kan ikke endres senere.',
    birthdaySet: 'Bursdagen din: {date}', saveBirthday: 'Lagre bursdag', refer: 'Inviter en venn', referHelp: 'Del lenken din: vennen din får en velkomstgave, og du får poeng på vennens første bestilling.',
    link: 'Lenken din', share: 'Del', earnMore: 'Flere måter å tjene poeng', newsletter: 'Meld deg på nyhetsbrevet', newsletterDone: 'Du er påmeldt nyhetsbrevet',
    follow: 'Følg oss', shareShop: 'Del butikken', thanks: 'Takk!', error: 'Noe gikk galt: {message}', loading: 'Laster …',
    type_earn: 'Opptjent', type_reverse: 'Retur', type_redeem: 'Innløst', type_expire: 'Utløpt', type_adjust: 'Justering',
    type_release: 'Frigitt', type_restore: 'Tilbakeført', type_action: 'Bonus', type_forgive: 'Ettergitt', type_donate: 'Donert',
  },
  sv: {
    title: 'Dina förmåner', points: 'poäng', balance: 'Dina poäng', pending: '{n} väntande', expires: '{n} poäng går ut {date}',
    toReward: '{n} poäng kvar till {reward}', enoughFor: 'Du har tillräckligt för {reward}', tier: 'Nivå', toTier: '{need} kvar till {tier}',
    spend: 'Handla för {amount}', orders: '{n} beställningar', discounts: 'Dina rabattkoder', noCoupons: 'Inga rabattkoder än.',
    copy: 'Kopiera', copyCode: 'Kopiera koden {code}', copied: 'Kopierade {code}', until: 'giltig till {date}', minOrder: 'vid köp från {amount}',
    percentOff: '{value} % rabatt', amountOff: '{value} rabatt', freeShipping: 'Fri frakt', freeProduct: 'En gratis produkt',
    catalogue: 'Välj en belöning', redeem: 'Lös in för {n} poäng', needMore: 'Du behöver {n} poäng till',
    redeemed: 'Klart: din kod är {code}', history: 'Historik', noHistory: 'Inget här än.', more: 'Visa fler',
    date: 'Datum', what: 'Vad', change: 'Poäng',
    prefs: 'Kontaktval', noEmail: 'Inga mejl', noPush: 'Inga pushnotiser', noSms: 'Inga sms', language: 'Språk',
    save: 'Spara', saved: 'Sparat', birthday: 'Födelsedag', birthdayHelp: 'Berätta en gång och få en överraskning på din födelsedag. Den kan inte ändras senare.',
    birthdaySet: 'Din födelsedag: {date}', saveBirthday: 'Spara födelsedag', refer: 'Bjud in en vän', referHelp: 'Dela din länk: din vän får en välkomstgåva och du får poäng på vännens första beställning.',
    link: 'Din länk', share: 'Dela', earnMore: 'Fler sätt att tjäna poäng', newsletter: 'Prenumerera på nyhetsbrevet', newsletterDone: 'Du prenumererar på nyhetsbrevet',
    follow: 'Följ oss', shareShop: 'Dela butiken', thanks: 'Tack!', error: 'Något gick fel: {message}', loading: 'Laddar …',
    type_earn: 'Intjänat', type_reverse: 'Retur', type_redeem: 'Inlöst', type_expire: 'Utgånget', type_adjust: 'Justering',
    type_release: 'Frigjort', type_restore: 'Återfört', type_action: 'Bonus', type_forgive: 'Efterskänkt', type_donate: 'Skänkt',
  },
  es: {
    title: 'Tus recompensas', points: 'puntos', balance: 'Tus puntos', pending: '{n} pendientes', expires: '{n} puntos caducan el {date}',
    toReward: 'Te faltan {n} puntos para {reward}', enoughFor: 'Tienes suficiente para {reward}', tier: 'Nivel', toTier: 'Te falta {need} para {tier}',
    spend: 'gastar {amount}', orders: '{n} pedidos', discounts: 'Tus códigos de descuento', noCoupons: 'Aún no tienes códigos de descuento.',
    copy: 'Copiar', copyCode: 'Copiar el código {code}', copied: 'Copiado {code}', until: 'válido hasta el {date}', minOrder: 'en pedidos desde {amount}',
    percentOff: '{value} % de descuento', amountOff: '{value} de descuento', freeShipping: 'Envío gratis', freeProduct: 'Un producto gratis',
    catalogue: 'Recompensas para elegir', redeem: 'Canjear por {n} puntos', needMore: 'Te faltan {n} puntos',
    redeemed: 'Hecho: tu código es {code}', history: 'Historial', noHistory: 'Todavía no hay nada.', more: 'Ver más',
    date: 'Fecha', what: 'Qué', change: 'Puntos',
    prefs: 'Preferencias de contacto', noEmail: 'Sin correos', noPush: 'Sin notificaciones push', noSms: 'Sin SMS', language: 'Idioma',
    save: 'Guardar', saved: 'Guardado', birthday: 'Cumpleaños', birthdayHelp: 'Dínoslo una vez y recibe un regalo en tu cumpleaños. No se puede cambiar después.',
    birthdaySet: 'Tu cumpleaños: {date}', saveBirthday: 'Guardar cumpleaños', refer: 'Invita a un amigo', referHelp: 'Comparte tu enlace: tu amigo recibe un regalo de bienvenida y tú ganas puntos con su primer pedido.',
    link: 'Tu enlace', share: 'Compartir', earnMore: 'Más formas de ganar puntos', newsletter: 'Suscríbete al boletín', newsletterDone: 'Estás suscrito al boletín',
    follow: 'Síguenos', shareShop: 'Comparte la tienda', thanks: '¡Gracias!', error: 'Algo salió mal: {message}', loading: 'Cargando…',
    type_earn: 'Ganados', type_reverse: 'Devolución', type_redeem: 'Canjeados', type_expire: 'Caducados', type_adjust: 'Ajuste',
    type_release: 'Liberados', type_restore: 'Devueltos', type_action: 'Bonificación', type_forgive: 'Condonados', type_donate: 'Donados',
  },
};
export const LOCALES = Object.keys(MESSAGES);
const LANGUAGE_NAMES = { en: 'English', nb: 'Norsk bokmål', sv: 'Svenska', es: 'Español' };

/** The supported locale for a tag ('nb-NO' -> 'nb', 'no' -> 'nb'), or null. */
export function pickLocale(tag) {
  const base = String(tag ?? '').toLowerCase().split(/[-_]/)[0];
  const mapped = base === 'no' || base === 'nn' ? 'nb' : base;
  return LOCALES.includes(mapped) ? mapped : null;
}

const CHANNELS = [['email', 'noEmail'], ['push', 'noPush'], ['sms', 'noSms']];
// Links from attributes and the server go into href and share sheets: web addresses only
// (never javascript: or data:).
const webUrl = (u) => (/^https?:\/\//i.test(String(u ?? '')) ? String(u) : '');

// --- the element ---------------------------------------------------------------------------
export class LoyaltyAccount extends LitElement {
  static properties = {
    base: { type: String },
    customerToken: { type: String, attribute: 'customer-token' },
    locale: { type: String },
    followUrl: { type: String, attribute: 'follow-url' },
    shopUrl: { type: String, attribute: 'shop-url' },
    _account: { state: true },
    _coupons: { state: true },
    _history: { state: true },
    _next: { state: true },
    _prefs: { state: true },
    _referral: { state: true },
    _status: { state: true },
    _error: { state: true },
    _busy: { state: true },
  };

  static styles = css`
    :host { display: block; font: 16px/1.5 system-ui, sans-serif; color: #1d2330; }
    * { box-sizing: border-box; }
    .grid { display: grid; gap: 12px; grid-template-columns: minmax(0, 1fr); }
    @media (min-width: 720px) { .grid { grid-template-columns: repeat(2, minmax(0, 1fr)); } .wide { grid-column: 1 / -1; } }
    section { background: #fff; border: 1px solid #dde1e8; border-radius: 10px; padding: 14px 16px; min-width: 0; }
    h2 { font-size: 17px; margin: 0 0 8px; }
    h3 { font-size: 15px; margin: 12px 0 6px; }
    .big { font-size: 34px; font-weight: 700; font-variant-numeric: tabular-nums; line-height: 1.1; }
    .muted { color: #4d5564; font-size: 14px; }
    progress { width: 100%; height: 12px; }
    ul.plain { list-style: none; margin: 0; padding: 0; display: grid; gap: 8px; }
    .coupon { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; justify-content: space-between; border: 1px dashed #8a93a3; border-radius: 8px; padding: 8px 10px; }
    .code { font: 600 17px/1.3 ui-monospace, monospace; letter-spacing: 0.04em; word-break: break-all; user-select: all; }
    .reward { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; justify-content: space-between; }
    a.button { display: inline-flex; align-items: center; text-decoration: none; }
    button, a.button { font: inherit; min-height: 44px; padding: 8px 14px; border-radius: 6px; border: 1px solid #1f47b3; background: #fff; color: #1f47b3; cursor: pointer; }
    button.primary { background: #1f47b3; color: #fff; }
    button[disabled] { border-color: #8a93a3; color: #4d5564; background: #f1f2f4; cursor: not-allowed; }
    button:focus-visible, a.button:focus-visible, input:focus-visible, select:focus-visible, a:focus-visible { outline: 3px solid #1f47b3; outline-offset: 2px; }
    input, select { font: inherit; min-height: 44px; padding: 6px 10px; border: 1px solid #8a93a3; border-radius: 6px; width: 100%; background: #fff; color: inherit; }
    input[type='checkbox'] { width: 22px; height: 22px; min-height: 0; margin: 0; }
    label.check { display: flex; gap: 10px; align-items: center; min-height: 44px; }
    .field { display: grid; gap: 4px; margin-bottom: 10px; }
    .row { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
    table { width: 100%; border-collapse: collapse; font-size: 15px; }
    th, td { text-align: left; padding: 6px 4px; border-bottom: 1px solid #eceef2; vertical-align: top; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
    .pos { color: #0f6b2b; } .neg { color: #a3231b; }
    .status { min-height: 1.5em; }
    .err { color: #a3231b; font-weight: 600; }
    .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  `;

  constructor() {
    super();
    this.base = '';
    this.customerToken = '';
    this.locale = '';
    this.followUrl = '';
    this.shopUrl = '';
    this._history = [];
    this._next = null;
    this._onHash = () => this._scrollToHash();
  }

  get lang() {
    return pickLocale(this.locale) ?? pickLocale(this._prefs?.locale) ?? pickLocale(globalThis.navigator?.language) ?? 'en';
  }

  // Dates and numbers in the browser's own variant when it speaks the page's language
  // (en-GB: 24 Nov 2026), else in the language's default.
  get formatLocale() {
    const nav = globalThis.navigator?.language;
    return nav && pickLocale(nav) === this.lang ? nav : this.lang;
  }

  /** A text in the page's locale, with {placeholders} filled. */
  t(key, vars = {}) {
    const text = MESSAGES[this.lang][key] ?? MESSAGES.en[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? `{${k}}`));
  }

  get api() {
    if (this._client?.base !== this.base || this._client?.customerToken !== this.customerToken) {
      this._client = { base: this.base, customerToken: this.customerToken, call: createStorefrontClient({ base: this.base, customerToken: this.customerToken, refreshToken: tokenRefresher(this) }).call };
    }
    return this._client.call;
  }

  connectedCallback() {
    super.connectedCallback();
    globalThis.addEventListener?.('hashchange', this._onHash);
    this.load();
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    globalThis.removeEventListener?.('hashchange', this._onHash);
  }

  updated(changed) {
    if ((changed.has('base') && changed.get('base') !== undefined) || (tokenChanged(this, changed) && changed.get('customerToken') !== undefined)) this.load();
    if (changed.has('locale') || changed.has('_prefs')) this.setAttribute('lang', this.lang);
  }

  // Runs a call; an error shows in the live region (its message from the server).
  async _run(fn) {
    this._error = null;
    try {
      return await fn();
    } catch (err) {
      this._error = this.t('error', { message: err.message });
      return undefined;
    }
  }

  /** Loads everything the page shows. */
  async load() {
    await this._run(async () => {
      const [account, coupons, history, prefs, referral] = await Promise.all([
        this.api('GET', '/account'),
        this.api('GET', '/coupons').catch(() => null),
        this.api('GET', '/history').catch(() => null),
        this.api('GET', '/preferences').catch(() => null),
        this.api('GET', '/referral').catch(() => null),
      ]);
      this._account = account;
      this._coupons = coupons?.coupons ?? account.coupons ?? [];
      this._history = history?.entries ?? [];
      this._next = history?.next ?? null;
      this._prefs = prefs;
      this._referral = referral;
    });
    await this.updateComplete;
    // Only on arrival: a reload after a redeem must not move the customer's focus.
    if (!this._arrived && this._account) {
      this._arrived = true;
      this._scrollToHash();
    }
  }

  // A reward push opens the discounts: #discounts, or a path ending in /discounts (the
  // dispatcher's default NOTIFY_DISCOUNTS_PATH is /account/discounts).
  _scrollToHash() {
    const { hash = '', pathname = '' } = globalThis.location ?? {};
    if (hash !== '#discounts' && !(hash === '' && /\/discounts\/?$/.test(pathname))) return;
    const h = this.renderRoot.querySelector('#discounts h2');
    h?.scrollIntoView({ block: 'start' });
    h?.focus({ preventScroll: true });
  }

  async moreHistory() {
    const out = await this._run(() => this.api('GET', `/history?cursor=${encodeURIComponent(this._next)}`));
    if (!out) return;
    this._history = [...this._history, ...out.entries];
    this._next = out.next ?? null;
  }

  async copy(code) {
    let ok = false;
    try {
      await navigator.clipboard.writeText(code);
      ok = true;
    } catch {
      // No clipboard API (an insecure page, a denied permission): select the code so the
      // customer can copy it by hand, and try the old command.
      const el = this.renderRoot.querySelector(`[data-code="${CSS.escape(code)}"] .code`);
      const range = document.createRange();
      range.selectNodeContents(el);
      const sel = globalThis.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      ok = document.execCommand?.('copy') ?? false;
    }
    this._status = ok ? this.t('copied', { code }) : code;
  }

  async redeem(reward) {
    // Busy is not disabled: a disabled button would drop the keyboard focus.
    if (this._busy) return;
    this._busy = reward.id;
    const out = await this._run(() => this.api('POST', '/redeem', { reward: reward.id }));
    this._busy = null;
    if (!out) return;
    const code = out.coupon?.code;
    this._status = code ? this.t('redeemed', { code }) : this.t('thanks');
    this.dispatchEvent(new CustomEvent('redeemed', { detail: out, bubbles: true, composed: true }));
    await this.load();
    this._status = code ? this.t('redeemed', { code }) : this.t('thanks');
  }

  async savePrefs(e) {
    e.preventDefault();
    const f = e.target;
    const body = {
      locale: f.locale.value,
      opt_out: CHANNELS.map(([c]) => c).filter((c) => f[`opt-${c}`].checked),
    };
    const out = await this._run(() => this.api('PUT', '/preferences', body));
    if (!out) return;
    this._prefs = { ...this._prefs, ...body, ...out };
    this._status = this.t('saved');
  }

  async saveBirthday(e) {
    e.preventDefault();
    const birthday = e.target.birthday.value;
    if (!birthday) return;
    const out = await this._run(() => this.api('PUT', '/preferences', { birthday }));
    if (!out) return;
    this._prefs = { ...this._prefs, birthday, ...out };
    this._status = this.t('saved');
  }

  async action(action, after) {
    const out = await this._run(() => this.api('POST', '/actions', { action }));
    if (!out) return;
    if (action === 'newsletter') this._prefs = { ...this._prefs, newsletter: true };
    this._status = this.t('thanks');
    after?.();
    // Points may have been given: show the new balance.
    const account = await this.api('GET', '/account').catch(() => null);
    if (account) this._account = account;
  }

  async shareLink(url, action = 'social_share') {
    if (navigator.share) {
      try {
        await navigator.share({ url });
      } catch {
        return; // cancelled
      }
    } else {
      await navigator.clipboard?.writeText(url).catch(() => {});
    }
    await this.action(action);
  }

  // --- formatting ---
  num(n) {
    return new Intl.NumberFormat(this.formatLocale).format(n);
  }

  date(t) {
    if (t == null) return '';
    // A date alone (a birthday) is that calendar day; an instant is shown on the shop's local
    // day (expiry is "through the end of that local day" there), when the account names the zone.
    const dateOnly = typeof t === 'string' && /^\d{4}-\d\d-\d\d$/.test(t);
    const d = new Date(dateOnly ? `${t}T12:00:00Z` : t);
    if (Number.isNaN(d.getTime())) return String(t);
    const timeZone = dateOnly ? 'UTC' : this._account?.timezone;
    try {
      return new Intl.DateTimeFormat(this.formatLocale, { dateStyle: 'medium', timeZone }).format(d);
    } catch {
      return new Intl.DateTimeFormat(this.formatLocale, { dateStyle: 'medium' }).format(d); // an unknown zone name
    }
  }

  money(amount) {
    const currency = this._account?.currency;
    if (amount == null) return '';
    if (!currency) return String(amount);
    const f = new Intl.NumberFormat(this.formatLocale, { style: 'currency', currency });
    // Minor units arrive as integers (outbox coupons), decimal strings otherwise.
    const value = typeof amount === 'number' ? amount / 10 ** f.resolvedOptions().maximumFractionDigits : Number(amount);
    return f.format(value);
  }

  couponText(c) {
    const what = c.type === 'percent' ? this.t('percentOff', { value: c.value })
      : c.type === 'fixed' ? this.t('amountOff', { value: this.money(c.value) })
        : c.type === 'free_shipping' ? this.t('freeShipping') : this.t('freeProduct');
    return [what, c.min_order ? this.t('minOrder', { amount: this.money(c.min_order) }) : '', c.expires_at ? this.t('until', { date: this.date(c.expires_at) }) : '']
      .filter(Boolean).join(', ');
  }

  // The next reward to reach: the server's progress, else the cheapest reward above the balance.
  progress() {
    const a = this._account;
    if (!a) return null;
    if (a.progress?.reward) return { reward: a.progress.reward, needed: a.progress.needed ?? Math.max(0, a.progress.reward.points - a.balance) };
    const rewards = (a.catalogue ?? a.rewards ?? []).filter((r) => r.points > 0).sort((x, y) => x.points - y.points);
    const reward = rewards.find((r) => r.points > a.balance) ?? rewards.at(-1);
    return reward ? { reward, needed: Math.max(0, reward.points - a.balance) } : null;
  }

  render() {
    const a = this._account;
    return html`
      <h2 class="sr" id="title">${this.t('title')}</h2>
      <div class="status" role="status" aria-live="polite" id="status">${this._status ?? ''}</div>
      <div role="alert" id="error" class="err">${this._error ?? ''}</div>
      ${a ? html`<div class="grid">
        ${this.renderBalance(a)}
        ${this.renderCoupons()}
        ${this.renderCatalogue(a)}
        ${this.renderEarn()}
        ${this.renderReferral()}
        ${this.renderPrefs()}
        ${this.renderHistory()}
      </div>` : this._error ? nothing : html`<p class="muted">${this.t('loading')}</p>`}
    `;
  }

  renderBalance(a) {
    const p = this.progress();
    const tp = a.tier_progress;
    const need = tp && (tp.basis === 'spend' ? this.t('spend', { amount: this.money(tp.needed) }) : tp.basis === 'orders' ? this.t('orders', { n: this.num(tp.needed) }) : `${this.num(tp.needed)} ${this.t('points')}`);
    return html`<section id="balance-card" aria-labelledby="balance-h">
      <h2 id="balance-h">${this.t('balance')}</h2>
      <div class="big" id="balance">${this.num(a.balance)}</div>
      ${a.pending ? html`<div class="muted" id="pending">${this.t('pending', { n: this.num(a.pending) })}</div>` : nothing}
      ${a.next_expiry ? html`<div class="muted" id="expiry">${this.t('expires', { n: this.num(a.next_expiry.points), date: this.date(a.next_expiry.at) })}</div>` : nothing}
      ${p ? html`<div id="progress">
        <progress max=${p.reward.points} value=${Math.min(a.balance, p.reward.points)} aria-labelledby="progress-text"></progress>
        <div class="muted" id="progress-text">${p.needed > 0 ? this.t('toReward', { n: this.num(p.needed), reward: p.reward.name ?? p.reward.id }) : this.t('enoughFor', { reward: p.reward.name ?? p.reward.id })}</div>
      </div>` : nothing}
      ${a.tier ? html`<h3>${this.t('tier')}: <span id="tier">${a.tier}</span></h3>` : nothing}
      ${tp?.next_tier ? html`<div id="tier-progress">
        ${tp.basis !== 'spend' ? html`<progress max=${tp.current + tp.needed} value=${tp.current} aria-labelledby="tier-text"></progress>` : nothing}
        <div class="muted" id="tier-text">${this.t('toTier', { need, tier: tp.next_tier })}</div></div>` : nothing}
    </section>`;
  }

  renderCoupons() {
    const coupons = (this._coupons ?? []).filter((c) => (c.status ?? 'issued') === 'issued');
    return html`<section id="discounts" aria-labelledby="discounts-h">
      <h2 id="discounts-h" tabindex="-1">${this.t('discounts')}</h2>
      ${coupons.length ? html`<ul class="plain" id="coupons">${coupons.map((c) => html`<li class="coupon" data-code=${c.code}>
        <div><div class="code">${c.code}</div><div class="muted">${this.couponText(c)}</div></div>
        <button type="button" aria-label=${this.t('copyCode', { code: c.code })} @click=${() => this.copy(c.code)}>${this.t('copy')}</button>
      </li>`)}</ul>` : html`<p class="muted">${this.t('noCoupons')}</p>`}
    </section>`;
  }

  renderCatalogue(a) {
    const list = (a.catalogue ?? []).filter((r) => !r.auto);
    if (!list.length) return nothing;
    return html`<section id="catalogue" aria-labelledby="catalogue-h">
      <h2 id="catalogue-h">${this.t('catalogue')}</h2>
      <ul class="plain">${list.map((r) => {
        const short = Math.max(0, r.points - a.balance);
        const blocked = short > 0 || r.available === false;
        const name = r.name ?? r.id;
        return html`<li class="reward" data-reward=${r.id}>
          <div><b>${name}</b>${r.coupon ? html`<div class="muted">${this.couponText(r.coupon)}</div>` : nothing}
            ${short > 0 ? html`<div class="muted" id="need-${r.id}">${this.t('needMore', { n: this.num(short) })}</div>` : nothing}</div>
          <button type="button" class="primary" ?disabled=${blocked} aria-busy=${this._busy === r.id ? 'true' : nothing} aria-label=${`${this.t('redeem', { n: this.num(r.points) })}: ${name}`}
            aria-describedby=${short > 0 ? `need-${r.id}` : nothing} @click=${() => this.redeem(r)}>${this.t('redeem', { n: this.num(r.points) })}</button>
        </li>`;
      })}</ul>
    </section>`;
  }

  renderEarn() {
    const signed = this._prefs?.newsletter;
    return html`<section id="earn" aria-labelledby="earn-h">
      <h2 id="earn-h">${this.t('earnMore')}</h2>
      <div class="row">
        ${signed ? html`<p class="muted" id="newsletter-done">${this.t('newsletterDone')}</p>`
          : html`<button type="button" id="newsletter" @click=${() => this.action('newsletter')}>${this.t('newsletter')}</button>`}
        ${webUrl(this.followUrl) ? html`<a id="follow" class="button" href=${webUrl(this.followUrl)} target="_blank" rel="noopener" @click=${() => this.action('social_follow')}>${this.t('follow')}</a>` : nothing}
        ${webUrl(this.shopUrl) ? html`<button type="button" id="share-shop" @click=${() => this.shareLink(webUrl(this.shopUrl))}>${this.t('shareShop')}</button>` : nothing}
      </div>
    </section>`;
  }

  renderReferral() {
    const r = this._referral;
    if (!webUrl(r?.url)) return nothing;
    return html`<section id="referral" aria-labelledby="referral-h">
      <h2 id="referral-h">${this.t('refer')}</h2>
      <p class="muted" id="referral-help">${this.t('referHelp')}</p>
      <div class="field"><label for="referral-url">${this.t('link')}</label>
        <input id="referral-url" readonly .value=${r.url} aria-describedby="referral-help" @focus=${(e) => e.target.select()}></div>
      <div class="row">
        <button type="button" @click=${() => this.copy(r.url)}>${this.t('copy')}</button>
        <button type="button" id="share-referral" @click=${() => this.shareLink(r.url)}>${this.t('share')}</button>
      </div>
    </section>`;
  }

  renderPrefs() {
    const p = this._prefs;
    if (!p) return nothing;
    const optOut = p.opt_out ?? [];
    return html`<section id="preferences" aria-labelledby="prefs-h">
      <h2 id="prefs-h">${this.t('prefs')}</h2>
      <form id="prefs-form" @submit=${(e) => this.savePrefs(e)}>
        ${CHANNELS.map(([c, key]) => html`<label class="check"><input type="checkbox" name="opt-${c}" .checked=${optOut.includes(c)}>${this.t(key)}</label>`)}
        <div class="field"><label for="locale">${this.t('language')}</label>
          <select id="locale" name="locale">${LOCALES.map((l) => html`<option value=${l} ?selected=${l === (pickLocale(p.locale) ?? this.lang)}>${LANGUAGE_NAMES[l]}</option>`)}</select></div>
        <button type="submit" class="primary">${this.t('save')}</button>
      </form>
      <h3>${this.t('birthday')}</h3>
      ${p.birthday ? html`<p id="birthday-set">${this.t('birthdaySet', { date: this.date(p.birthday) })}</p>`
        : html`<form id="birthday-form" @submit=${(e) => this.saveBirthday(e)}>
          <div class="field"><label for="birthday">${this.t('birthday')}</label>
            <input id="birthday" name="birthday" type="date" required max=${new Date().toISOString().slice(0, 10)} aria-describedby="birthday-help" autocomplete="bday">
            <span class="muted" id="birthday-help">${this.t('birthdayHelp')}</span></div>
          <button type="submit">${this.t('saveBirthday')}</button></form>`}
    </section>`;
  }

  renderHistory() {
    const rows = this._history ?? [];
    return html`<section id="history" class="wide" aria-labelledby="history-h">
      <h2 id="history-h">${this.t('history')}</h2>
      ${rows.length ? html`<table><thead><tr><th scope="col">${this.t('date')}</th><th scope="col">${this.t('what')}</th><th scope="col" class="num">${this.t('change')}</th></tr></thead>
        <tbody>${rows.map((e) => html`<tr data-type=${e.type}>
          <td>${this.date(e.at)}</td>
          <td>${this.t(`type_${e.type}`)}${e.reason ? html`<div class="muted">${e.reason}</div>` : nothing}</td>
          <td class="num ${e.points < 0 ? 'neg' : 'pos'}">${e.points > 0 ? '+' : ''}${this.num(e.points)}</td></tr>`)}</tbody></table>`
        : html`<p class="muted">${this.t('noHistory')}</p>`}
      ${this._next ? html`<button type="button" id="more" @click=${() => this.moreHistory()}>${this.t('more')}</button>` : nothing}
    </section>`;
  }
}

// Defined where there is a DOM, once (server-side imports just get the class).
if (globalThis.customElements && !customElements.get('loyalty-account')) customElements.define('loyalty-account', LoyaltyAccount);
