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
    hash: u64,
    text: String,
    account: Account,
    used: u64,
}

const CACHED: usize = 64;

/// A filter for `same`, its words taken by turns into four lanes: in one lane each step
/// waits for the multiply of the step before, and a lookup and a put each hash a whole
/// state (~1.7 KB). The lanes are four locals, not an array indexed by turn: in wasm such an
/// array lives in memory, a load and a store per word.
fn hash(s: &str) -> u64 {
    const P: u64 = 0x0100_0000_01b3;
    let word = |b: &[u8], i: usize| b.get(i..i + 8).map_or(0, |w| u64::from_le_bytes(w.try_into().unwrap_or_default()));
    let step = |h: u64, w: u64| (h ^ w).wrapping_mul(P).rotate_left(29);
    let seed = 0xcbf2_9ce4_8422_2325 ^ s.len() as u64;
    let [mut a, mut b, mut c, mut d] = [seed; 4];
    let mut blocks = s.as_bytes().chunks_exact(32);
    for x in &mut blocks {
        (a, b, c, d) = (step(a, word(x, 0)), step(b, word(x, 8)), step(c, word(x, 16)), step(d, word(x, 24)));
    }
    let mut h = a ^ b.rotate_left(16) ^ c.rotate_left(32) ^ d.rotate_left(48);
    for &x in blocks.remainder() {
        h = (h ^ x as u64).wrapping_mul(P);
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
        let e = self.entries.iter_mut().find(|e| e.hash == h && same(e.text.as_bytes(), json.as_bytes()))?;
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
        let (hash, used) = (hash(json), self.uses);
        if self.entries.len() < CACHED {
            return self.entries.push(Cached { hash, text: json.to_string(), account: a, used });
        }
        if let Some(e) = self.entries.iter_mut().min_by_key(|e| e.used) {
            // Into the text buffer of the entry it replaces: no allocation of a whole state.
            e.text.clear();
            e.text.push_str(json);
            (e.hash, e.account, e.used) = (hash, a, used);
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
        assert_eq!(c.get(r#"{"customer":"c1"}"#), Some(account("c1", 0)));
        assert_eq!(c.get(r#"{ "customer":"c1"}"#), None, "re-encoded text is a miss, parsed as usual");
        assert_eq!(c.get(r#"{"customer":"c2"}"#), None);
    }

    #[test]
    fn hash_sees_every_byte() {
        // Each step is a bijection of its lane, so texts differing in one byte never collide.
        for len in 0..80 {
            let a = "x".repeat(len);
            for i in 0..len {
                let mut b = a.clone().into_bytes();
                b[i] = b'y';
                assert_ne!(hash(&a), hash(std::str::from_utf8(&b).unwrap()), "byte {i} of {len}");
            }
        }
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
        assert_eq!(c.entries.len(), CACHED);
        assert_eq!(c.get("s0"), None, "the least recently used went first");
        assert!(c.get(&format!("s{}", CACHED + 9)).is_some());
    }

    #[test]
    fn a_state_passed_back_again_and_again_stays() {
        let mut c = StateCache::default();
        c.put("kept", account("c0", 0));
        for i in 0..CACHED * 3 {
            assert!(c.get("kept").is_some(), "after {i} puts");
            c.put(&format!("s{i}"), account(&format!("c{i}"), 0));
        }
        assert_eq!(c.get(&format!("s{}", CACHED * 2)), None, "the others take turns");
    }
}
