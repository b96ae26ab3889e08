//! Donations: customers give points to a charity the merchant lists. Each gift is a `donate`
//! ledger entry naming the charity, so the totals to pay out per charity are a sum over the
//! ledger.

use crate::spec::DonationsSpec;
use crate::context::Tx;
use crate::error::{At, Error, Result};
use crate::ledger::EntryKind;

#[derive(Debug, Clone)]
pub struct Donations {
    /// `(id, name)` of each charity.
    pub charities: Vec<(String, String)>,
    pub min_points: i64,
}

impl Donations {
    pub fn check(o: DonationsSpec, at: &At) -> Result<Donations> {
        let mut charities: Vec<(String, String)> = Vec::new();
        for (i, c) in o.charities.unwrap_or_default().into_iter().enumerate() {
            if c.id.is_empty() || charities.iter().any(|x| x.0 == c.id) {
                return Err(at.item("charities", i).err("id", format!("must be a unique, non-empty charity id (\"{}\")", c.id)));
            }
            let name = c.name.unwrap_or_else(|| c.id.clone());
            charities.push((c.id, name));
        }
        if charities.is_empty() {
            return Err(at.err("charities", "must list at least one charity"));
        }
        let min_points = o.min_points.unwrap_or(1);
        if min_points <= 0 {
            return Err(at.err("min_points", "must be a positive number of points"));
        }
        Ok(Donations { charities, min_points })
    }
}

/// `points.donated`: returns why nothing was given (not enough points), if so.
pub fn donate(tx: &mut Tx, charity: &str, points: i64) -> Result<Option<String>> {
    let d = tx.program.donations.as_ref().ok_or_else(|| Error::event("charity", "the program takes no donations"))?;
    let (id, name) = d.charities.iter().find(|c| c.0 == charity).ok_or_else(|| crate::reward::unknown("charity", charity, "the program lists", d.charities.iter().map(|c| c.0.as_str()).collect()))?;
    if points < d.min_points {
        return Err(Error::event("points", format!("{points} is below the minimum donation of {} points", d.min_points)));
    }
    if tx.account.debt > 0 || tx.account.spendable() < points {
        return Ok(Some(format!("not enough points: donating {points} needs them spendable, the balance is {}", tx.account.balance)));
    }
    let takes = tx.account.debit(points, false).0;
    tx.account.totals.donated += points;
    let (id, reason) = (id.clone(), format!("donation to {name}"));
    tx.push_entry(EntryKind::Donate, -points, reason, tx.at, |e| {
        e.lots = takes;
        e.charity = Some(id);
    });
    Ok(None)
}
