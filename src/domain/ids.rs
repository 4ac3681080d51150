//! Order identifiers in the two documented formats.
//!
//! Fulfillment: `ORA` + 19 zero-padded digits of a 63-bit number + the destination country
//! (`ORA0008185936177270784US`). The number is milliseconds since 2020-01-01 in the high bits and
//! 22 random bits below, so ids sort by creation time yet cannot be enumerated.
//! SendPro360: `PB` + 10 random alphanumerics (`PBcffM5ruasQ`). Both come from the OS-seeded
//! CSPRNG; the store's unique index turns the (astronomically rare) collision into a retry.

use rand::Rng;
use rand::distributions::Alphanumeric;

const EPOCH_2020_MS: i64 = 1_577_836_800_000;
const RANDOM_BITS: u32 = 22;

pub fn fulfillment_order_id(country_code: Option<&str>) -> String {
    let ms = (chrono::Utc::now().timestamp_millis() - EPOCH_2020_MS).max(0) as u64;
    let random: u64 = rand::thread_rng().gen_range(0..(1u64 << RANDOM_BITS));
    let number = ((ms << RANDOM_BITS) | random) & (u64::MAX >> 1);
    let country = country_code
        .filter(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()))
        .map(|c| c.to_ascii_uppercase())
        .unwrap_or_else(|| "US".to_string());
    format!("ORA{number:019}{country}")
}

pub fn sendpro_order_id() -> String {
    let tail: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(10)
        .map(char::from)
        .collect();
    format!("PB{tail}")
}

/// Cheap shape check for path ids, so that garbage never reaches the database.
pub fn looks_like_order_id(id: &str) -> bool {
    (1..=40).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fulfillment_ids_have_the_documented_shape() {
        let id = fulfillment_order_id(Some("ca"));
        assert_eq!(id.len(), 3 + 19 + 2);
        assert!(id.starts_with("ORA") && id.ends_with("CA"));
        assert!(id[3..22].chars().all(|c| c.is_ascii_digit()));
        assert!(fulfillment_order_id(None).ends_with("US"));
        assert!(fulfillment_order_id(Some("X1")).ends_with("US"));
    }

    #[test]
    fn fulfillment_ids_are_time_ordered_and_distinct() {
        let a = fulfillment_order_id(None);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = fulfillment_order_id(None);
        assert!(a < b, "{a} !< {b}");
    }

    #[test]
    fn sendpro_ids_have_the_documented_shape() {
        let id = sendpro_order_id();
        assert_eq!(id.len(), 12);
        assert!(id.starts_with("PB"));
        assert!(looks_like_order_id(&id));
        assert_ne!(id, sendpro_order_id());
    }
}
