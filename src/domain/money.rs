//! Money and quantities: exact decimals, never floating point.
//!
//! `rust_decimal` with serde_json's `arbitrary_precision` reads `10.0000` as written and writes it
//! back as a JSON number with the same digits.

use rust_decimal::Decimal;

pub const MAX_FRACTION_DIGITS: u32 = 4;

/// Why an amount is unacceptable, or `None` when it is fine.
pub fn amount_problem(value: &Decimal) -> Option<String> {
    if value.is_sign_negative() && !value.is_zero() {
        return Some("must not be negative".into());
    }
    if value.normalize().scale() > MAX_FRACTION_DIGITS {
        return Some(format!(
            "must have at most {MAX_FRACTION_DIGITS} digits after the decimal point"
        ));
    }
    None
}

/// `unitPrice × quantity`, rounded to the amount precision.
pub fn line_total(unit_price: Decimal, quantity: i64) -> Decimal {
    (unit_price * Decimal::from(quantity)).round_dp(MAX_FRACTION_DIGITS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn negative_and_over_precise_amounts_are_refused() {
        assert!(amount_problem(&Decimal::from_str("-0.01").unwrap()).is_some());
        assert!(amount_problem(&Decimal::from_str("1.00001").unwrap()).is_some());
        assert!(amount_problem(&Decimal::from_str("1.50000").unwrap()).is_none());
        assert!(amount_problem(&Decimal::from_str("0").unwrap()).is_none());
    }

    #[test]
    fn line_total_is_exact() {
        let p = Decimal::from_str("0.1").unwrap();
        assert_eq!(line_total(p, 3).to_string(), "0.3");
    }

    #[test]
    fn decimals_round_trip_through_json_without_floats() {
        let d: Decimal = serde_json::from_str("10.0000").unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "10.0000");
        let big: Decimal = serde_json::from_str("12345678901234.1234").unwrap();
        assert_eq!(serde_json::to_string(&big).unwrap(), "12345678901234.1234");
    }
}
