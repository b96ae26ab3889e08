//! Money as integer minor units. Amounts arrive as decimal strings in the program currency
//! and are parsed by the ISO 4217 exponent; nothing here ever touches a float.

/// ISO 4217 active codes with their minor-unit exponent, sorted for binary search.
const CURRENCIES: &[(&str, u32)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("ANG", 2), ("AOA", 2), ("ARS", 2),
    ("AUD", 2), ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BGN", 2),
    ("BHD", 3), ("BIF", 0), ("BMD", 2), ("BND", 2), ("BOB", 2), ("BRL", 2), ("BSD", 2),
    ("BTN", 2), ("BWP", 2), ("BYN", 2), ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHF", 2),
    ("CLF", 4), ("CLP", 0), ("CNY", 2), ("COP", 2), ("CRC", 2), ("CUP", 2), ("CVE", 2),
    ("CZK", 2), ("DJF", 0), ("DKK", 2), ("DOP", 2), ("DZD", 2), ("EGP", 2), ("ERN", 2),
    ("ETB", 2), ("EUR", 2), ("FJD", 2), ("FKP", 2), ("GBP", 2), ("GEL", 2), ("GHS", 2),
    ("GIP", 2), ("GMD", 2), ("GNF", 0), ("GTQ", 2), ("GYD", 2), ("HKD", 2), ("HNL", 2),
    ("HTG", 2), ("HUF", 2), ("IDR", 2), ("ILS", 2), ("INR", 2), ("IQD", 3), ("IRR", 2),
    ("ISK", 0), ("JMD", 2), ("JOD", 3), ("JPY", 0), ("KES", 2), ("KGS", 2), ("KHR", 2),
    ("KMF", 0), ("KPW", 2), ("KRW", 0), ("KWD", 3), ("KYD", 2), ("KZT", 2), ("LAK", 2),
    ("LBP", 2), ("LKR", 2), ("LRD", 2), ("LSL", 2), ("LYD", 3), ("MAD", 2), ("MDL", 2),
    ("MGA", 2), ("MKD", 2), ("MMK", 2), ("MNT", 2), ("MOP", 2), ("MRU", 2), ("MUR", 2),
    ("MVR", 2), ("MWK", 2), ("MXN", 2), ("MYR", 2), ("MZN", 2), ("NAD", 2), ("NGN", 2),
    ("NIO", 2), ("NOK", 2), ("NPR", 2), ("NZD", 2), ("OMR", 3), ("PAB", 2), ("PEN", 2),
    ("PGK", 2), ("PHP", 2), ("PKR", 2), ("PLN", 2), ("PYG", 0), ("QAR", 2), ("RON", 2),
    ("RSD", 2), ("RUB", 2), ("RWF", 0), ("SAR", 2), ("SBD", 2), ("SCR", 2), ("SDG", 2),
    ("SEK", 2), ("SGD", 2), ("SHP", 2), ("SLE", 2), ("SOS", 2), ("SRD", 2), ("SSP", 2),
    ("STN", 2), ("SVC", 2), ("SYP", 2), ("SZL", 2), ("THB", 2), ("TJS", 2), ("TMT", 2),
    ("TND", 3), ("TOP", 2), ("TRY", 2), ("TTD", 2), ("TWD", 2), ("TZS", 2), ("UAH", 2),
    ("UGX", 0), ("USD", 2), ("UYI", 0), ("UYU", 2), ("UYW", 4), ("UZS", 2), ("VED", 2),
    ("VES", 2), ("VND", 0), ("VUV", 0), ("WST", 2), ("XAF", 0), ("XCD", 2), ("XCG", 2),
    ("XOF", 0), ("XPF", 0), ("YER", 2), ("ZAR", 2), ("ZMW", 2), ("ZWG", 2),
];

/// The minor-unit exponent of an ISO 4217 code (`EUR` 2, `JPY` 0, `KWD` 3).
pub fn exponent(code: &str) -> Option<u32> {
    CURRENCIES.binary_search_by(|(c, _)| (*c).cmp(code)).ok().map(|i| CURRENCIES[i].1)
}

/// Parses a non-negative decimal string into minor units: `"129.90"` at exponent 2 is 12990.
/// More decimals than the currency has is an error, not a rounding.
pub fn parse_amount(s: &str, exp: u32) -> Result<i64, String> {
    let (units, minor) = parse_decimal(s)?;
    let scale = minor.len() as u32;
    if scale > exp {
        return Err(format!("\"{s}\" has {scale} decimals, the currency allows {exp}"));
    }
    let n = digits_value(&[units, minor]).and_then(|n| i64::try_from(n).ok()).ok_or_else(|| too_large(s))?;
    n.checked_mul(10i64.pow(exp - scale)).ok_or_else(|| too_large(s))
}

fn too_large(s: &str) -> String {
    ["\"", s, "\" is too large"].concat()
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

/// Formats minor units back as a decimal string with exactly `exp` decimals.
pub fn format_amount(minor: i64, exp: u32) -> String {
    let mut s = String::new();
    if minor < 0 {
        s.push('-');
    }
    // At least one digit before the point: 5 at exponent 2 is "0.05".
    crate::json::push_digits(&mut s, minor.unsigned_abs() as u128, exp as usize + 1);
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
    fn exponents_follow_iso_4217() {
        assert_eq!(exponent("EUR"), Some(2));
        assert_eq!(exponent("JPY"), Some(0));
        assert_eq!(exponent("KWD"), Some(3));
        assert_eq!(exponent("XXX"), None);
        assert!(CURRENCIES.windows(2).all(|w| w[0].0 < w[1].0), "table must stay sorted");
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

    #[test]
    fn refuses_what_does_not_fit() {
        assert!(parse_amount("23600.5", 0).unwrap_err().contains("allows 0"));
        assert!(parse_amount("1.2345", 3).is_err());
        for bad in ["", "-1.00", "1e3", "1.", ".5", " 1", "1,00", "99999999999999999999"] {
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
    }
}
