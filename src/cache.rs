//! The accounts an engine wrote most recently, so that a host passing back the state text
//! the engine returned (as stores and in-memory hosts do) skips parsing it.

use crate::ledger::Account;

/// The accounts this engine wrote most recently, keyed by their exact JSON text, so a state
/// passed back unchanged skips parsing. Content-keyed: a state edited or re-ordered by the
/// host is simply a miss and is parsed as usual. Bounded: `CACHED` entries; once full, a
/// `put` takes the place of the least recently used. Entries stay where they are (moving
/// them, as a list in order of use did, moved ~30 KB of accounts per apply).
#[derive(Default)]
pub struct StateCache {
    entries: Vec<Cached>,
    /// Counts puts and hits: an entry's `used` is the count at its latest.
    uses: u64,
}

struct Cached {
    text: String,
    account: Account,
    used: u64,
}

const CACHED: usize = 64;

/// `a == b`, eight bytes at a step: in wasm `==` on strings is a call to a memcmp that
/// compares byte by byte. No hash in front: texts of another length are passed over, and
/// the states of two customers differ within the first words (`{"customer":"…`), so only
/// a hit reads a whole state (about 1.7 KB); hashing it read it twice more per apply.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let word = |s: &[u8], i: usize| s.get(i..i + 8).map(|w| u64::from_ne_bytes(w.try_into().unwrap_or_default()));
    let mut i = 0;
    while i + 8 <= a.len() {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    a[i..] == b[i..]
}

impl StateCache {
    /// The account whose text is exactly `json` (bytes: a hit is the UTF-8 of a text this
    /// engine wrote, so the input needs no UTF-8 check first).
    pub fn get(&mut self, json: &[u8]) -> Option<Account> {
        let e = self.entries.iter_mut().find(|e| same(e.text.as_bytes(), json))?;
        self.uses += 1;
        e.used = self.uses;
        Some(e.account.clone())
    }

    /// Keeps `a` (moved in: the caller is done with it) as the account of a copy of `json`.
    pub fn put(&mut self, json: &str, a: Account) {
        if a.check().is_err() {
            return;
        }
        self.uses += 1;
        let used = self.uses;
        if self.entries.len() < CACHED {
            return self.entries.push(Cached { text: json.to_string(), account: a, used });
        }
        if let Some(e) = self.entries.iter_mut().min_by_key(|e| e.used) {
            // Into the text buffer of the entry it replaces: no allocation of a whole state.
            e.text.clear();
            e.text.push_str(json);
            (e.account, e.used) = (a, used);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(customer: &str, balance: i64) -> Account {
        let mut a = Account { customer: customer.into(), ..Account::default() };
        a.balance = balance;
        a
    }

    #[test]
    fn hits_only_the_exact_text_it_was_given() {
        let mut c = StateCache::default();
        c.put(r#"{"customer":"c1"}"#, account("c1", 0));
        assert_eq!(c.get(br#"{"customer":"c1"}"#), Some(account("c1", 0)));
        assert_eq!(c.get(br#"{ "customer":"c1"}"#), None, "re-encoded text is a miss, parsed as usual");
        assert_eq!(c.get(br#"{"customer":"c2"}"#), None);
    }

    #[test]
    fn same_tells_apart_texts_differing_in_any_byte() {
        for len in 0..20 {
            let a: Vec<u8> = (0..len as u8).collect();
            assert!(same(&a, &a.clone()), "equal, length {len}");
            for i in 0..len {
                let mut b = a.clone();
                b[i] ^= 1;
                assert!(!same(&a, &b), "byte {i} of {len}");
            }
            assert!(!same(&a, &[a.as_slice(), &[0]].concat()), "longer, length {len}");
        }
    }

    #[test]
    fn keeps_no_inconsistent_account_and_stays_bounded() {
        let mut c = StateCache::default();
        c.put("bad", account("c1", 5)); // a balance its lots do not hold
        assert_eq!(c.get(b"bad"), None);
        for i in 0..CACHED + 10 {
            c.put(&format!("s{i}"), account(&format!("c{i}"), 0));
        }
        assert_eq!(c.entries.len(), CACHED);
        assert_eq!(c.get(b"s0"), None, "the least recently used went first");
        assert!(c.get(format!("s{}", CACHED + 9).as_bytes()).is_some());
    }

    #[test]
    fn a_state_passed_back_again_and_again_stays() {
        let mut c = StateCache::default();
        c.put("kept", account("c0", 0));
        for i in 0..CACHED * 3 {
            assert!(c.get(b"kept").is_some(), "after {i} puts");
            c.put(&format!("s{i}"), account(&format!("c{i}"), 0));
        }
        assert_eq!(c.get(format!("s{}", CACHED * 2).as_bytes()), None, "the others take turns");
    }
}
