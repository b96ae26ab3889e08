// Types of the loyalty-engine package. Shapes follow DESIGN.md; amounts are decimal strings
// in the program currency, points are integers, ids are strings, times RFC 3339.

export type Amount = string;
export type Duration = string;
export type Channel = 'email' | 'push' | 'sms' | 'webhook';
export type Trigger = 'points_earned' | 'reward_earned' | 'points_expiring' | 'points_expired' | 'tier_changed' | 'welcome' | 'referral';
export type CouponType = 'percent' | 'fixed' | 'free_shipping' | 'free_product';
export type Period = 'day' | 'week' | 'month' | 'year' | 'lifetime';

export interface Program {
  id: string;
  name?: string;
  currency: string;
  timezone: string;
  earn: { points_per_unit: string; rounding?: 'floor' | 'round' | 'ceil'; include_shipping?: boolean; include_tax?: boolean; carry_remainder?: boolean;
    min_order?: Amount; rules?: Array<{ name?: string; match: ProductMatch; multiplier?: string; exclude?: boolean }> };
  expiry?: { mode: 'rolling' | 'per_lot'; after: Duration; warn_before?: Duration[] };
  /** Threshold (`auto`) and catalogue rewards; `stock` is program-wide, `limit` per customer. */
  rewards?: Array<{ id: string; name?: string; auto?: boolean; points: number; stock?: number; limit?: { count: number; per: Period };
    /** `product` (a SKU or product id) for `free_product` coupons, which take no value. */
    coupon: { type: CouponType; value?: string; min_order?: Amount; max_discount?: Amount; valid_for?: Duration; product?: string } }>;
  negative_balance?: 'allow' | 'clamp';
  notifications?: Partial<Record<Trigger, Channel[]>>;
  /** Ways to earn by action name (signup, newsletter, review, birthday, social_follow, ... or your own). */
  actions?: Record<string, { points: number; limits?: Partial<Record<'day' | 'week' | 'month' | 'year' | 'lifetime', number>> }>;
  referral?: { referrer_points: number; friend_reward?: string };
  tiers?: { basis: 'spend' | 'points' | 'orders'; window?: 'lifetime' | 'calendar_year' | 'rolling_12m';
    retention?: { periods?: number; grace_days?: number };
    levels: Array<{ name: string; threshold: Amount | number; perks?: TierPerks }> };
  campaigns?: Array<{ id: string; multiplier: string; from?: string; until?: string; weekdays?: number[];
    hours?: { from: string; until: string }; tiers?: string[]; match?: ProductMatch; joined_within_days?: number; priority?: number; exclusive?: boolean }>;
  campaign_stacking?: 'multiply' | 'best_of';
  pending?: { window: Duration };
  /** `points` points are worth `value`, spent in whole steps; `max_share` is a percent of the goods. */
  pay_with_points?: { points: number; value: Amount; min_points?: number; max_points?: number; max_share?: string };
  memberships?: Array<{ id: string; name?: string; fee: Amount; period: 'month' | 'year' | 'lifetime';
    perks?: { percent_off?: string; free_shipping?: boolean; multiplier?: string; monthly_reward?: string };
    dividend?: { percent: string; valid_for?: Duration } }>;
  donations?: { charities: Array<{ id: string; name?: string }>; min_points?: number };
  /** Targeted coupons (a reward's, given) issued once per customer when `when` first holds. */
  offers?: Array<{ id: string; reward: string;
    when: { bought: { sku?: string; product_id?: string; category?: string; times?: number } } | { no_order_for: Duration } | { nth_order: number } }>;
  /** Coalition: one balance across brands, each with its own earn rate. */
  brands?: Array<{ id: string; name?: string; points_per_unit?: string }>;
}

export interface ProductMatch { sku?: string[]; product_id?: string[]; category?: string[] }
export interface TierPerks { multiplier?: string; percent_off?: string; free_shipping?: boolean; entry_reward?: string; chosen_day_multiplier?: string }

export interface OrderLine { id: string; sku?: string; product_id?: string; categories?: string[]; quantity: number; unit_price: Amount; discount?: Amount }
export interface Order { id: string; currency: string; lines: OrderLine[]; shipping?: Amount; tax?: Amount; taxes_included?: boolean; coupon_codes?: string[];
  /** The coalition brand the order was placed with. */
  brand?: string;
  /** Points the customer paid with (pay with points), debited by the order. */
  points_spent?: number }
export interface Cart extends Omit<Order, 'id' | 'points_spent'> { id?: string; at: string }

interface EventBase { id: string; at: string; customer?: string }
export type LoyaltyEvent = EventBase & (
  | { type: 'order.placed'; customer: string; order: Order }
  | { type: 'order.refunded'; order_id: string; lines: Array<{ id: string; quantity: number }> }
  | { type: 'order.refunded'; order_id: string; amount: Amount }
  | { type: 'order.cancelled'; order_id: string }
  | { type: 'action.completed'; customer: string; action: string; ref?: string }
  | { type: 'points.adjusted'; customer: string; points: number; reason: string; by: string }
  | { type: 'reward.redeemed'; customer: string; reward: string }
  | { type: 'coupon.used'; customer: string; code: string; order_id?: string }
  /** Withdraws an unused coupon: its points come back. */
  | { type: 'coupon.cancelled'; customer: string; code: string }
  | { type: 'membership.started' | 'membership.renewed' | 'membership.cancelled'; customer: string; plan: string }
  | { type: 'points.donated'; customer: string; charity: string; points: number }
  | { type: 'clock.tick' });

/** The stored account: opaque to hosts except for these fields. */
export interface AccountState { customer: string; balance: number; pending: number; tier?: string; next_due?: number; [k: string]: unknown }
/** The stored record of what an order earned, for exact reversals. */
export interface OrderRecord { id: string; customer: string; earned: number; reversed: number; [k: string]: unknown }

export interface Entry {
  id: string; event: string; customer: string;
  type: 'earn' | 'reverse' | 'redeem' | 'expire' | 'adjust' | 'pending' | 'release' | 'donate' | 'restore';
  points: number; balance_after: number; at: string; reason: string;
  rules?: string[]; lots?: Array<{ lot: string; points: number }>;
  order_id?: string; coupon?: string; forgiven?: number; pending?: number; by?: string; charity?: string;
}

export interface CouponView { code: string; type: CouponType; value?: string; min_order?: Amount; max_discount?: Amount; expires_at: string | null; status: 'issued' | 'used' | 'expired' | 'cancelled'; reward: string }

export type Effect =
  | { type: 'coupon.issued'; customer: string; reward: string; points: number; coupon: CouponView }
  | { type: 'coupon.used'; customer: string; code: string; order_id: string | null }
  | { type: 'coupon.expired'; customer: string; code: string }
  | { type: 'coupon.cancelled'; customer: string; code: string; reward: string; points: number }
  | { type: 'membership.changed'; customer: string; plan: string; status: 'active' | 'cancelled' | 'lapsed'; until: string | null; fee: Amount }
  | { type: 'tier.changed'; customer: string; from: string | null; to: string; reason: string }
  /** An event for another account (a referrer's reward): apply it too; it is idempotent by id. */
  | { type: 'event'; event: LoyaltyEvent }
  | { type: 'notify'; key: string; trigger: Trigger; customer: string; channels: Channel[]; data: Record<string, unknown> };

export interface Outcome { state: AccountState;
  /** The engine's JSON text of `state` (not enumerable): store it or pass it back to `apply` and nothing is parsed or stringified. */
  readonly stateText: string;
  order?: OrderRecord; entries: Entry[]; effects: Effect[]; duplicate?: true; skipped?: string }
export interface BatchOutcome { states: Record<string, AccountState>; orders: Record<string, OrderRecord>; entries: Entry[]; effects: Effect[]; skipped: Array<{ event: string; reason: string }> }
export interface AccountView { customer: string; balance: number; pending: number; tier: string | null; next_expiry: { points: number; at: string } | null; coupons: CouponView[];
  /** Towards the next tier: amounts (decimal strings) for a spend basis, counts for points and orders. */
  tier_progress: { basis: 'spend' | 'points' | 'orders'; current: string | number; next_tier: string | null; needed: string | number } | null;
  membership?: { plan: string; status: 'active' | 'cancelled' | 'lapsed'; until: string | null } }
export interface Quote { points: number; rules: string[]; perks: TierPerks; coupons: Array<{ code: string; type: CouponType; usable: boolean; discount: Amount; reason?: string }>;
  /** The most points the customer can pay with on this cart (0 with a reason when none). */
  pay_with_points?: { points: number; discount: Amount; reason?: string } }
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

export declare class LoyaltyError extends Error {
  code: string;
  path: string;
  constructor(code: string, path: string, message: string);
}

/** Compiles a program once: `createEngine(program, { secret })`. */
export declare function createEngine(program: Program | string, options?: { secret?: string }): Engine;
export declare function orderIdOf(event: LoyaltyEvent): string | null;
export declare function zoneTable(name: string): ZoneTable | null;
export declare function replay(engine: Engine, events: Iterable<LoyaltyEvent>, options?: { onProgress?: (done: number) => void }): {
  customers: Record<string, AccountView>; effects: Effect[]; skipped: Array<{ event: string; reason: string }>;
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
