// loyalty-engine/widget: the admin panel and storefront web components (Lit), and the
// engine in the browser for cart previews without a round trip.
//   import 'loyalty-engine/widget';  // defines <loyalty-admin>, <loyalty-balance>, <loyalty-account>, <loyalty-referral>
import { LoyaltyAdmin } from './admin.js';
import { LoyaltyBalance } from './balance.js';

export { LoyaltyAdmin, LoyaltyBalance };
export { createBrowserEngine } from './browser-engine.js';
export { createClient, createStorefrontClient, tokenRefresher, ApiError } from './api.js';
export { LoyaltyAccount } from './account.js'; // defines <loyalty-account> itself
export { LoyaltyReferral, rememberReferral, claimReferral } from './referral.js'; // defines <loyalty-referral> itself

// Defined once, and only where there is a DOM (server-side imports just get the classes).
if (globalThis.customElements) {
  if (!customElements.get('loyalty-admin')) customElements.define('loyalty-admin', LoyaltyAdmin);
  if (!customElements.get('loyalty-balance')) customElements.define('loyalty-balance', LoyaltyBalance);
}
