// Types of the loyalty-engine package. Shapes follow DESIGN.md; amounts are decimal strings
// in the program currency, points are integers, ids are strings, times RFC 3339.

export type Amount = string;
export type Duration = string;
export type Period = 'day' | 'week' | 'month' | 'year' | 'lifetime';

// Generated from the engine's Rust types, so each wire shape is declared once: the inputs
// (Program, LoyaltyEvent, Cart; src/spec.rs, src/event.rs) and the outputs (AccountState,
// OrderRecord, Outcome's fields, BatchOutcome, Entry, Effect, AccountView, Quote;
// src/ledger.rs, src/earn.rs, src/context.rs, src/engine.rs). Edit those, then run
// `cargo run --example schema --features schema`; js/schema/ has them as JSON Schema.
// --- generated from the Rust types by tests/gen/schema.rs: do not edit ---
export interface Program {
  /** Ways to earn besides buying, by action name. */
  actions?: Record<string, Action> | null;
  brands?: Brand[] | null;
  campaign_stacking?: Stacking | null;
  campaigns?: Campaign[] | null;
  /** ISO 4217 code: amounts are decimal strings in it. */
  currency: string;
  donations?: Donations | null;
  earn: Earn;
  expiry?: Expiry | null;
  id: string;
  memberships?: Plan[] | null;
  name?: string | null;
  negative_balance?: NegativeBalance | null;
  /** Channels (email, push, sms, webhook) per trigger. */
  notifications?: {
    points_earned?: Channel[];
    points_expired?: Channel[];
    points_expiring?: Channel[];
    referral?: Channel[];
    reward_earned?: Channel[];
    tier_changed?: Channel[];
    welcome?: Channel[];
  } | null;
  offers?: Offer[] | null;
  pay_with_points?: PayWithPoints | null;
  pending?: Pending | null;
  referral?: Referral | null;
  rewards?: Reward[] | null;
  tiers?: Tiers | null;
  /** IANA time zone: day boundaries are local days there. */
  timezone: string;
}
export interface Action {
  limits?: Limits | null;
  points: number;
}
export type Basis = 'orders' | 'spend' | 'points';
/** Exactly one of sku, product_id, category. */
export interface Bought {
  category?: string | null;
  product_id?: string | null;
  sku?: string | null;
  times?: number | null;
}
export interface Brand {
  id: string;
  name?: string | null;
  points_per_unit?: string | null;
}
export interface Campaign {
  exclusive?: boolean | null;
  /** Local dates ("2026-12-24"), inclusive. */
  from?: string | null;
  hours?: Hours | null;
  id: string;
  joined_within_days?: number | null;
  match?: ProductMatch | null;
  multiplier: string;
  priority?: number | null;
  tiers?: string[] | null;
  until?: string | null;
  /** ISO weekdays, 1 = Monday. */
  weekdays?: number[] | null;
}
export type Channel = 'email' | 'push' | 'sms' | 'webhook';
export interface Charity {
  id: string;
  name?: string | null;
}
export type CouponType = 'percent' | 'fixed' | 'free_shipping' | 'free_product';
export interface Coupon {
  type: CouponType;
  max_discount?: string | null;
  min_order?: string | null;
  product?: string | null;
  valid_for?: string | null;
  value?: string | null;
}
export interface Dividend {
  percent: string;
  valid_for?: string | null;
}
export interface Donations {
  charities?: Charity[] | null;
  min_points?: number | null;
}
export interface Earn {
  carry_remainder?: boolean | null;
  include_shipping?: boolean | null;
  include_tax?: boolean | null;
  min_order?: string | null;
  /** Points per major currency unit, a plain decimal ("10", "0.5"). */
  points_per_unit: string;
  rounding?: Rounding | null;
  rules?: ProductRule[] | null;
}
export type ExpiryMode = 'rolling' | 'per_lot';
export interface Expiry {
  /** An ISO 8601 duration of whole days, months or years ("P12M"). */
  after: string;
  mode: ExpiryMode;
  warn_before?: string[] | null;
}
export interface Hours {
  /** Local times ("18:30"). */
  from: string;
  until: string;
}
export interface Level {
  name: string;
  perks?: TierPerks | null;
  /** An amount ("500.00") for the spend basis, a count for points and orders. */
  threshold?: Threshold | null;
}
export interface Limit {
  count: number;
  /** day, week, month, year or lifetime. */
  per: string;
}
/** Most times per period. */
export interface Limits {
  day?: number | null;
  lifetime?: number | null;
  month?: number | null;
  week?: number | null;
  year?: number | null;
}
export interface ProductMatch {
  category?: string[] | null;
  product_id?: string[] | null;
  sku?: string[] | null;
}
export type NegativeBalance = 'allow' | 'clamp';
export interface Offer {
  id: string;
  reward: string;
  when: When;
}
export interface PayWithPoints {
  max_points?: number | null;
  max_share?: string | null;
  min_points?: number | null;
  points: number;
  value: string;
}
export interface Pending {
  window: string;
}
export type PlanPeriod = 'month' | 'year' | 'lifetime';
export interface PlanPerks {
  free_shipping?: boolean | null;
  monthly_reward?: string | null;
  multiplier?: string | null;
  percent_off?: string | null;
}
export interface Plan {
  dividend?: Dividend | null;
  fee: string;
  id: string;
  name?: string | null;
  period: PlanPeriod;
  perks?: PlanPerks | null;
}
export interface ProductRule {
  exclude?: boolean | null;
  match: ProductMatch;
  multiplier?: string | null;
  name?: string | null;
}
export interface Referral {
  friend_reward?: string | null;
  referrer_points: number;
}
export interface Retention {
  grace_days?: number | null;
  periods?: number | null;
}
export interface Reward {
  auto?: boolean | null;
  coupon: Coupon;
  id: string;
  limit?: Limit | null;
  name?: string | null;
  points: number;
  stock?: number | null;
}
export type Rounding = 'floor' | 'round' | 'ceil';
export type Stacking = 'multiply' | 'best_of';
/** A level's threshold: an amount or a count, checked against the tiers' basis. */
export type Threshold = string | number;
export interface TierPerks {
  chosen_day_multiplier?: string | null;
  entry_reward?: string | null;
  free_shipping?: boolean | null;
  multiplier?: string | null;
  percent_off?: string | null;
}
export interface Tiers {
  basis: Basis;
  levels?: Level[] | null;
  retention?: Retention | null;
  window?: Window | null;
}
/** Exactly one of the three. */
export interface When {
  bought?: Bought | null;
  no_order_for?: string | null;
  nth_order?: number | null;
}
export type Window = 'lifetime' | 'calendar_year' | 'rolling_12m';
/** An event as it arrives (DESIGN.md, "Events"): one flat object whose `type` says which of the optional fields it needs (`LoyaltyEvent` lists them per type). Amounts stay text until checked against the program. */
export interface EventFields {
  type: string;
  action?: string | null;
  amount?: string | null;
  at: string;
  by?: string | null;
  charity?: string | null;
  code?: string | null;
  customer?: string | null;
  id: string;
  lines?: RefundLine[] | null;
  order?: Order | null;
  order_id?: string | null;
  plan?: string | null;
  points?: number | null;
  reason?: string | null;
  ref?: string | null;
  reward?: string | null;
}
export interface OrderLine {
  categories?: string[] | null;
  discount?: string | null;
  id: string;
  product_id?: string | null;
  quantity: number;
  sku?: string | null;
  unit_price: string;
}
export interface Order {
  /** Coalition programs: the brand (shop) the order was placed with. */
  brand?: string | null;
  coupon_codes?: string[] | null;
  currency: string;
  id?: string | null;
  lines?: OrderLine[] | null;
  points_spent?: number | null;
  shipping?: string | null;
  tax?: string | null;
  taxes_included?: boolean | null;
}
export interface RefundLine {
  id: string;
  quantity: number;
}
/** An event as it arrives (DESIGN.md, "Events"): `type` says which fields it has. */
export type LoyaltyEvent =
  | {
    type: 'order.placed';
    at: string;
    customer: string;
    id: string;
    order: Order;
  }
  /** A refund of some lines (quantities per line id). */
  | {
    type: 'order.refunded';
    at: string;
    customer?: string | null;
    id: string;
    lines: RefundLine[];
    order_id: string;
  }
  /** A refund by amount, for refunds without lines. */
  | {
    type: 'order.refunded';
    amount: string;
    at: string;
    customer?: string | null;
    id: string;
    order_id: string;
  }
  | {
    type: 'order.cancelled';
    at: string;
    customer?: string | null;
    id: string;
    order_id: string;
  }
  | {
    type: 'action.completed';
    action: string;
    at: string;
    customer: string;
    id: string;
    ref?: string | null;
  }
  | {
    type: 'points.adjusted';
    at: string;
    by: string;
    customer: string;
    id: string;
    points: number;
    reason: string;
  }
  | {
    type: 'reward.redeemed';
    at: string;
    customer: string;
    id: string;
    reward: string;
  }
  | {
    type: 'coupon.used';
    at: string;
    code: string;
    customer: string;
    id: string;
    order_id?: string | null;
  }
  /** Withdraws an unused coupon: its points come back. */
  | {
    type: 'coupon.cancelled';
    at: string;
    code: string;
    customer: string;
    id: string;
  }
  | {
    type: 'membership.started';
    at: string;
    customer: string;
    id: string;
    plan: string;
  }
  | {
    type: 'membership.renewed';
    at: string;
    customer: string;
    id: string;
    plan: string;
  }
  | {
    type: 'membership.cancelled';
    at: string;
    customer: string;
    id: string;
    plan: string;
  }
  | {
    type: 'points.donated';
    at: string;
    charity: string;
    customer: string;
    id: string;
    points: number;
  }
  /** Without `customer`, the host ticks every due account. */
  | {
    type: 'clock.tick';
    at: string;
    customer?: string | null;
    id: string;
  };
/** A cart for `quote`: an order's shape (without points spent) plus the time to quote at. Its fields repeat `OrderIn`'s because serde cannot flatten into a struct that refuses unknown fields; `parse_cart` reads it as that order. */
export interface Cart {
  at: string;
  brand?: string | null;
  coupon_codes?: string[] | null;
  currency: string;
  id?: string | null;
  lines?: OrderLine[] | null;
  shipping?: string | null;
  tax?: string | null;
  taxes_included?: boolean | null;
}
/** One customer's account: what the host stores between events, as JSON text. Optional parts are left out when empty, so states from before a part existed stay byte for byte. */
export interface AccountState {
  /** Ways-to-earn counts per period. */
  actions?: ActionCounts[];
  /** Spendable points: the lots' remaining points less the debt. */
  balance: number;
  /** Units bought so far towards `bought` offers: `(offer id, units)`. */
  bought?: Array<[string, number]>;
  /** Fractional points carried to the next order (`earn.carry_remainder`). */
  carry?: string;
  /** The day this year the customer picked for the tier's bonus multiplier. */
  chosen_day?: string;
  /** The latest event time seen (UTC ms): time never runs backwards for an account. */
  clock: number;
  coupons: AccountCoupon[];
  customer: string;
  /** Points owed after reversals beyond the balance (policy `allow`); earns repay it first. */
  debt: number;
  /** The local day of the account's first event (or signup): "new member" campaigns. */
  joined?: string;
  last_order?: number;
  lifetime: MonthActivity;
  lots: Lot[];
  membership?: Membership;
  /** Qualifying activity per local month (recent months) and over the lifetime. */
  months?: MonthActivity[];
  /** When this account next needs a `clock.tick` (UTC ms): the host indexes it. */
  next_due?: number;
  /** Offers already issued (each once per customer). */
  offers?: string[];
  /** Points inside the return window: not spendable until the tick releases them. */
  pending: number;
  pending_lots?: PendingLot[];
  /** The latest event ids applied, newest last, so a redelivery is a no-op. */
  recent: string[];
  /** Catalogue redemptions per period, for rewards with a per-customer limit. */
  redeemed?: ActionCounts[];
  /** Who referred this customer, until their first order settles it. */
  referred_by?: string;
  /** `action:ref` keys already counted (the latest `REFS`). */
  refs?: string[];
  /** The shared expiry date of all lots in `rolling` mode. */
  rolling_until?: string;
  /** How many entries the account has: entry ids are `customer:seq`-free and stable. */
  seq: number;
  tier?: string;
  /** The last local day the tier is held before it is re-evaluated. */
  tier_until?: string;
  totals: Totals;
  /** Expiry warnings already sent for the coming expiry date. */
  warned?: Warned;
}
/** How often a customer did an action, per current period. */
export interface ActionCounts {
  action: string;
  /** `[period key, times]` for day, week, month and year, then `[0, lifetime times]`. */
  periods: number[][];
}
export interface AccountCoupon {
  type: CouponType;
  code: string;
  /** Exclusive end of validity (UTC ms). */
  expires_at?: number;
  issued_at: number;
  max_discount?: number;
  min_order?: number;
  order_id?: string;
  points: number;
  reward: string;
  status: CouponStatus;
  value?: string;
}
export type CouponStatus = 'issued' | 'used' | 'expired' | 'cancelled';
export interface Lot {
  /** When it was earned (UTC ms). */
  at: number;
  /** Exclusive end of validity in `per_lot` mode (UTC ms); rolling lots use the account's. */
  expires_at?: number;
  /** The id of the event that earned it: shared by the account's every copy (each apply on a cached state makes one) and by the debits that name the lot. */
  id: string;
  points: number;
  remaining: number;
}
/** A customer's membership. */
export interface Membership {
  /** Fees paid so far, in minor units. */
  fees: number;
  /** When the next monthly reward is due. */
  gift_at?: number;
  plan: string;
  since: number;
  spend: number;
  status: MembershipStatus;
  /** The end of the paid period (UTC ms, exclusive); `None` for lifetime plans. */
  until?: number;
  /** The local year whose member spend `spend` counts towards the dividend. */
  year: number;
}
/** Qualifying activity per local month, so any window can be summed without the ledger. */
export interface MonthActivity {
  /** `yyyy * 12 + (month - 1)`. */
  month: number;
  orders: number;
  points: number;
  spend: number;
}
/** Points from an order waiting out the return window. */
export interface PendingLot {
  expires_at?: number;
  /** The id of the event that earned it. */
  id: string;
  order_id: string;
  points: number;
  /** When the points become spendable (UTC ms). */
  release_at: number;
}
export type MembershipStatus = 'active' | 'lapsed' | 'cancelled';
export interface Totals {
  adjusted: number;
  donated?: number;
  earned: number;
  expired: number;
  forgiven: number;
  redeemed: number;
  restored?: number;
  reversed: number;
}
export interface Warned {
  /** How many of the program's warning offsets (farthest first) are done. */
  done: number;
  /** The expiry date the warnings are about. */
  until: string;
}
/** What an order earned and what has been refunded since: stored by the host per order, as JSON text. Optional parts are left out when empty, as records from before them were. */
export interface OrderRecord {
  at: number;
  cancelled: boolean;
  /** The fraction carried in from earlier orders (`earn.carry_remainder`). */
  carry_in: string;
  customer: string;
  earned: number;
  /** The event that placed it. */
  event: string;
  id: string;
  lines: LineEarn[];
  /** The goods counted towards a membership dividend. */
  member?: true;
  /** The points are still pending (inside the return window). */
  pending?: true;
  points_returned?: number;
  /** Points the customer paid with, and how many came back on refunds. */
  points_spent?: number;
  rate: string;
  /** The referrer this order (a referred friend's first) paid a referral to. */
  referrer?: string;
  refunded_amount: number;
  reversed: number;
  rounding: Rounding;
  /** The product rules, campaigns and tier perks that set the lines' multipliers. */
  rules?: string[];
  /** What the customer paid (minor units), the base for refunds by amount. */
  total: number;
}
/** One line's share of an order's earn. Shipping, when it earns, is a line with id `shipping`. */
export interface LineEarn {
  /** The money the points were computed on (minor units, after discounts and tax rules). */
  basis: string;
  id: string;
  /** Product rule x campaigns x tier, as it applied when the order was placed. */
  multiplier: string;
  /** Exact points before rounding. */
  points: string;
  quantity: number;
  refunded: number;
}
/** What one event did. */
export interface OutcomeFields {
  /** The event was applied before: nothing changed. */
  duplicate?: true;
  effects: Effect[];
  entries: Entry[];
  /** The order record this event created or changed, for the host to store. */
  order?: OrderRecord;
  /** Why the event changed nothing, when it is a business outcome and not an error. */
  skipped?: string;
  state: AccountState;
}
export interface CouponView {
  type: CouponType;
  code: string;
  expires_at: string | null;
  max_discount?: string;
  min_order?: string;
  reward: string;
  status: CouponStatus;
  value?: string;
}
/** What the host must do after committing an event. */
export type Effect =
  | {
    type: 'coupon.issued';
    coupon: CouponView;
    customer: string;
    points: number;
    reward: string;
  }
  | {
    type: 'coupon.used';
    code: string;
    customer: string;
    order_id: string | null;
  }
  | {
    type: 'coupon.expired';
    code: string;
    customer: string;
  }
  /** An unused coupon withdrawn: its `points` came back, and the reward's stock with it. */
  | {
    type: 'coupon.cancelled';
    code: string;
    customer: string;
    points: number;
    reward: string;
  }
  | {
    type: 'membership.changed';
    customer: string;
    fee: string;
    plan: string;
    status: MembershipStatus;
    until: string | null;
  }
  | {
    type: 'tier.changed';
    customer: string;
    from: string | null;
    reason: string;
    to: string;
  }
  /** An event the host must apply to another account (a referrer's reward): idempotent by its id, so applying it more than once is harmless. */
  | {
    type: 'event';
    event: LoyaltyEvent;
  }
  /** `key` is unique per notification, so a dispatcher can deliver each exactly once. `data`'s keys are sorted (a `serde_json` map). */
  | {
    type: 'notify';
    channels: Channel[];
    customer: string;
    data: Record<string, unknown>;
    key: string;
    trigger: Trigger;
  };
/** An append-only ledger row. */
export interface Entry {
  type: EntryKind;
  at: string;
  balance_after: number;
  by?: string;
  charity?: string;
  coupon?: string;
  customer: string;
  event: string;
  /** Points a clamped reversal could not take and forgave. */
  forgiven?: number;
  /** `event id` + `#` + position within the event: stable across replays. */
  id: string;
  lots?: LotTake[];
  order_id?: string;
  /** Change of pending points (which `points` and the balance do not include). */
  pending?: number;
  points: number;
  reason: string;
  rules?: string[];
}
export type EntryKind = 'earn' | 'reverse' | 'redeem' | 'expire' | 'adjust' | 'pending' | 'release' | 'donate' | 'restore';
/** Points taken from one lot by a debit. */
export interface LotTake {
  lot: string;
  points: number;
}
export type Trigger = 'points_earned' | 'reward_earned' | 'points_expiring' | 'points_expired' | 'tier_changed' | 'welcome' | 'referral';
/** Many events at once: the changed accounts and orders, and everything they wrote. */
export interface BatchOutcome {
  effects: Effect[];
  entries: Entry[];
  orders: Record<string, OrderRecord>;
  skipped: Skipped[];
  states: Record<string, AccountState>;
}
export interface Skipped {
  event: string;
  reason: string;
}
/** The account as the admin API, the widget and the replay CLI show it. */
export interface AccountView {
  balance: number;
  coupons: CouponView[];
  customer: string;
  membership?: MembershipView;
  next_expiry: NextExpiry | null;
  pending: number;
  tier: string | null;
  /** Where the customer stands towards the next tier, when the program has tiers. */
  tier_progress: TierProgress | null;
}
export interface MembershipView {
  plan: string;
  status: MembershipStatus;
  /** Paid until (the last instant), none for lifetime plans. */
  until: string | null;
}
export interface NextExpiry {
  at: string;
  points: number;
}
/** Qualifying activity in the tier window as of the account's last event, and what the next level needs: amounts as decimal strings for spend, counts for points and orders. */
export interface TierProgress {
  basis: Basis;
  current: string | number;
  needed: string | number;
  next_tier: string | null;
}
/** A cart preview: what it would earn, the perks and coupons it can use. */
export interface Quote {
  coupons: CouponQuote[];
  /** The most points the customer can pay with on this cart, when the program allows it. */
  pay_with_points?: PayQuote;
  /** The customer's tier perks (a standing percent off, free shipping) for the checkout. */
  perks: Perks;
  points: number;
  /** The product rules, campaigns and tier perks that multiply the cart's points. */
  rules: string[];
}
/** What a coupon does for a cart: its discount, or why it cannot be used. */
export interface CouponQuote {
  type: CouponType;
  code: string;
  discount: string;
  reason?: string;
  usable: boolean;
}
/** A quote's `pay_with_points`: the points, the discount they pay as an amount, and why none when none. */
export interface PayQuote {
  discount: string;
  points: number;
  reason?: string;
}
export interface Perks {
  /** Multiplier on the one day a year the customer picks (`action.completed` `choose_day`). */
  chosen_day_multiplier?: string;
  entry_reward?: string;
  free_shipping?: boolean;
  multiplier?: string;
  percent_off?: string;
}
// --- end of generated types ---

/**
 * What one event did: the engine's fields, and the texts js/engine.js keeps beside them (not
 * enumerable, so spreading or stringifying an outcome leaves them out).
 */
export interface Outcome extends OutcomeFields {
  /** The engine's JSON text of `state`: store it or pass it back to `apply` and nothing is parsed or stringified. */
  readonly stateText: string;
  /** With `order`: the engine's JSON text of it, to store as is. */
  readonly orderText?: string;
}
/** Coupons issued so far per stock-limited reward, program-wide, as the host counts them. */
export type Stock = Record<string, number>;

export interface Engine {
  program: Program;
  /** `state` may be the object or its JSON text (`outcome.stateText`, or a stored copy). */
  apply(state: AccountState | string | null, event: LoyaltyEvent | string, options?: { order?: OrderRecord | string | null; stock?: Stock }): Outcome;
  applyBatch(events: LoyaltyEvent[], options?: { states?: Record<string, AccountState>; orders?: Record<string, OrderRecord>; stock?: Stock }): BatchOutcome;
  quote(state: AccountState | string | null, cart: Cart): Quote;
  view(state: AccountState | string): AccountView;
  free(): void;
}

export interface ZoneTable { name: string; offset: number; changes: Array<[number, number]> }

/**
 * Codes of the errors this package throws. The engine (createEngine, apply, quote, view and
 * every loyalty call that reaches it) throws `invalid_program`, `invalid_event`,
 * `invalid_state`, `invalid_cart`, `invalid_context` (a stock count missing or bad) and
 * `invalid_zone`; createLoyalty's methods add `invalid_event` (an event or customer id that
 * is not a non-empty string), `invalid_time` (an `at`/`now` that is not a time) and
 * `invalid_request` (a bad `limit`, `cursor`, coupon `code`, import `chunk` or `onError`).
 */
export type LoyaltyErrorCode =
  | 'invalid_program' | 'invalid_event' | 'invalid_state' | 'invalid_cart' | 'invalid_context' | 'invalid_zone'
  | 'invalid_time' | 'invalid_request';

/** The one error class of the package: a stable `code` and, for input errors, the JSON `path` of the field at fault ('' when none). */
export declare class LoyaltyError extends Error {
  name: 'LoyaltyError';
  /** One of {@link LoyaltyErrorCode}; typed `string` so codes added later still fit. */
  code: LoyaltyErrorCode | (string & {});
  path: string;
  /** The message is prefixed with `path: ` when a path is given. */
  constructor(code: string, path: string, message: string);
}

/** Compiles a program once: `createEngine(program, { secret })`. */
export declare function createEngine(program: Program | string, options?: { secret?: string }): Engine;
export declare function orderIdOf(event: LoyaltyEvent): string | null;
export declare function zoneTable(name: string): ZoneTable | null;
export declare function replay(engine: Engine, events: Iterable<LoyaltyEvent>, options?: { onProgress?: (done: number) => void }): {
  customers: Record<string, AccountView>; effects: Effect[]; skipped: Skipped[];
  states: Map<string, AccountState>; orders: Map<string, OrderRecord>;
};

/** What a history did under one program (`loyalty simulate --json` prints one per program). */
export interface SimulationReport {
  program: string;
  currency: string;
  /** Non-blank lines read; `applied` counts a tick once per account it reached. */
  events: number;
  applied: number;
  skipped: number;
  customers: number;
  /** Totals over every account at the end; `outstanding` is the points held, net of debt. */
  points: { issued: number; adjusted: number; redeemed: number; expired: number; reversed: number;
            forgiven: number; donated: number; restored: number; outstanding: number; pending: number };
  /** Coupons issued per reward id, and in all. */
  rewards: Record<string, number>;
  coupons: number;
  /** The outstanding points and their money value at the program's `pay_with_points` rate (null without one). */
  liability: { points: number; value: string | null };
}

/**
 * Replays a JSONL file of canonical events under `program` and, when given, `vs`, each in its
 * own worker thread: `simulate({ program, vs, events: 'history.jsonl' })`.
 */
export declare function simulate(options: {
  program: Program | string; vs?: Program | string; events: string; secret?: string;
  onProgress?: (p: { bytes: number; total: number; events: number }) => void;
}): Promise<{ program: SimulationReport; vs?: SimulationReport }>;

// --- the durable ledger: createLoyalty and its stores -----------------------------------

/** A time as `at`/`now`: a Date, an RFC 3339 string or epoch milliseconds; omitted means now. */
export type TimeInput = Date | string | number;

/** The event that ticks every due account (no `customer`): `handle` runs {@link Loyalty.tick} for it. */
export type ProgramTick = Extract<LoyaltyEvent, { type: 'clock.tick' }> & { customer?: undefined };
/** Events that name their customer: their result always has one. */
export type CustomerEvent = Extract<LoyaltyEvent, { customer: string }>;

/** What `handle` stored and returns for an event applied to an account. */
export interface AppliedResult {
  /** The event id. */
  event: string;
  /** The account it was applied to (for a refund or cancellation, the order's customer). */
  customer: string;
  /** The account's balance after the event. */
  balance: number;
  entries: Entry[];
  effects: Effect[];
  /** Why the engine applied nothing (e.g. `not enough points`, `already applied to this account`). */
  skipped?: string;
  /** Set when the event id was seen before: this is the first delivery's result, nothing was written. */
  duplicate?: true;
}
/** A refund or cancellation of an order not in the ledger: recorded as skipped, with no customer. */
export interface UnassignedResult {
  event: string;
  customer: null;
  balance?: undefined;
  entries: Entry[];
  effects: Effect[];
  skipped: string;
  duplicate?: true;
}
export type HandleResult = AppliedResult | UnassignedResult;
/** A failed event in `handleMany`'s results, in its place. */
export interface HandleFailure { event: string | null; error: { code: string; path: string; message: string } }

/** What `tick` did: accounts due by `at`, ticked, skipped (taken by another ticker or no longer due), and per-account errors. */
export interface TickSummary {
  /** `now` as ISO 8601 UTC. */
  at: string;
  due: number;
  ticked: number;
  skipped: number;
  errors: Array<{ customer: string; code: string; message: string }>;
}

/** One page of ledger entries, newest first; `next` is the cursor of the next page, null on the last. */
export interface HistoryPage { entries: Entry[]; next: string | null }

export interface ImportOptions {
  /** Events per transaction (a positive integer). Default 2000. */
  chunk?: number;
  /** `'stop'` (default): a bad event ends the import, the chunks before it are kept; `'skip'`: it is reported and the import goes on. */
  onError?: 'stop' | 'skip';
  /** Called after each chunk (and each program-wide tick) with the number of events done. */
  onProgress?: (done: number) => void;
}
/** A bad event in an import: its index in the input, its id and the error. */
export interface ImportError { index: number; event: string | null; code: string; path: string; message: string }
export interface ImportSummary {
  /** Events given, and events done (committed or reported) when the import ended. */
  events: number;
  done: number;
  applied: number;
  duplicates: number;
  skipped: number;
  /** Program-wide ticks run, and accounts they ticked. */
  ticks: number;
  ticked: number;
  errors: ImportError[];
  /** The event the import stopped at (`onError: 'stop'`), or null when it ran to the end. */
  stopped: ImportError | null;
}

/** An account whose stored state differs from the one its events rebuild (`fields` names the keys; `['missing']` when one side has none). */
export interface RebuildDifference { customer: string; fields: string[]; stored: AccountState | null; rebuilt: AccountState | null }
export interface RebuildReport { events: number; accounts: number; differences: RebuildDifference[] }

/** A coupon as stored, found by its code. */
export interface StoredCoupon extends CouponView { customer: string; order_id: string | null }
/** Points donated to one charity, for payout; `name` comes from the program (the id when it has none). */
export interface DonationTotal { charity: string; name: string; points: number; donations: number }
export interface RedactResult {
  customer: string;
  /** `anon-<32 hex>`: HMAC-SHA256 of the customer id keyed by the secret, the same for the same customer. */
  anonymous: string;
  /** Events re-applied under the anonymous id (0: nothing stored, nothing done). */
  events: number;
  balance: number | null;
}

/** Everything a store holds about one customer (a data request); the SQL stores add `updated_at`/`received_at`-style times, the contact and push devices. */
export interface CustomerData {
  state: AccountState | null;
  entries: Entry[];
  coupons: Array<CouponView & { order_id: string | null; updated_at?: string | null }>;
  orders: Array<{ id: string; record: OrderRecord; updated_at?: string | null }>;
  events: Array<{ id: string; type: LoyaltyEvent['type']; at: string; body: LoyaltyEvent; result: HandleResult; received_at?: string | null }>;
  notifications: Array<{ key: string; type: Effect['type']; effect: Effect; created_at?: string | null; delivered_at?: string | null }>;
  /** SQL stores only: the notification contact, or null. */
  contact?: { email: string | null; phone: string | null; name: string | null; locale: string | null; opt_out: unknown } | null;
  /** SQL stores only. */
  push_subscriptions?: Array<{ endpoint: string; created_at: string | null }>;
}
export interface DataRequest extends CustomerData { program: string; customer: string; account: AccountView | null }

/** Rows deleted per table by `redactShop` (the SQL stores also count notify_contacts, push_subscriptions, notify_templates). */
export type ErasedRows = { events: number; entries: number; outbox: number; coupons: number; orders: number; accounts: number } & Record<string, number>;

// --- the store interface ----------------------------------------------------------------
// Every method takes the program id first: one store may hold several programs.

/** An event's stored outcome. */
export interface StoredEvent { customer: string | null; result: HandleResult }
/** An order's record and the customer it belongs to. */
export interface StoredOrder { customer: string; record: OrderRecord }
/** A locked account row: `state` is null for an account created by the lock. */
export interface LockedAccount { state: AccountState | null; version: number }

/** Operations inside one store transaction; they hold their locks until it ends. */
export interface StoreTransaction {
  /** The event's stored outcome. Used when the transaction has no `begin` (the SQL stores' transactions have `begin` instead). */
  findEvent(program: string, id: string): Promise<StoredEvent | null>;
  /** Serializes every event naming this order. Used when the store has no `begin`. */
  lockOrder(program: string, orderId: string): Promise<unknown>;
  /** Optional fast path (the SQL stores): takes the order lock and reads the event's stored outcome in one round trip. */
  begin?(program: string, id: string, orderId: string | null): Promise<StoredEvent | null>;
  /** Optional fast path, with `begin`: the order and the locked account, or null when there is no account yet. */
  orderAndAccount?(program: string, orderId: string | null, customer: string): Promise<{ order: StoredOrder | null; account: LockedAccount } | null>;
  findOrder(program: string, orderId: string): Promise<StoredOrder | null>;
  /** Locks the account, creating it first if needed. */
  lockAccount(program: string, customer: string): Promise<LockedAccount>;
  /** Locks the account only if it is due by `now` (ISO) and free; null otherwise. */
  lockDue(program: string, customer: string, now: string): Promise<LockedAccount | null>;
  /** Coupons of a stock-limited reward issued so far (not cancelled), under a lock. */
  rewardStock(program: string, reward: string): Promise<number>;
  /** Deletes every row of the customer and returns their event bodies in the order applied. */
  eraseCustomer(program: string, customer: string): Promise<LoyaltyEvent[]>;
  /** Writes everything one event did; throws (SQLSTATE `23505` as `code`) when the event id is already stored. */
  record(program: string, written: { event: LoyaltyEvent; customer: string | null; result: HandleResult; state?: AccountState;
    stateText?: string; order?: OrderRecord; orderText?: string; entries?: Entry[]; effects?: Effect[] }): Promise<void>;
}

/** What createLoyalty needs from a store: implement it to bring your own database. */
export interface LoyaltyStore {
  /** Runs `fn` in one transaction: commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /** Optional bulk import: one transaction for a chunk of events (used by `importMany`; without it each event gets its own). */
  chunk?<T>(program: string, events: LoyaltyEvent[], fn: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /** Optional lock-free path (the SQL stores): the event's stored outcome, the account and its version, the order and its row tag, in one read. */
  peek?(program: string, id: string, orderId: string | null, customer: string): Promise<{ found: StoredEvent | null; order: { customer: string; record: string; tag: string } | null; account: { state: string | null; version: number } | null }>;
  /** With `peek`: writes what `record` writes, in its own transaction, only if the account version and the order tag are still as read; resolves to whether it wrote. */
  recordIfUnchanged?(program: string, written: Parameters<StoreTransaction['record']>[1], check: { orderId: string | null; version: number; orderTag: string | null }): Promise<boolean>;
  event(program: string, id: string): Promise<StoredEvent | null>;
  /** The stored engine state, or null. */
  account(program: string, customer: string): Promise<AccountState | null>;
  /** Entries newest first; `cursor` is the `next` of the previous page. */
  history(program: string, customer: string, options?: { cursor?: string | null; limit?: number }): Promise<HistoryPage>;
  /** Customers due by `now` (ISO), ordered by (next_due, customer), after a keyset cursor. */
  due(program: string, now: string, options?: { after?: { customer: string; next_due: string } | null; limit?: number }): Promise<Array<{ customer: string; next_due: string }>>;
  /** Raw events in the order they were applied, after sequence number `after` (default 0; limit 5000). */
  events(program: string, options?: { after?: number; limit?: number }): Promise<Array<{ seq: number; body: LoyaltyEvent }>>;
  /** Stored accounts by customer id, after `after` (default ''; limit 5000). */
  accounts(program: string, options?: { after?: string; limit?: number }): Promise<Array<{ customer: string; state: AccountState | null; balance: number; version: number }>>;
  donations(program: string): Promise<Array<{ charity: string; points: number; donations: number }>>;
  coupon(program: string, code: string): Promise<StoredCoupon | null>;
  customerData(program: string, customer: string): Promise<CustomerData>;
  eraseProgram(program: string): Promise<ErasedRows>;
  close(): Promise<void>;
}

/** The SQL adapter under the PGlite and PostgreSQL stores (`store.db`), for your own queries. */
export interface SqlDb {
  query(text: string, params?: unknown[]): Promise<{ rows: any[] }>;
  transaction<T>(fn: (tx: { query(text: string, params?: unknown[]): Promise<{ rows: any[] }> }) => Promise<T>): Promise<T>;
}

/** The stores this package opens: the interface plus migrations and an audit count. */
export interface OpenedStore extends LoyaltyStore {
  db: SqlDb | null;
  /** Applies the schema migrations not yet applied; returns their versions (none for memory). */
  migrate(): Promise<number[]>;
  /** Counts for invariant checks: events and entries stored for the customer, and the sum of their points (== balance). */
  audit(program: string, customer: string): Promise<{ events: number; entries: number; points: number }>;
}
export interface SqlStore extends OpenedStore {
  db: SqlDb;
  chunk<T>(program: string, events: LoyaltyEvent[], fn: (tx: StoreTransaction) => Promise<T>): Promise<T>;
}
export interface MemoryStore extends OpenedStore {
  db: null;
  /** Test hook: overwrites a stored state, as a bad migration or a manual edit would. */
  tamper(program: string, customer: string, fn: (state: AccountState) => AccountState): Promise<void>;
}

/** An in-memory store with the SQL stores' behaviour, for tests: nothing survives the process. */
export declare function openMemoryStore(): MemoryStore;

/** The durable engine returned by {@link createLoyalty}. Every method returns a Promise; bad input rejects with a {@link LoyaltyError}. */
export interface Loyalty {
  /** The parsed program. */
  program: Program;
  /**
   * Applies one event in one transaction (ledger, outbox, coupons, order and account move
   * together), then the events it derives for other accounts (a referrer's reward). A
   * redelivered event id returns the first result with `duplicate: true` and writes
   * nothing. A `clock.tick` without `customer` ticks every due account (see `tick`).
   */
  handle(event: ProgramTick): Promise<TickSummary>;
  handle(event: CustomerEvent): Promise<AppliedResult>;
  handle(event: LoyaltyEvent): Promise<HandleResult | TickSummary>;
  /** Handles events in order, each in its own transaction; a failure is reported in its place and the rest go on. */
  handleMany(events: Iterable<LoyaltyEvent>): Promise<Array<HandleResult | TickSummary | HandleFailure>>;
  /** Imports a history at bulk speed: chunks of events, one transaction each, with the outcome `handle` gives event by event. Other errors (the database) reject, keeping whole chunks only. */
  importMany(events: readonly LoyaltyEvent[], options?: ImportOptions): Promise<ImportSummary>;
  /** Previews a cart: the points it earns and the coupons usable on it; a null customer quotes for a guest. */
  quote(customer: string | null | undefined, cart: Cart): Promise<Quote>;
  /** The customer's account view, or null when they have none. */
  /** Null without an account; with `orNew`, the view a new member would have (nothing is written). */
  account(customer: string, options?: { orNew?: boolean }): Promise<AccountView | null>;
  /** Ledger entries newest first, keyset paged: `limit` 1..1000 (default 50), `cursor` the previous page's `next`. */
  history(customer: string, options?: { cursor?: string | null; limit?: number }): Promise<HistoryPage>;
  /** Grants (or deducts, negative `points`) points as a `points.adjusted` event; `id` defaults to `adjust:<uuid>`, `at` to now. */
  adjust(customer: string, options: { points: number; reason: string; by: string; id?: string; at?: TimeInput }): Promise<AppliedResult>;
  /** Redeems a reward for points as a `reward.redeemed` event; `id` defaults to `redeem:<uuid>`, `at` to now. Too few points is `skipped`, not an error. */
  redeem(customer: string, options: { reward: string; id?: string; at?: TimeInput }): Promise<AppliedResult>;
  /** Ticks every account due by `now` (default now), `batch` candidates at a time (default 100); one account's error does not stop the others. Safe to run from several processes. */
  tick(now?: TimeInput, options?: { batch?: number }): Promise<TickSummary>;
  /** Recomputes every account from the stored events and lists those whose stored state differs. */
  rebuild(): Promise<RebuildReport>;
  /** A coupon by its code, or null. */
  coupon(code: string): Promise<StoredCoupon | null>;
  /** Points donated per charity, for payout. */
  donations(): Promise<DonationTotal[]>;
  /** GDPR erasure: replaces the customer id everywhere by its anonymous id and re-applies their events, keeping the ledger balanced. */
  redact(customer: string): Promise<RedactResult>;
  /** GDPR data request: everything stored about the customer. */
  dataRequest(customer: string): Promise<DataRequest>;
  /** Erases every row of this program (Shopify shop/redact); returns rows deleted per table. */
  redactShop(): Promise<ErasedRows>;
  /** Closes the store and frees the engine. */
  close(): Promise<void>;
}

export interface LoyaltyOptions {
  /** The program, or its JSON text; compiled once (throws `invalid_program`). */
  program: Program | string;
  store: LoyaltyStore;
  /** Keys coupon codes and redaction's anonymous ids; keep it out of the program. Default ''. */
  secret?: string;
}

/**
 * The durable engine over a store:
 * `createLoyalty({ program, store: await openPgliteStore({ dataDir }), secret })`.
 */
export declare function createLoyalty(options: LoyaltyOptions): Loyalty;
