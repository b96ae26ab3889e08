//! Money as integer minor units. Amounts arrive as decimal strings in the program currency
//! and are parsed by the ISO 4217 exponent; nothing here ever touches a float.

/// ISO 4217 active codes, each followed by its minor-unit exponent, sorted for binary search.
/// One string of 4-byte records: a table of `(&str, u32)` pairs cost ~2 KB more wasm data.
const CURRENCIES: &str = concat!(
    "AED2AFN2ALL2AMD2ANG2AOA2ARS2AUD2AWG2AZN2BAM2BBD2BDT2BGN2BHD3BIF0BMD2BND2BOB2BRL2BSD2",
    "BTN2BWP2BYN2BZD2CAD2CDF2CHF2CLF4CLP0CNY2COP2CRC2CUP2CVE2CZK2DJF0DKK2DOP2DZD2EGP2ERN2",
    "ETB2EUR2FJD2FKP2GBP2GEL2GHS2GIP2GMD2GNF0GTQ2GYD2HKD2HNL2HTG2HUF2IDR2ILS2INR2IQD3IRR2",
    "ISK0JMD2JOD3JPY0KES2KGS2KHR2KMF0KPW2KRW0KWD3KYD2KZT2LAK2LBP2LKR2LRD2LSL2LYD3MAD2MDL2",
    "MGA2MKD2MMK2MNT2MOP2MRU2MUR2MVR2MWK2MXN2MYR2MZN2NAD2NGN2NIO2NOK2NPR2NZD2OMR3PAB2PEN2",
    "PGK2PHP2PKR2PLN2PYG0QAR2RON2RSD2RUB2RWF0SAR2SBD2SCR2SDG2SEK2SGD2SHP2SLE2SOS2SRD2SSP2",
    "STN2SVC2SYP2SZL2THB2TJS2TMT2TND3TOP2TRY2TTD2TWD2TZS2UAH2UGX0USD2UYI0UYU2UYW4UZS2VED2",
    "VES2VND0VUV0WST2XAF0XCD2XCG2XOF0XPF0YER2ZAR2ZMW2ZWG2",
);

/// The minor-unit exponent of an ISO 4217 code (`EUR` 2, `JPY` 0, `KWD` 3).
pub fn exponent(code: &str) -> Option<u32> {
    let (records, _) = CURRENCIES.as_bytes().as_chunks::<4>();
    let i = records.binary_search_by(|r| r[..3].cmp(code.as_bytes())).ok()?;
    Some((records[i][3] - b'0') as u32)
}

/// Parses a non-negative decimal string into minor units: `"129.90"` at exponent 2 is 12990.
/// More decimals than the currency has is an error, not a rounding.
pub fn parse_amount(s: &str, exp: u32) -> Result<i64, String> {
    if let Some(n) = short_amount(s.as_bytes(), exp) {
        return Ok(n);
    }
    let (units, minor) = parse_decimal(s)?;
    let scale = minor.len() as u32;
    if scale > exp {
        return Err(format!("\"{s}\" has {scale} decimals, the currency allows {exp}"));
    }
    let n = digits_value(&[units, minor]).and_then(|n| i64::try_from(n).ok()).ok_or_else(|| too_large(s))?;
    mul(n, 10i64.pow(exp - scale)).ok_or_else(|| too_large(s))
}

/// `parse_amount` in one pass, for the usual amount: at most 18 bytes (so its digits fit
/// in i64) and valid. `None` for anything else, which the passes above read or refuse.
fn short_amount(s: &[u8], exp: u32) -> Option<i64> {
    if s.len() > 18 {
        return None;
    }
    let (mut n, mut point) = (0i64, None);
    for (i, &c) in s.iter().enumerate() {
        match c {
            b'0'..=b'9' => n = n * 10 + (c - b'0') as i64,
            b'.' if point.is_none() && i > 0 => point = Some(i),
            _ => return None,
        }
    }
    // Digits after the point: one at least, and no more than the currency has.
    let scale = match point {
        Some(p) => s.len() - 1 - p,
        None if !s.is_empty() => 0,
        None => return None,
    };
    if (point.is_some() && scale == 0) || scale > exp as usize {
        return None;
    }
    mul(n, 10i64.pow(exp - scale as u32))
}

/// `a.checked_mul(b)`, without its 128-bit multiply (a libcall, `__multi3`, in wasm32) when
/// the operands have 65 leading zero bits between them: their product is below 2^63.
pub fn mul(a: i64, b: i64) -> Option<i64> {
    if a.unsigned_abs().leading_zeros() + b.unsigned_abs().leading_zeros() >= 65 {
        return Some(a.wrapping_mul(b));
    }
    a.checked_mul(b)
}

fn too_large(s: &str) -> String {
    format!("\"{s}\" is too large")
}

/// The number the digit strings spell one after the other (`["129", "90"]` is 12990),
/// `None` beyond u128. The parts must be ASCII digits (`parse_decimal` checked them).
pub fn digits_value(parts: &[&str]) -> Option<u128> {
    let mut n: u128 = 0;
    for c in parts.iter().flat_map(|p| p.bytes()) {
        let d = (c - b'0') as u128;
        // In u64 while it fits: a 128-bit multiply is a slow libcall in wasm.
        n = match u64::try_from(n) {
            Ok(m) if m <= u64::MAX / 10 => (m * 10) as u128 + d,
            _ => n.checked_mul(10)?.checked_add(d)?,
        };
    }
    Some(n)
}

/// Appends the decimal digits of `m`, zero-padded to at least `width`: amounts, dates and
/// ids are written through this one helper rather than core::fmt's padding code.
pub fn push_digits(s: &mut String, mut m: u128, width: usize) {
    let mut buf = [b'0'; 40];
    let mut i = buf.len();
    while m > 0 || i == buf.len() {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
    }
    let start = i.min(buf.len().saturating_sub(width));
    s.extend(buf[start..].iter().map(|&b| b as char));
}

/// Formats minor units back as a decimal string with exactly `exp` decimals.
pub fn format_amount(minor: i64, exp: u32) -> String {
    let mut s = String::new();
    if minor < 0 {
        s.push('-');
    }
    // At least one digit before the point: 5 at exponent 2 is "0.05".
    push_digits(&mut s, minor.unsigned_abs() as u128, exp as usize + 1);
    if exp > 0 {
        s.insert(s.len() - exp as usize, '.');
    }
    s
}

/// Splits a plain non-negative decimal (`"12"`, `"0.01"`) into its integer and fraction digits.
/// Signs, exponents, spaces and empty parts are refused: a money string has one spelling.
pub fn parse_decimal(s: &str) -> Result<(&str, &str), String> {
    let (units, minor) = match s.split_once('.') {
        Some((u, m)) => (u, m),
        None => (s, ""),
    };
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if units.is_empty() || !digits(units) || !digits(minor) || (s.contains('.') && minor.is_empty()) {
        return Err(format!("\"{s}\" is not a plain decimal number like \"129.90\""));
    }
    Ok((units, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_is_checked_mul() {
        let v = [0, 1, -1, 2, 3, 10, 100, 12_990, 1 << 31, (1 << 31) + 1, 1 << 32, 3_037_000_499, 3_037_000_500, 1 << 62, i64::MAX, i64::MIN, i64::MIN + 1];
        for &a in &v {
            for &b in &v {
                for (a, b) in [(a, b), (-a.max(i64::MIN + 1), b), (a, -b.max(i64::MIN + 1))] {
                    assert_eq!(mul(a, b), a.checked_mul(b), "{a} x {b}");
                }
            }
        }
    }

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(exponent("EUR"), Some(2));
        assert_eq!(exponent("JPY"), Some(0));
        assert_eq!(exponent("KWD"), Some(3));
        assert_eq!(exponent("XXX"), None);
        assert_eq!((exponent("AED"), exponent("ZWG"), exponent("CLF"), exponent("UYW")), (Some(2), Some(2), Some(4), Some(4)));
        for bad in ["", "EU", "EURO", "eur", "AE", "ZZZ", "AAA"] {
            assert_eq!(exponent(bad), None, "{bad}");
        }
        let (records, rest) = CURRENCIES.as_bytes().as_chunks::<4>();
        assert!(rest.is_empty() && records.len() > 150);
        assert!(records.iter().all(|r| r[..3].iter().all(u8::is_ascii_uppercase) && r[3].is_ascii_digit()));
        assert!(records.windows(2).all(|w| w[0][..3] < w[1][..3]), "table must stay sorted");
    }

    #[test]
    fn parses_amounts_exactly() {
        assert_eq!(parse_amount("129.90", 2), Ok(12990));
        assert_eq!(parse_amount("129.9", 2), Ok(12990));
        assert_eq!(parse_amount("100", 2), Ok(10000));
        assert_eq!(parse_amount("23600", 0), Ok(23600));
        assert_eq!(parse_amount("1.250", 3), Ok(1250));
        assert_eq!(parse_amount("0.001", 3), Ok(1));
    }

    /// The one-pass reading agrees with the general one wherever it answers (anything else
    /// goes the general way: `parses_amounts_exactly`, `refuses_what_does_not_fit`).
    #[test]
    fn short_amounts_read_as_the_general_path() {
        let mut answered = 0;
        for s in ["0", "7", "00", "0.5", "12.50", "1.", ".5", "1.2.3", "", "-1", "1e2", "123456789012345678", "12345678901234567.8", "922337203685477580", "9223372036854775.8", "1.234", "1.2345", "5 "] {
            for exp in 0..5 {
                if let Some(n) = short_amount(s.as_bytes(), exp) {
                    answered += 1;
                    let (units, minor) = parse_decimal(s).unwrap();
                    let whole = format!("{units}{minor}{}", "0".repeat(exp as usize - minor.len()));
                    assert_eq!(Some(n), whole.parse().ok(), "{s} at {exp}");
                }
            }
        }
        assert!(answered > 30, "{answered}");
    }

    #[test]
    fn refuses_what_does_not_fit() {
        assert!(parse_amount("23600.5", 0).unwrap_err().contains("allows 0"));
        assert!(parse_amount("1.2345", 3).is_err());
        for bad in ["", "-1.00", "1e3", "1.", ".5", " 1", "1,00", "99999999999999999999", ".", "1.2.3", "1..2", "12a", "1.2a", "+1", "1 "] {
            assert!(parse_amount(bad, 2).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn formats_round_trip() {
        assert_eq!(format_amount(12990, 2), "129.90");
        assert_eq!(format_amount(5, 2), "0.05");
        assert_eq!(format_amount(-5, 2), "-0.05");
        assert_eq!(format_amount(23600, 0), "23600");
        assert_eq!(format_amount(1250, 3), "1.250");
        // The same text as the `format!` it replaces, at the edges too.
        for m in [0, 1, -1, 9, 10, 99, 100, 12345, -12345, i64::MAX, i64::MIN] {
            for exp in [0u32, 1, 2, 3, 4] {
                let (sign, abs, p) = (if m < 0 { "-" } else { "" }, m.unsigned_abs(), 10u64.pow(exp));
                let want = if exp == 0 { format!("{sign}{abs}") } else { format!("{sign}{}.{:0w$}", abs / p, abs % p, w = exp as usize) };
                assert_eq!(format_amount(m, exp), want);
            }
        }
        assert_eq!(parse_amount("9223372036854775807", 0), Ok(i64::MAX));
        assert!(parse_amount("9223372036854775808", 0).is_err());
        assert_eq!(digits_value(&["340282366920938463463374607431768211455"]), Some(u128::MAX));
        assert_eq!(digits_value(&["340282366920938463463374607431768211456"]), None);
        assert_eq!(digits_value(&["18446744073709551615", "9"]), Some(184467440737095516159));
        // Nineteen digits and twenty, around the u64 shortcut.
        assert_eq!(digits_value(&["999999999", "9999999999"]), Some(9_999_999_999_999_999_999));
        assert_eq!(digits_value(&["9999999999", "9999999999"]), Some(99_999_999_999_999_999_999));
        assert_eq!(digits_value(&["", ""]), Some(0));
        assert_eq!(parse_decimal("0012.500"), Ok(("0012", "500")));
    }
}
