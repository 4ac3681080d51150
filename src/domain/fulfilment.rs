//! What a warehouse may do to an order, and the arithmetic of partial shipments.
//!
//! | operation | allowed from                          | goes to                                  |
//! |-----------|---------------------------------------|------------------------------------------|
//! | start     | RECEIVED, BACKORDER                   | INPROGRESS                               |
//! | backorder | RECEIVED, INPROGRESS                  | BACKORDER                                |
//! | hold      | RECEIVED, INPROGRESS, BACKORDER       | ONHOLD                                   |
//! | release   | ONHOLD                                | the status it was held from              |
//! | ship      | RECEIVED, INPROGRESS, BACKORDER       | SHIPPED when every line is shipped, else INPROGRESS |
//! | return    | SHIPPED, RETURNED (units left to return) | RETURNED                              |
//! | cancel    | any open status, nothing shipped yet  | CANCELED                                 |
//!
//! A held order is released before it is shipped, so a hold always stops the warehouse.

use super::Status;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Start,
    Backorder,
    Hold,
    Release,
    Ship,
    Return,
    Cancel,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Start => "start",
            Operation::Backorder => "backorder",
            Operation::Hold => "hold",
            Operation::Release => "release",
            Operation::Ship => "ship",
            Operation::Return => "return",
            Operation::Cancel => "cancel",
        }
    }
}

/// The status `op` leads to from `current`, or the reason it is refused.
/// For `Ship` the answer is the status of a partial shipment; [`ship`] says whether it completes.
/// `anything_shipped` matters to `Cancel`: goods that left the warehouse are returned, not cancelled.
pub fn transition(
    op: Operation,
    current: Status,
    held_from: Option<Status>,
    anything_shipped: bool,
) -> Result<Status, String> {
    use Status::*;
    let refuse = || {
        Err(format!(
            "cannot {} an order whose status is {current}",
            op.as_str()
        ))
    };
    match op {
        Operation::Start => match current {
            Received | Backorder => Ok(InProgress),
            _ => refuse(),
        },
        Operation::Backorder => match current {
            Received | InProgress => Ok(Backorder),
            _ => refuse(),
        },
        Operation::Hold => match current {
            Received | InProgress | Backorder => Ok(OnHold),
            _ => refuse(),
        },
        Operation::Release => match current {
            OnHold => Ok(held_from
                .filter(|s| s.is_open() && *s != OnHold)
                .unwrap_or(Received)),
            _ => refuse(),
        },
        Operation::Ship => match current {
            Received | InProgress | Backorder => Ok(InProgress),
            OnHold => Err("cannot ship an order on hold: release it first".to_string()),
            _ => refuse(),
        },
        Operation::Return => match current {
            Shipped | Returned => Ok(Returned),
            _ => refuse(),
        },
        Operation::Cancel => match current {
            _ if current.is_open() && anything_shipped => {
                Err("cannot cancel an order with shipped lines: return them instead".to_string())
            }
            Received | InProgress | Backorder | OnHold => Ok(Canceled),
            _ => refuse(),
        },
    }
}

/// One line of a shipment or a return: the index of the order line and how many units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineQuantity {
    pub line: usize,
    pub quantity: i64,
}

/// Adds a shipment to `shipped` (units shipped so far, per order line) if it fits in `ordered`,
/// and says whether every line is now fully shipped. All or nothing: a refused shipment leaves
/// `shipped` as it was.
pub fn ship(ordered: &[i64], shipped: &mut [i64], lines: &[LineQuantity]) -> Result<bool, String> {
    add_within(ordered, shipped, lines, "shipped", "ordered")
}

/// Adds a return to `returned` if it fits in what was `shipped`; all or nothing, as [`ship`].
pub fn give_back(
    shipped: &[i64],
    returned: &mut [i64],
    lines: &[LineQuantity],
) -> Result<(), String> {
    add_within(shipped, returned, lines, "returned", "shipped").map(|_| ())
}

/// `counted += lines` where every line stays within `limit`; whether all reached their limit.
fn add_within(
    limit: &[i64],
    counted: &mut [i64],
    lines: &[LineQuantity],
    done: &str,
    bound: &str,
) -> Result<bool, String> {
    if lines.is_empty() {
        return Err("at least one line is needed".to_string());
    }
    let mut after = counted.to_vec();
    after.resize(limit.len(), 0);
    for l in lines {
        if l.quantity < 1 {
            return Err(format!(
                "orderLines[{}]: quantity must be at least 1",
                l.line
            ));
        }
        let Some(slot) = after.get_mut(l.line) else {
            return Err(format!(
                "orderLines[{}]: the order has no such line",
                l.line
            ));
        };
        *slot += l.quantity;
        if *slot > limit[l.line] {
            return Err(format!(
                "orderLines[{}]: {} units would be {done}, {} were {bound}",
                l.line, *slot, limit[l.line]
            ));
        }
    }
    if counted.len() != after.len() {
        return Err(format!("{done} quantities do not match the order lines"));
    }
    counted.copy_from_slice(&after);
    Ok(after.iter().zip(limit).all(|(s, o)| s >= o))
}

#[cfg(test)]
mod tests {
    use super::Operation as Op;
    use super::*;
    use Status::*;

    const OPS: [Operation; 7] = [
        Op::Start,
        Op::Backorder,
        Op::Hold,
        Op::Release,
        Op::Ship,
        Op::Return,
        Op::Cancel,
    ];

    /// The whole table: every operation from every status, allowed or not.
    #[test]
    fn every_move_is_allowed_or_refused_as_the_table_says() {
        let allowed = |op, from| -> Option<Status> {
            match (op, from) {
                (Op::Start, Received | Backorder) => Some(InProgress),
                (Op::Backorder, Received | InProgress) => Some(Backorder),
                (Op::Hold, Received | InProgress | Backorder) => Some(OnHold),
                (Op::Release, OnHold) => Some(InProgress),
                (Op::Ship, Received | InProgress | Backorder) => Some(InProgress),
                (Op::Return, Shipped | Returned) => Some(Returned),
                (Op::Cancel, Received | InProgress | Backorder | OnHold) => Some(Canceled),
                _ => None,
            }
        };
        for op in OPS {
            for from in crate::domain::status::ALL {
                let got = transition(op, from, Some(InProgress), false);
                match allowed(op, from) {
                    Some(to) => assert_eq!(got, Ok(to), "{op:?} from {from}"),
                    None => assert!(got.is_err(), "{op:?} from {from} should be refused"),
                }
            }
        }
    }

    #[test]
    fn release_goes_back_to_where_the_hold_started() {
        assert_eq!(
            transition(Op::Release, OnHold, Some(Backorder), false),
            Ok(Backorder)
        );
        assert_eq!(transition(Op::Release, OnHold, None, false), Ok(Received));
        assert_eq!(
            transition(Op::Release, OnHold, Some(Shipped), false),
            Ok(Received)
        );
    }

    #[test]
    fn refusals_say_why() {
        let e = transition(Op::Ship, Canceled, None, false).unwrap_err();
        assert!(e.contains("ship") && e.contains("CANCELED"), "{e}");
        let e = transition(Op::Cancel, Shipped, None, true).unwrap_err();
        assert!(e.contains("cancel") && e.contains("SHIPPED"), "{e}");
        let e = transition(Op::Ship, OnHold, Some(Received), false).unwrap_err();
        assert!(e.contains("release"), "{e}");
    }

    #[test]
    fn a_partly_shipped_order_cannot_be_cancelled() {
        assert!(transition(Op::Cancel, InProgress, None, true).is_err());
        assert!(transition(Op::Cancel, OnHold, Some(InProgress), true).is_err());
    }

    #[test]
    fn partial_shipments_add_up_to_complete() {
        let ordered = [3, 1];
        let mut shipped = [0, 0];
        let first = [LineQuantity {
            line: 0,
            quantity: 2,
        }];
        assert_eq!(ship(&ordered, &mut shipped, &first), Ok(false));
        assert_eq!(shipped, [2, 0]);
        let rest = [
            LineQuantity {
                line: 0,
                quantity: 1,
            },
            LineQuantity {
                line: 1,
                quantity: 1,
            },
        ];
        assert_eq!(ship(&ordered, &mut shipped, &rest), Ok(true));
        assert_eq!(shipped, [3, 1]);
    }

    #[test]
    fn shipped_never_exceeds_ordered_and_a_refusal_changes_nothing() {
        let ordered = [3, 1];
        let mut shipped = [2, 0];
        // The second line fits, the first does not: nothing is applied.
        let over = [
            LineQuantity {
                line: 1,
                quantity: 1,
            },
            LineQuantity {
                line: 0,
                quantity: 2,
            },
        ];
        assert!(ship(&ordered, &mut shipped, &over).is_err());
        assert_eq!(shipped, [2, 0]);
        // The same line twice in one shipment counts twice.
        let twice = [
            LineQuantity {
                line: 0,
                quantity: 1,
            },
            LineQuantity {
                line: 0,
                quantity: 1,
            },
        ];
        assert!(ship(&ordered, &mut shipped, &twice).is_err());
        assert_eq!(shipped, [2, 0]);
    }

    #[test]
    fn bad_shipment_lines_are_refused() {
        let ordered = [3];
        let mut shipped = [0];
        assert!(ship(&ordered, &mut shipped, &[]).is_err());
        assert!(
            ship(
                &ordered,
                &mut shipped,
                &[LineQuantity {
                    line: 0,
                    quantity: 0
                }]
            )
            .is_err()
        );
        assert!(
            ship(
                &ordered,
                &mut shipped,
                &[LineQuantity {
                    line: 0,
                    quantity: -1
                }]
            )
            .is_err()
        );
        assert!(
            ship(
                &ordered,
                &mut shipped,
                &[LineQuantity {
                    line: 1,
                    quantity: 1
                }]
            )
            .is_err()
        );
        assert_eq!(shipped, [0]);
    }
}
