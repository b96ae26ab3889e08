// Shipped notification templates: every trigger, on every channel, in every shipped locale.
// A template is a set of Liquid fields per channel:
//   email: subject, html, text   push: title, body, url   sms: text
// Only `html` is HTML-escaped on output ({{ x | raw }} opts out); the others are plain text.
// The merchant overrides any (trigger, channel, locale) through the admin API.

export const TRIGGERS = ['points_earned', 'reward_earned', 'points_expiring', 'points_expired', 'tier_changed', 'welcome', 'referral'];
export const CHANNELS = ['email', 'push', 'sms', 'webhook'];
export const FIELDS = { email: ['subject', 'html', 'text'], push: ['title', 'body', 'url'], sms: ['text'] };
export const LOCALES = ['en', 'nb', 'sv', 'es'];
export const HTML_FIELDS = new Set(['html']);

// Per locale and trigger: a headline (subject, push title) and a message (push body, SMS,
// the email's paragraph). Liquid throughout; `program` is the program's name.
const TEXT = {
  en: {
    hello: 'Hi {% if name %}{{ name }}{% else %}there{% endif %},',
    footer: 'You receive this because you are a member of {{ program }}.',
    cta: 'See your discounts',
    points_earned: ['You earned {{ points }} points', 'You earned {{ points }} points{% if order_id %} on order {{ order_id }}{% endif %}. Your balance is now {{ balance }} points.'],
    reward_earned: ['Your reward is here: {{ reward_name | default: reward }}', 'You earned {{ reward_name | default: reward }}! Use the code {{ coupon.code }} at checkout{% if coupon.min_order %} on orders of at least {{ coupon.min_order }}{% endif %}{% if coupon.expires_at %}, valid until {{ coupon.expires_at | date: "%Y-%m-%d" }}{% endif %}.'],
    points_expiring: ['{{ points }} points expire soon', '{{ points }} of your points expire on {{ expires_on }}. Use them before they are gone.'],
    points_expired: ['{{ points }} points have expired', '{{ points }} points expired. Your balance is now {{ balance }} points.'],
    tier_changed: ['Welcome to {{ to }}', 'You are now a {{ to }} member{% if from %} (was {{ from }}){% endif %}.'],
    welcome: ['Welcome to {{ program }}', 'Welcome to {{ program }}! You earn points on every order, and rewards as you go.'],
    referral: ['{% if role == "referrer" %}Your friend joined{% else %}Welcome, friend{% endif %}', '{% if role == "referrer" %}Your friend made their first order{% if points %}: you earned {{ points }} points{% endif %}. Thank you!{% else %}You joined {{ program }} through a friend. Enjoy your welcome gift!{% endif %}'],
  },
  nb: {
    hello: 'Hei {% if name %}{{ name }}{% else %}der{% endif %},',
    footer: 'Du får denne e-posten fordi du er medlem av {{ program }}.',
    cta: 'Se rabattene dine',
    points_earned: ['Du har fått {{ points }} poeng', 'Du har fått {{ points }} poeng{% if order_id %} for ordre {{ order_id }}{% endif %}. Saldoen din er nå {{ balance }} poeng.'],
    reward_earned: ['Belønningen din er klar: {{ reward_name | default: reward }}', 'Du har fått {{ reward_name | default: reward }}! Bruk koden {{ coupon.code }} i kassen{% if coupon.min_order %} ved kjøp over {{ coupon.min_order }}{% endif %}{% if coupon.expires_at %}, gyldig til {{ coupon.expires_at | date: "%Y-%m-%d" }}{% endif %}.'],
    points_expiring: ['{{ points }} poeng utløper snart', '{{ points }} av poengene dine utløper {{ expires_on }}. Bruk dem før de forsvinner.'],
    points_expired: ['{{ points }} poeng har utløpt', '{{ points }} poeng har utløpt. Saldoen din er nå {{ balance }} poeng.'],
    tier_changed: ['Velkommen til {{ to }}', 'Du er nå {{ to }}-medlem{% if from %} (før: {{ from }}){% endif %}.'],
    welcome: ['Velkommen til {{ program }}', 'Velkommen til {{ program }}! Du tjener poeng på hver ordre og får belønninger underveis.'],
    referral: ['{% if role == "referrer" %}Vennen din er med{% else %}Velkommen, venn{% endif %}', '{% if role == "referrer" %}Vennen din har handlet for første gang{% if points %}: du har fått {{ points }} poeng{% endif %}. Takk!{% else %}Du ble med i {{ program }} via en venn. Kos deg med velkomstgaven!{% endif %}'],
  },
  sv: {
    hello: 'Hej {% if name %}{{ name }}{% else %}där{% endif %},',
    footer: 'Du får det här mejlet eftersom du är medlem i {{ program }}.',
    cta: 'Se dina rabatter',
    points_earned: ['Du har fått {{ points }} poäng', 'Du har fått {{ points }} poäng{% if order_id %} för order {{ order_id }}{% endif %}. Ditt saldo är nu {{ balance }} poäng.'],
    reward_earned: ['Din belöning är här: {{ reward_name | default: reward }}', 'Du har fått {{ reward_name | default: reward }}! Använd koden {{ coupon.code }} i kassan{% if coupon.min_order %} vid köp över {{ coupon.min_order }}{% endif %}{% if coupon.expires_at %}, giltig till {{ coupon.expires_at | date: "%Y-%m-%d" }}{% endif %}.'],
    points_expiring: ['{{ points }} poäng går snart ut', '{{ points }} av dina poäng går ut {{ expires_on }}. Använd dem innan de försvinner.'],
    points_expired: ['{{ points }} poäng har gått ut', '{{ points }} poäng har gått ut. Ditt saldo är nu {{ balance }} poäng.'],
    tier_changed: ['Välkommen till {{ to }}', 'Du är nu {{ to }}-medlem{% if from %} (tidigare {{ from }}){% endif %}.'],
    welcome: ['Välkommen till {{ program }}', 'Välkommen till {{ program }}! Du tjänar poäng på varje order och får belöningar längs vägen.'],
    referral: ['{% if role == "referrer" %}Din vän är med{% else %}Välkommen, vän{% endif %}', '{% if role == "referrer" %}Din vän har handlat för första gången{% if points %}: du har fått {{ points }} poäng{% endif %}. Tack!{% else %}Du gick med i {{ program }} via en vän. Njut av välkomstgåvan!{% endif %}'],
  },
  es: {
    hello: 'Hola{% if name %} {{ name }}{% endif %},',
    footer: 'Recibes este correo porque eres miembro de {{ program }}.',
    cta: 'Ver tus descuentos',
    points_earned: ['Has ganado {{ points }} puntos', 'Has ganado {{ points }} puntos{% if order_id %} con el pedido {{ order_id }}{% endif %}. Tu saldo es ahora de {{ balance }} puntos.'],
    reward_earned: ['Tu recompensa ya está aquí: {{ reward_name | default: reward }}', '¡Has ganado {{ reward_name | default: reward }}! Usa el código {{ coupon.code }} al pagar{% if coupon.min_order %} en pedidos de al menos {{ coupon.min_order }}{% endif %}{% if coupon.expires_at %}, válido hasta el {{ coupon.expires_at | date: "%Y-%m-%d" }}{% endif %}.'],
    points_expiring: ['{{ points }} puntos caducan pronto', '{{ points }} de tus puntos caducan el {{ expires_on }}. Úsalos antes de que desaparezcan.'],
    points_expired: ['{{ points }} puntos han caducado', '{{ points }} puntos han caducado. Tu saldo es ahora de {{ balance }} puntos.'],
    tier_changed: ['Bienvenido a {{ to }}', 'Ahora eres miembro {{ to }}{% if from %} (antes {{ from }}){% endif %}.'],
    welcome: ['Bienvenido a {{ program }}', '¡Bienvenido a {{ program }}! Ganas puntos con cada pedido y recompensas por el camino.'],
    referral: ['{% if role == "referrer" %}Tu amigo se ha unido{% else %}Bienvenido, amigo{% endif %}', '{% if role == "referrer" %}Tu amigo ha hecho su primer pedido{% if points %}: has ganado {{ points }} puntos{% endif %}. ¡Gracias!{% else %}Te has unido a {{ program }} gracias a un amigo. ¡Disfruta tu regalo de bienvenida!{% endif %}'],
  },
};

// The code block in the reward email: the one thing the customer must not miss.
const CODE_HTML = '{% if coupon.code %}<p style="font-size:24px;font-weight:bold;letter-spacing:2px">{{ coupon.code }}</p>{% endif %}';

function build(locale, trigger) {
  const t = TEXT[locale];
  const [headline, message] = t[trigger];
  const htmlMessage = message; // Liquid output in html is escaped by the renderer
  return {
    email: {
      subject: headline,
      html: `<!doctype html><html lang="${locale}"><body style="font-family:sans-serif">
<p>${t.hello}</p>
<p>${htmlMessage}</p>
${trigger === 'reward_earned' ? CODE_HTML : ''}
<p><a href="{{ discounts_url }}">${t.cta}</a></p>
<p style="color:#888;font-size:12px">${t.footer}</p>
</body></html>`,
      text: `${t.hello}\n\n${message}\n${trigger === 'reward_earned' ? '\n{{ coupon.code }}\n' : ''}\n${t.cta}: {{ discounts_url }}\n\n-- \n${t.footer}\n`,
    },
    push: { title: headline, body: message, url: '{{ discounts_url }}' },
    sms: { text: `{{ program }}: ${message}` },
  };
}

/** The shipped default: {fields} for (trigger, channel, locale), or null. */
export function shippedTemplate(trigger, channel, locale) {
  if (!TEXT[locale] || !TRIGGERS.includes(trigger) || !FIELDS[channel]) return null;
  return build(locale, trigger)[channel];
}

/**
 * Locales to try, most specific first: "nb-NO" -> nb-no, nb; then the program's default
 * locale; then English. "no" (Norwegian) reads as Bokmål.
 */
export function localeChain(locale, fallback = 'en') {
  const out = [];
  const add = (l) => { if (l && !out.includes(l)) out.push(l); };
  const l = String(locale ?? '').toLowerCase().replace(/_/g, '-');
  if (l) {
    add(l);
    const base = l.split('-')[0];
    add(base === 'no' || base === 'nn' ? 'nb' : base);
  }
  add(fallback);
  add('en');
  return out;
}

/** Sample data per trigger, for previews and tests: what the engine's notify data holds. */
export function sampleData(trigger) {
  const common = { customer: 'c-123', program: 'Demo rewards', name: 'Kari Nordmann', locale: 'en', discounts_url: 'https://shop.example/account/discounts' };
  const by = {
    points_earned: { points: 1299, order_id: '1001', balance: 3499, pending: 0 },
    reward_earned: { reward: 'threshold-10pct', reward_name: '10% off your next order', balance: 10,
      coupon: { code: 'LOY-7K2M-QX9D', type: 'percent', value: '10', min_order: '100.00', expires_at: '2026-02-09T23:59:59.999+01:00', status: 'issued', reward: 'threshold-10pct' } },
    points_expiring: { points: 1499, expires_at: '2027-01-31T23:59:59.999+01:00', expires_on: '2027-01-31', balance: 1499 },
    points_expired: { points: 1499, expired_at: '2027-01-31T23:59:59.999+01:00', balance: 0 },
    tier_changed: { from: 'Silver', to: 'Gold', reason: 'qualified', perks: ['Free shipping'] },
    welcome: { points: 100, balance: 100 },
    referral: { role: 'referrer', friend: 'c-456', points: 500 },
  };
  return { ...common, ...(by[trigger] ?? {}) };
}
