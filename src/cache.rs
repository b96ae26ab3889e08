//! The accounts an engine wrote most recently, so that a host passing back the state text
//! the engine returned (as stores and in-memory hosts do) skips parsing it.

use crate::ledger::Account;
use std::collections::VecDeque;

/// The accounts this engine wrote most recently, keyed by their exact JSON text, so a state
/// passed back unchanged skips parsing. Content-keyed: a state edited or re-ordered by the
/// host is simply a miss and is parsed as usual. Bounded: `CACHED` entries, least recently
/// used first out. A ring: once full, every `put` drops the front, which in a `Vec` moved
/// all the other entries (~30 KB of accounts) on every apply.
#[derive(Default)]
pub struct StateCache(VecDeque<(u64, String, Account)>);

const CACHED: usize = 64;

fn hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ s.len() as u64;
    let b = s.as_bytes();
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        h = (h ^ u64::from_le_bytes(c.try_into().unwrap())).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
    }
    for &x in chunks.remainder() {
        h = (h ^ x as u64).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `a == b`, eight bytes at a step: in wasm `==` on strings is a call to a memcmp that
/// compares byte by byte, and a hit compares the whole state (about 1.7 KB).
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
    pub fn get(&mut self, json: &str) -> Option<Account> {
        let h = hash(json);
        let i = self.0.iter().rposition(|(k, s, _)| *k == h && same(s.as_bytes(), json.as_bytes()))?;
        // The entry hit is usually among the newest: `remove` moves only those after it.
        let e = self.0.remove(i)?;
        let a = e.2.clone();
        self.0.push_back(e);
        Some(a)
    }
    /// Keeps `a` (moved in: the caller is done with it) as the account of a copy of `json`.
    pub fn put(&mut self, json: &str, a: Account) {
        if a.check().is_err() {
            return;
        }
        // The copy goes into the buffer of the text it pushes out, once full: one allocation
        // (of a whole state) less per apply.
        let mut text = if self.0.len() >= CACHED { self.0.pop_front().map(|e| e.1).unwrap_or_default() } else { String::new() };
        text.clear();
        text.push_str(json);
        self.0.push_back((hash(json), text, a));
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
        assert_eq!(c.get(r#"{"customer":"c1"}"#), Some(account("c1", 0)));
        assert_eq!(c.get(r#"{ "customer":"c1"}"#), None, "re-encoded text is a miss, parsed as usual");
        assert_eq!(c.get(r#"{"customer":"c2"}"#), None);
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
        assert_eq!(c.get("bad"), None);
        for i in 0..CACHED + 10 {
            c.put(&format!("s{i}"), account(&format!("c{i}"), 0));
        }
        assert_eq!(c.0.len(), CACHED);
        assert_eq!(c.get("s0"), None, "the least recently used went first");
        assert!(c.get(&format!("s{}", CACHED + 9)).is_some());
    }
}
