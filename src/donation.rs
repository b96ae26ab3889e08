//! Donations: customers give points to a charity the merchant lists. Each gift is a `donate`
//! ledger entry naming the charity, so the totals to pay out per charity are a sum over the
//! ledger.

use crate::decode::{Obj, Path};
use crate::engine::Tx;
use crate::error::{Error, Result};
use crate::ledger::EntryKind;

#[derive(Debug, Clone)]
pub struct Donations {
    /// `(id, name)` of each charity.
    pub charities: Vec<(String, String)>,
    pub min_points: i64,
}

impl Donations {
    pub fn read(o: &Obj) -> Result<Donations> {
        let s = crate::sink::Sink::default();
        let mut charities: Vec<(String, String)> = Vec::new();
        for (path, v) in s.take(o.list("charities")) {
            let c = Obj::new("invalid_program", v, path, &["id", "name"])?;
            let id = s.take(c.str("id"));
            if id.is_empty() || charities.iter().any(|x| x.0 == id) {
                return Err(s.first_or(c.err("id", format!("must be a unique, non-empty charity id (\"{id}\")"))));
            }
            let name = s.take(c.opt_str("name")).unwrap_or_else(|| id.clone());
            charities.push((id, name));
        }
        if charities.is_empty() {
            return Err(s.first_or(Error::program(Path::Key(&o.here(), "charities").render(), "must list at least one charity")));
        }
        let min_points = s.take(o.int_or("min_points", 1));
        if min_points <= 0 {
            return Err(s.first_or(o.err("min_points", "must be a positive number of points")));
        }
        s.finish(Donations { charities, min_points })
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
