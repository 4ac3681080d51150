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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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
        let upper = super::text::trim(text).to_ascii_uppercase();
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

/// The four words of the SendPro360 surface, each standing for a set of stored statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendproStatus {
    Unfulfilled,
    OnHold,
    Fulfilled,
    Canceled,
}

impl SendproStatus {
    pub fn parse(text: &str) -> Option<SendproStatus> {
        match super::text::trim(text).to_ascii_uppercase().as_str() {
            "UNFULFILLED" => Some(SendproStatus::Unfulfilled),
            "ONHOLD" | "HOLD" => Some(SendproStatus::OnHold),
            "FULFILLED" => Some(SendproStatus::Fulfilled),
            "CANCELED" | "CANCELLED" => Some(SendproStatus::Canceled),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SendproStatus::Unfulfilled => "UNFULFILLED",
            SendproStatus::OnHold => "ONHOLD",
            SendproStatus::Fulfilled => "FULFILLED",
            SendproStatus::Canceled => "CANCELED",
        }
    }

    pub fn of(status: Status) -> SendproStatus {
        match status {
            Status::Received | Status::InProgress | Status::Backorder => SendproStatus::Unfulfilled,
            Status::OnHold => SendproStatus::OnHold,
            Status::Shipped | Status::Returned => SendproStatus::Fulfilled,
            Status::Canceled => SendproStatus::Canceled,
        }
    }

    /// The stored statuses this word covers (for search).
    pub fn members(self) -> Vec<Status> {
        ALL.into_iter()
            .filter(|s| SendproStatus::of(*s) == self)
            .collect()
    }
}

/// Where an order goes when a SendPro360 client sets `target`: `Ok(None)` when it is already
/// there, `Ok(Some(status))` for the move, `Err(reason)` when the lifecycle forbids it.
/// Setting UNFULFILLED on a held order releases it to the status it was held from.
pub fn sendpro_transition(
    current: Status,
    held_from: Option<Status>,
    target: SendproStatus,
) -> Result<Option<Status>, String> {
    if SendproStatus::of(current) == target {
        return Ok(None);
    }
    let to = match target {
        SendproStatus::Unfulfilled => held_from
            .filter(|s| SendproStatus::of(*s) == SendproStatus::Unfulfilled)
            .unwrap_or(Status::Received),
        SendproStatus::OnHold => Status::OnHold,
        SendproStatus::Fulfilled => Status::Shipped,
        SendproStatus::Canceled => Status::Canceled,
    };
    if current.can_move_to(to) {
        Ok(Some(to))
    } else {
        Err(format!(
            "an order that is {} cannot become {}",
            current,
            target.as_str()
        ))
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
    fn sendpro_words_over_the_whole_lifecycle() {
        use SendproStatus as W;
        let cases = [
            (Received, W::Unfulfilled, Ok(None)),
            (Received, W::OnHold, Ok(Some(OnHold))),
            (Received, W::Fulfilled, Ok(Some(Shipped))),
            (Received, W::Canceled, Ok(Some(Canceled))),
            (InProgress, W::Unfulfilled, Ok(None)),
            (InProgress, W::OnHold, Ok(Some(OnHold))),
            (InProgress, W::Fulfilled, Ok(Some(Shipped))),
            (InProgress, W::Canceled, Ok(Some(Canceled))),
            (Backorder, W::Unfulfilled, Ok(None)),
            (Backorder, W::OnHold, Ok(Some(OnHold))),
            (Backorder, W::Fulfilled, Ok(Some(Shipped))),
            (Backorder, W::Canceled, Ok(Some(Canceled))),
            (OnHold, W::Unfulfilled, Ok(Some(Received))),
            (OnHold, W::OnHold, Ok(None)),
            (OnHold, W::Fulfilled, Ok(Some(Shipped))),
            (OnHold, W::Canceled, Ok(Some(Canceled))),
            (Shipped, W::Unfulfilled, Err(())),
            (Shipped, W::OnHold, Err(())),
            (Shipped, W::Fulfilled, Ok(None)),
            (Shipped, W::Canceled, Err(())),
            (Returned, W::Unfulfilled, Err(())),
            (Returned, W::OnHold, Err(())),
            (Returned, W::Fulfilled, Ok(None)),
            (Returned, W::Canceled, Err(())),
            (Canceled, W::Unfulfilled, Err(())),
            (Canceled, W::OnHold, Err(())),
            (Canceled, W::Fulfilled, Err(())),
            (Canceled, W::Canceled, Ok(None)),
        ];
        assert_eq!(cases.len(), ALL.len() * 4);
        for (from, word, expected) in cases {
            let got = sendpro_transition(from, None, word).map_err(|_| ());
            assert_eq!(got, expected, "{from} -> {}", word.as_str());
        }
    }

    #[test]
    fn releasing_a_hold_returns_to_the_held_status() {
        let to = sendpro_transition(OnHold, Some(Backorder), SendproStatus::Unfulfilled);
        assert_eq!(to, Ok(Some(Backorder)));
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
