//! The number reader: digits → Vietnamese words.
//!
//! Reads integers from 0 up to 10^18 − 1 in the house style (full hundreds
//! inside a number, "linh"/"lẻ" for a zero ten, "mốt", "tư", "lăm" after a
//! ten), decimals with "phẩy", and any digit string digit by digit. Every
//! function takes the digits as text, so no input can overflow or panic.

use super::Dialect;

const DIGITS: [&str; 10] = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"];

/// Longest digit run read as a quantity; longer runs are read digit by digit.
pub const MAX_QUANTITY_DIGITS: usize = 15;

/// The word for one ASCII digit.
pub fn digit_word(d: u8) -> &'static str {
    DIGITS[(d.saturating_sub(b'0') as usize).min(9)]
}

/// Reads every digit of `digits` separately: "0987" → "không chín tám bảy".
/// Non-digits are skipped.
pub fn read_digits(digits: &str) -> String {
    let mut out = Words(String::with_capacity(digits.len() * 5));
    for b in digits.bytes().filter(u8::is_ascii_digit) {
        out.push(digit_word(b));
    }
    out.0
}

fn thousand(d: Dialect) -> &'static str {
    match d {
        Dialect::North => "nghìn",
        Dialect::South => "ngàn",
    }
}

fn zero_ten(d: Dialect) -> &'static str {
    match d {
        Dialect::North => "linh",
        Dialect::South => "lẻ",
    }
}

/// Words joined by single spaces, written straight into one string.
struct Words(String);

impl Words {
    fn push(&mut self, w: &str) {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        self.0.push_str(w);
    }
}

/// Reads a group of up to three digits (value 0..=999). `full` forces the
/// hundreds to be said ("không trăm") as inside a longer number.
fn read_group(n: u32, full: bool, d: Dialect, out: &mut Words) {
    let (h, t, u) = (n / 100, (n / 10) % 10, n % 10);
    if full || h > 0 {
        out.push(DIGITS[h as usize]);
        out.push("trăm");
    }
    let after_hundred = full || h > 0;
    match t {
        0 => {
            if u > 0 {
                if after_hundred {
                    out.push(zero_ten(d));
                }
                out.push(DIGITS[u as usize]);
            }
        }
        1 => {
            out.push("mười");
            match u {
                0 => {}
                5 => out.push("lăm"),
                _ => out.push(DIGITS[u as usize]),
            }
        }
        _ => {
            out.push(DIGITS[t as usize]);
            out.push("mươi");
            match u {
                0 => {}
                1 => out.push("mốt"),
                4 => out.push("tư"),
                5 => out.push("lăm"),
                _ => out.push(DIGITS[u as usize]),
            }
        }
    }
}

/// Reads `n` (< 10^9) into `out`; `full` as in [`read_group`] for the top group.
fn read_below_billion(n: u64, full: bool, d: Dialect, out: &mut Words) {
    let groups = [
        ((n / 1_000_000) as u32, "triệu"),
        (((n / 1000) % 1000) as u32, thousand(d)),
        ((n % 1000) as u32, ""),
    ];
    let mut started = full;
    for (group, scale) in groups {
        if group > 0 {
            read_group(group, started, d, out);
            if !scale.is_empty() {
                out.push(scale);
            }
            started = true;
        }
    }
}

/// Reads a non-negative integer below 10^18.
pub fn read_u64(n: u64, d: Dialect) -> String {
    if n == 0 {
        return "không".to_string();
    }
    let mut out = Words(String::with_capacity(48));
    read_u64_into(n, false, d, &mut out);
    out.0
}

fn read_u64_into(n: u64, full: bool, d: Dialect, out: &mut Words) {
    const BILLION: u64 = 1_000_000_000;
    let high = n / BILLION;
    let low = n % BILLION;
    let mut full = full;
    if high > 0 {
        // 1.000 tỷ → "một nghìn tỷ": the part above a billion is itself a number.
        read_u64_into(high, full, d, out);
        out.push("tỷ");
        full = true;
    }
    if low > 0 {
        read_below_billion(low, full, d, out);
    }
}

/// Reads a string of ASCII digits as a quantity, ignoring leading zeros.
/// Runs longer than [`MAX_QUANTITY_DIGITS`] significant digits are read
/// digit by digit. Returns `None` when `digits` has a non-digit or is empty.
pub fn read_integer(digits: &str, d: Dialect) -> Option<String> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Some("không".to_string());
    }
    if significant.len() > MAX_QUANTITY_DIGITS {
        return Some(read_digits(digits));
    }
    significant.parse::<u64>().ok().map(|n| read_u64(n, d))
}

/// Reads a grouped integer ("1.213.353": any of the `seps` between groups of
/// three) of up to 18 digits; longer ones are read digit by digit.
pub fn read_grouped(text: &str, d: Dialect) -> Option<String> {
    let digits = || text.bytes().filter(u8::is_ascii_digit);
    let significant = digits().skip_while(|&b| b == b'0').count();
    if significant > 18 {
        return Some(read_digits(text));
    }
    if significant == 0 {
        return Some("không".into());
    }
    // At most 18 significant digits: below 10^18, no overflow.
    Some(read_u64(digits().fold(0u64, |n, b| n * 10 + u64::from(b - b'0')), d))
}

/// Reads the part after a decimal comma: leading zeros one by one, then
/// the rest as a number ("02" → "không hai", "25" → "hai mươi lăm").
pub fn read_fraction(digits: &str, d: Dialect) -> Option<String> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rest = digits.trim_start_matches('0');
    let zeros = digits.len() - rest.len();
    let mut words: Vec<String> = std::iter::repeat_n("không".to_string(), zeros).collect();
    if !rest.is_empty() {
        if rest.len() > 3 {
            words.push(read_digits(rest));
        } else {
            words.push(read_integer(rest, d)?);
        }
    }
    Some(words.join(" "))
}

/// Reads "int,frac" style decimals given as separate digit strings.
pub fn read_decimal(int: &str, frac: &str, d: Dialect) -> Option<String> {
    Some(format!("{} phẩy {}", read_integer(int, d)?, read_fraction(frac, d)?))
}

/// Ordinal after "thứ": 1 → "nhất", 4 → "tư", others the plain number.
pub fn read_ordinal(n: u64, d: Dialect) -> String {
    match n {
        1 => "nhất".into(),
        4 => "tư".into(),
        _ => read_u64(n, d),
    }
}

/// Month name after "tháng": 4 → "tư", others the plain number.
pub fn read_month(m: u32, d: Dialect) -> String {
    match m {
        4 => "tư".into(),
        _ => read_u64(m as u64, d),
    }
}

/// Value of a Roman numeral (I..MMMCMXCIX) in canonical form, or `None`.
pub fn roman_value(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 15 {
        return None;
    }
    let val = |c: u8| match c {
        b'I' => Some(1),
        b'V' => Some(5),
        b'X' => Some(10),
        b'L' => Some(50),
        b'C' => Some(100),
        b'D' => Some(500),
        b'M' => Some(1000),
        _ => None,
    };
    let bytes = s.as_bytes();
    // Standard algorithm, then insist on the canonical form (no "IIII", "VX").
    let mut value = 0i64;
    for i in 0..bytes.len() {
        let v = val(bytes[i])? as i64;
        let next = bytes.get(i + 1).and_then(|&c| val(c)).unwrap_or(0) as i64;
        if next > v { value -= v } else { value += v }
    }
    if value <= 0 || value > 3999 {
        return None;
    }
    (to_roman(value as u32) == s).then_some(value as u32)
}

fn to_roman(mut n: u32) -> String {
    const TABLE: [(u32, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut s = String::new();
    for &(v, r) in &TABLE {
        while n >= v {
            s.push_str(r);
            n -= v;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    const N: Dialect = Dialect::North;

    #[test]
    fn table() {
        let cases: &[(u64, &str)] = &[
            (0, "không"),
            (5, "năm"),
            (10, "mười"),
            (11, "mười một"),
            (14, "mười bốn"),
            (15, "mười lăm"),
            (20, "hai mươi"),
            (21, "hai mươi mốt"),
            (24, "hai mươi tư"),
            (25, "hai mươi lăm"),
            (100, "một trăm"),
            (101, "một trăm linh một"),
            (105, "một trăm linh năm"),
            (110, "một trăm mười"),
            (115, "một trăm mười lăm"),
            (1000, "một nghìn"),
            (1004, "một nghìn không trăm linh bốn"),
            (2015, "hai nghìn không trăm mười lăm"),
            (2021, "hai nghìn không trăm hai mươi mốt"),
            (3012, "ba nghìn không trăm mười hai"),
            (10_000, "mười nghìn"),
            (11_400, "mười một nghìn bốn trăm"),
            (100_000, "một trăm nghìn"),
            (1_000_005, "một triệu không trăm linh năm"),
            (1_213_353, "một triệu hai trăm mười ba nghìn ba trăm năm mươi ba"),
            (1_800_500, "một triệu tám trăm nghìn năm trăm"),
            (2_030_400, "hai triệu không trăm ba mươi nghìn bốn trăm"),
            (5_000_000_000, "năm tỷ"),
            (1_000_000_000_000, "một nghìn tỷ"),
            (1_000_000_000_000_000, "một triệu tỷ"),
            (2_005_000_000_000, "hai nghìn không trăm linh năm tỷ"),
            (2_000_500_000_000, "hai nghìn tỷ năm trăm triệu"),
            (7_000_000_001, "bảy tỷ không trăm linh một"),
        ];
        for &(n, want) in cases {
            assert_eq!(read_u64(n, N), want, "{n}");
        }
    }

    #[test]
    fn south_profile() {
        assert_eq!(read_u64(105, Dialect::South), "một trăm lẻ năm");
        assert_eq!(read_u64(3012, Dialect::South), "ba ngàn không trăm mười hai");
    }

    #[test]
    fn strings() {
        assert_eq!(read_integer("01", N).unwrap(), "một");
        assert_eq!(read_integer("000", N).unwrap(), "không");
        assert_eq!(read_integer("", N), None);
        assert_eq!(read_integer("1a", N), None);
        assert_eq!(read_integer("1234567890123456", N).unwrap().split(' ').count(), 16);
        assert_eq!(read_grouped("1.213.353", N).unwrap(), read_u64(1_213_353, N));
        assert_eq!(read_decimal("10", "02", N).unwrap(), "mười phẩy không hai");
        assert_eq!(read_decimal("0", "25", N).unwrap(), "không phẩy hai mươi lăm");
        assert_eq!(read_decimal("3", "31", N).unwrap(), "ba phẩy ba mươi mốt");
        assert_eq!(read_digits("0987"), "không chín tám bảy");
    }

    #[test]
    fn romans() {
        for (s, v) in [("I", 1), ("IV", 4), ("IX", 9), ("XIII", 13), ("XV", 15), ("XXI", 21), ("MCMXC", 1990)]
        {
            assert_eq!(roman_value(s), Some(v), "{s}");
        }
        for s in ["", "IIII", "VX", "IC", "ABC", "XM", "MMMM"] {
            assert_eq!(roman_value(s), None, "{s}");
        }
    }

    #[test]
    fn every_number_below_a_million_reads_without_gaps() {
        // Exhaustive over 0..1_000_000: each reading is non-empty, has no
        // doubled spaces and never contains a digit.
        for n in 0..1_000_000u64 {
            let s = read_u64(n, N);
            assert!(!s.is_empty() && !s.contains("  ") && !s.bytes().any(|b| b.is_ascii_digit()), "{n}: {s}");
        }
    }

    /// Parses the reader's own words back into a number (test oracle).
    fn parse_words(s: &str) -> u64 {
        let words: Vec<&str> = s.split(' ').collect();
        let digit = |w: &str| match w {
            "mốt" => Some(1),
            "tư" => Some(4),
            "lăm" => Some(5),
            w => DIGITS.iter().position(|d| *d == w).map(|p| p as u64),
        };
        let (mut total, mut section, mut small) = (0u64, 0u64, 0u64);
        let mut k = 0;
        while k < words.len() {
            let w = words[k];
            let next = words.get(k + 1).copied();
            match (w, digit(w)) {
                (_, Some(d)) if next == Some("trăm") => {
                    small += d * 100;
                    k += 1;
                }
                (_, Some(d)) if next == Some("mươi") => {
                    small += d * 10;
                    k += 1;
                }
                (_, Some(d)) => small += d,
                ("mười", _) => small += 10,
                ("linh", _) => {}
                ("nghìn", _) => {
                    section += small * 1000;
                    small = 0;
                }
                ("triệu", _) => {
                    section += small * 1_000_000;
                    small = 0;
                }
                ("tỷ", _) => {
                    total = (total + section + small) * 1_000_000_000;
                    section = 0;
                    small = 0;
                }
                (other, _) => panic!("unexpected word {other:?} in {s:?}"),
            }
            k += 1;
        }
        total + section + small
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5000))]
        #[test]
        fn readings_parse_back_to_the_number(n in 0u64..1_000_000_000_000_000_000) {
            let words = read_u64(n, N);
            proptest::prop_assert_eq!(parse_words(&words), n, "{}", words);
        }

        #[test]
        fn digit_strings_never_panic(s in "[0-9]{0,40}") {
            let _ = read_integer(&s, N);
            let _ = read_grouped(&s, N);
            let _ = read_fraction(&s, N);
        }
    }

    #[test]
    fn oracle_agrees_on_the_first_million() {
        for n in (0..1_000_000u64).step_by(7) {
            assert_eq!(parse_words(&read_u64(n, N)), n);
        }
    }
}
