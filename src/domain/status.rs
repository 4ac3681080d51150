//! The order lifecycle, stored with the Fulfillment words.
//!
//! ```text
//! RECEIVED ⇄ INPROGRESS ⇄ BACKORDER      (open states move freely among themselves)
//!     any open state → ONHOLD → back to the state it was held from (or another open state)
//!     any open state → SHIPPED → RETURNED
//!     any open state → CANCELED (final)
//! ```
//! SHIPPED, RETURNED and CANCELED never go back to an open state; CANCELED is final.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Received,
    #[serde(rename = "INPROGRESS")]
    InProgress,
    Backorder,
    #[serde(rename = "ONHOLD")]
    OnHold,
    Shipped,
    Returned,
    Canceled,
}

pub const ALL: [Status; 7] = [
    Status::Received,
    Status::InProgress,
    Status::Backorder,
    Status::OnHold,
    Status::Shipped,
    Status::Returned,
    Status::Canceled,
];

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "RECEIVED",
            Status::InProgress => "INPROGRESS",
            Status::Backorder => "BACKORDER",
            Status::OnHold => "ONHOLD",
            Status::Shipped => "SHIPPED",
            Status::Returned => "RETURNED",
            Status::Canceled => "CANCELED",
        }
    }

    /// Case-insensitive; `HOLD` is the documented alias of `ONHOLD`.
    pub fn parse(text: &str) -> Option<Status> {
        let upper = text.trim().to_ascii_uppercase();
        if upper == "HOLD" {
            return Some(Status::OnHold);
        }
        ALL.into_iter().find(|s| s.as_str() == upper)
    }

    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Received | Status::InProgress | Status::Backorder | Status::OnHold
        )
    }

    /// Orders in these states can no longer have their content changed.
    pub fn is_closed(self) -> bool {
        !self.is_open()
    }

    pub fn can_move_to(self, to: Status) -> bool {
        if self == to {
            return false;
        }
        match self {
            Status::Received | Status::InProgress | Status::Backorder | Status::OnHold => {
                to != Status::Returned
            }
            Status::Shipped => to == Status::Returned,
            Status::Returned | Status::Canceled => false,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn parses_case_insensitively_with_the_hold_alias() {
        assert_eq!(Status::parse("Received"), Some(Received));
        assert_eq!(Status::parse("hold"), Some(OnHold));
        assert_eq!(Status::parse("inProgress"), Some(InProgress));
        assert_eq!(Status::parse("DONE"), None);
    }

    #[test]
    fn the_whole_transition_table() {
        let allowed = [
            (Received, InProgress),
            (Received, Backorder),
            (Received, OnHold),
            (Received, Shipped),
            (Received, Canceled),
            (InProgress, Received),
            (InProgress, Backorder),
            (InProgress, OnHold),
            (InProgress, Shipped),
            (InProgress, Canceled),
            (Backorder, Received),
            (Backorder, InProgress),
            (Backorder, OnHold),
            (Backorder, Shipped),
            (Backorder, Canceled),
            (OnHold, Received),
            (OnHold, InProgress),
            (OnHold, Backorder),
            (OnHold, Shipped),
            (OnHold, Canceled),
            (Shipped, Returned),
        ];
        for from in ALL {
            for to in ALL {
                let expected = allowed.contains(&(from, to));
                assert_eq!(from.can_move_to(to), expected, "{from} -> {to}");
            }
        }
    }
}
