//! Money and quantities: exact decimals, never floating point.
//!
//! `rust_decimal` with serde_json's `arbitrary_precision` reads `10.0000` as written and writes it
//! back as a JSON number with the same digits.

use rust_decimal::Decimal;

pub const MAX_FRACTION_DIGITS: u32 = 4;

/// No single amount beyond a quadrillion: sums of 1,000 lines of such amounts times a million
/// units still fit a decimal (28 digits), so totals can never overflow.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(2764472319, 232830, 0, false, 0); // 10^15 - 1

/// Why an amount is unacceptable, or `None` when it is fine.
pub fn amount_problem(value: &Decimal) -> Option<String> {
    if value.is_sign_negative() && !value.is_zero() {
        return Some("must not be negative".into());
    }
    if value.abs() > MAX_AMOUNT {
        return Some(format!("must be at most {MAX_AMOUNT}"));
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

/// Whole numbers (`3`, and `3.0`, which JSON Schema also calls an integer) for quantities, line
/// ids and paging; anything fractional or out of range is refused.
pub fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    use rust_decimal::prelude::ToPrimitive;
    use serde::Deserialize;
    let Some(value) = Option::<serde_json::Value>::deserialize(d)? else {
        return Ok(None);
    };
    let serde_json::Value::Number(n) = &value else {
        return Err(serde::de::Error::custom(format!(
            "expected a whole number, got {value}"
        )));
    };
    // Nearly every stored quantity is a plain integer: no round trip through text for those.
    if let Some(whole) = n.as_i64() {
        return Ok(Some(whole));
    }
    let exact: Option<Decimal> = n
        .to_string()
        .parse()
        .ok()
        .or_else(|| Decimal::from_scientific(&n.to_string()).ok());
    exact
        .filter(|d| d.fract().is_zero())
        .and_then(|d| d.to_i64())
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("expected a whole number, got {n}")))
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
    fn amounts_are_capped_so_totals_cannot_overflow() {
        assert_eq!(MAX_AMOUNT.to_string(), "999999999999999");
        assert!(amount_problem(&MAX_AMOUNT).is_none());
        assert!(amount_problem(&Decimal::from_str("1e25").unwrap_or(Decimal::MAX)).is_some());
        let worst = line_total(MAX_AMOUNT, 1_000_000) * Decimal::from(1000);
        assert!(worst < Decimal::MAX);
    }

    #[test]
    fn whole_numbers_accept_integral_floats_only() {
        #[derive(serde::Deserialize)]
        struct Q {
            #[serde(default, deserialize_with = "whole_number")]
            q: Option<i64>,
        }
        let parse = |s: &str| serde_json::from_str::<Q>(s).map(|q| q.q);
        assert_eq!(parse(r#"{"q": 3}"#).unwrap(), Some(3));
        assert_eq!(parse(r#"{"q": 383.0}"#).unwrap(), Some(383));
        assert_eq!(parse(r#"{"q": null}"#).unwrap(), None);
        assert!(parse(r#"{"q": 1.5}"#).is_err());
        assert!(parse(r#"{"q": "3"}"#).is_err());
        assert!(parse(r#"{"q": 1e30}"#).is_err());
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
