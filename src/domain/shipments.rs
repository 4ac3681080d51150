//! What the warehouse reported about an order: shipments, returns, the lines short on a
//! backorder, and the reason of a cancellation. Kept on the order itself (in its stored document),
//! so a move and its record are one write, and the views of both surfaces read them from there.
//!
//! Records name order lines by position. Once any record names a line, the order's lines can no
//! longer change (`Fulfilment::freezes_lines`), so a position always means the same line.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::date::utc_seconds;
use super::fulfilment::{self, LineQuantity, Operation, transition};
use super::order::{Order, OrderLine};
use super::status::Status;
use super::validate::{FieldError, Problems};

/// Most shipments or returns one order may record: far more than any real parcel split, and a
/// bound on the stored document.
pub const MAX_RECORDS: usize = 100;
/// Longest carrier, service id or tracking number (the sizes of `actualShippingDetails`).
pub const MAX_SHIPPING_TEXT: usize = 50;
pub const MAX_SERVICE_NAME: usize = 64;
pub const MAX_REASON: usize = 255;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fulfilment {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shipments: Vec<Shipment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub returns: Vec<Return>,
    /// The lines short, as the last backorder reported them; cleared when work resumes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backordered: Vec<LineQuantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    pub shipment_id: String,
    pub carrier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    pub tracking_number: String,
    #[serde(with = "utc_seconds")]
    pub ship_date: DateTime<Utc>,
    pub lines: Vec<LineQuantity>,
    #[serde(with = "utc_seconds")]
    pub recorded_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Return {
    pub return_id: String,
    pub reason: String,
    pub lines: Vec<LineQuantity>,
    #[serde(with = "utc_seconds")]
    pub recorded_at: DateTime<Utc>,
}

impl Fulfilment {
    pub fn is_empty(&self) -> bool {
        *self == Fulfilment::default()
    }

    /// Whether some record names order lines by position.
    pub fn freezes_lines(&self) -> bool {
        !(self.shipments.is_empty() && self.returns.is_empty() && self.backordered.is_empty())
    }
}

/// How a request names an order line: by `lineId`, or by SKU when no two lines share it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineRef {
    pub line_id: Option<i64>,
    pub sku: Option<String>,
    pub quantity: i64,
}

/// A shipment as the warehouse reports it, before it is checked against the order.
#[derive(Clone, Debug, PartialEq)]
pub struct NewShipment {
    pub carrier: String,
    pub service_id: Option<String>,
    pub service_name: Option<String>,
    pub tracking_number: String,
    pub ship_date: Option<DateTime<Utc>>,
    /// `None`: everything not shipped yet.
    pub lines: Option<Vec<LineRef>>,
}

/// One thing the warehouse did.
#[derive(Clone, Debug, PartialEq)]
pub enum Move {
    Start,
    Backorder(Vec<LineRef>),
    Hold {
        reason: String,
    },
    Release,
    Ship(NewShipment),
    /// `lines: None`: everything shipped and not returned yet.
    Return {
        reason: String,
        lines: Option<Vec<LineRef>>,
    },
    Cancel {
        reason: Option<String>,
    },
}

impl Move {
    pub fn operation(&self) -> Operation {
        match self {
            Move::Start => Operation::Start,
            Move::Backorder(_) => Operation::Backorder,
            Move::Hold { .. } => Operation::Hold,
            Move::Release => Operation::Release,
            Move::Ship(_) => Operation::Ship,
            Move::Return { .. } => Operation::Return,
            Move::Cancel { .. } => Operation::Cancel,
        }
    }

    /// The request's own problems, whatever the order: 400 before anything is read.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut p = Problems::default();
        let lines = |p: &mut Problems, lines: &[LineRef], required: bool| {
            if required && lines.is_empty() {
                p.add("lines", "must list at least one line");
            }
            for (i, l) in lines.iter().enumerate() {
                if l.line_id.is_none() && l.sku.as_deref().is_none_or(super::text::is_blank) {
                    p.add(format!("lines[{i}]"), "must name a lineId or a sku");
                }
                if l.quantity < 1 {
                    p.add(format!("lines[{i}].quantity"), "must be at least 1");
                }
                p.max_len(
                    &format!("lines[{i}].sku"),
                    l.sku.as_deref(),
                    super::order::MAX_SKU,
                );
                if l.line_id.is_some_and(|id| id < 0) {
                    p.add(format!("lines[{i}].lineId"), "must not be negative");
                }
            }
            if lines.len() > super::order::MAX_LINES {
                p.add(
                    "lines",
                    format!("at most {} lines", super::order::MAX_LINES),
                );
            }
        };
        match self {
            Move::Start | Move::Release => {}
            Move::Backorder(l) => lines(&mut p, l, true),
            Move::Hold { reason } => p.required_text("reason", Some(reason), MAX_REASON),
            Move::Cancel { reason } => p.max_len("reason", reason.as_deref(), MAX_REASON),
            Move::Return { reason, lines: l } => {
                p.required_text("reason", Some(reason), MAX_REASON);
                if let Some(l) = l {
                    lines(&mut p, l, true);
                }
            }
            Move::Ship(s) => {
                p.required_text("carrier", Some(&s.carrier), MAX_SHIPPING_TEXT);
                p.required_text(
                    "trackingNumber",
                    Some(&s.tracking_number),
                    MAX_SHIPPING_TEXT,
                );
                p.max_len("serviceId", s.service_id.as_deref(), MAX_SHIPPING_TEXT);
                p.max_len("serviceName", s.service_name.as_deref(), MAX_SERVICE_NAME);
                if let Some(l) = &s.lines {
                    lines(&mut p, l, true);
                }
            }
        }
        p.into_result()
    }
}

/// Why a move was refused: the request does not fit the order's lines (400), or the order's
/// state does not allow it (409).
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    Invalid(Vec<FieldError>),
    State(String),
}

/// Applies `mv` to `order` at `now`, or says why not; a refused move leaves the order as it was.
/// A move to where the order already is (start an order in progress, hold a held one, cancel a
/// cancelled one, record a shipment already recorded under its tracking number) changes nothing,
/// so a retried request is answered as the first one was.
pub fn apply(order: &mut Order, mv: &Move, now: DateTime<Utc>) -> Result<(), Refusal> {
    let op = mv.operation();
    let ordered: Vec<i64> = order
        .content
        .order_lines
        .iter()
        .map(|l| l.ordered_quantity.unwrap_or(0))
        .collect();
    let shipped = shipped_quantities(order);
    let anything_shipped = shipped.iter().any(|q| *q > 0);
    let already_there = match mv {
        Move::Start => order.status == Status::InProgress,
        Move::Hold { .. } => order.status == Status::OnHold,
        Move::Cancel { .. } => order.status == Status::Canceled,
        Move::Ship(s) => {
            return ship(order, s, &ordered, shipped, now);
        }
        _ => false,
    };
    if already_there {
        return Ok(());
    }
    let to = transition(op, order.status, order.status_before_hold, anything_shipped)
        .map_err(Refusal::State)?;
    match mv {
        Move::Start | Move::Ship(_) => order.fulfilment.backordered.clear(),
        Move::Backorder(refs) => {
            let lines = resolve(&order.content.order_lines, refs)?;
            let mut short = vec![0; ordered.len()];
            for l in &lines {
                short[l.line] += l.quantity;
                let open = ordered[l.line] - shipped[l.line];
                if short[l.line] > open {
                    return Err(Refusal::State(format!(
                        "orderLines[{}]: {} units cannot be short, {} are left to ship",
                        l.line, short[l.line], open
                    )));
                }
            }
            order.fulfilment.backordered = lines;
        }
        Move::Hold { reason } => {
            order.status_before_hold = Some(order.status);
            order.hold_reason = vec![reason.clone()];
        }
        Move::Release => {}
        Move::Return { reason, lines } => {
            let returned = returned_quantities(order);
            let left: Vec<i64> = shipped.iter().zip(&returned).map(|(s, r)| s - r).collect();
            let lines = match lines {
                Some(refs) => resolve(&order.content.order_lines, refs)?,
                None => remaining(&left),
            };
            if lines.is_empty() {
                return Err(Refusal::State(
                    "every shipped unit has been returned already".to_string(),
                ));
            }
            let mut after = returned;
            fulfilment::give_back(&shipped, &mut after, &lines).map_err(Refusal::State)?;
            if order.fulfilment.returns.len() >= MAX_RECORDS {
                return Err(Refusal::State(format!(
                    "an order records at most {MAX_RECORDS} returns"
                )));
            }
            let n = order.fulfilment.returns.len() + 1;
            order.fulfilment.returns.push(Return {
                return_id: format!("R{n}"),
                reason: reason.clone(),
                lines,
                recorded_at: now,
            });
        }
        Move::Cancel { reason } => order.fulfilment.cancel_reason = reason.clone(),
    }
    if to != Status::OnHold {
        order.status_before_hold = None;
        order.hold_reason.clear();
    }
    order.status = to;
    Ok(())
}

fn ship(
    order: &mut Order,
    s: &NewShipment,
    ordered: &[i64],
    mut shipped: Vec<i64>,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    if let Some(earlier) = order
        .fulfilment
        .shipments
        .iter()
        .find(|e| e.tracking_number == s.tracking_number)
    {
        let same_lines = match &s.lines {
            None => true,
            Some(refs) => resolve(&order.content.order_lines, refs)? == earlier.lines,
        };
        if same_lines && earlier.carrier == s.carrier {
            return Ok(());
        }
        return Err(Refusal::State(format!(
            "tracking number {} is already recorded for shipment {} with other contents",
            s.tracking_number, earlier.shipment_id
        )));
    }
    let anything_shipped = shipped.iter().any(|q| *q > 0);
    transition(
        Operation::Ship,
        order.status,
        order.status_before_hold,
        anything_shipped,
    )
    .map_err(Refusal::State)?;
    let lines = match &s.lines {
        Some(refs) => resolve(&order.content.order_lines, refs)?,
        None => {
            let left: Vec<i64> = ordered.iter().zip(&shipped).map(|(o, s)| o - s).collect();
            remaining(&left)
        }
    };
    if lines.is_empty() {
        return Err(Refusal::State(
            "every ordered unit has been shipped already".to_string(),
        ));
    }
    let complete = fulfilment::ship(ordered, &mut shipped, &lines).map_err(Refusal::State)?;
    if order.fulfilment.shipments.len() >= MAX_RECORDS {
        return Err(Refusal::State(format!(
            "an order records at most {MAX_RECORDS} shipments"
        )));
    }
    let n = order.fulfilment.shipments.len() + 1;
    order.fulfilment.shipments.push(Shipment {
        shipment_id: format!("S{n}"),
        carrier: s.carrier.clone(),
        service_id: s.service_id.clone(),
        service_name: s.service_name.clone(),
        tracking_number: s.tracking_number.clone(),
        ship_date: s.ship_date.unwrap_or(now),
        lines,
        recorded_at: now,
    });
    order.fulfilment.backordered.clear();
    order.status = if complete {
        Status::Shipped
    } else {
        Status::InProgress
    };
    Ok(())
}

/// Units shipped per order line. An order marked shipped without shipment records (SendPro360's
/// bulk FULFILLED) counts as wholly shipped.
pub fn shipped_quantities(order: &Order) -> Vec<i64> {
    let lines = &order.content.order_lines;
    if order.fulfilment.shipments.is_empty()
        && matches!(order.status, Status::Shipped | Status::Returned)
    {
        return lines
            .iter()
            .map(|l| l.ordered_quantity.unwrap_or(0))
            .collect();
    }
    sum(
        lines.len(),
        order.fulfilment.shipments.iter().map(|s| &s.lines),
    )
}

pub fn returned_quantities(order: &Order) -> Vec<i64> {
    let n = order.content.order_lines.len();
    sum(n, order.fulfilment.returns.iter().map(|r| &r.lines))
}

pub fn backordered_quantities(order: &Order) -> Vec<i64> {
    let n = order.content.order_lines.len();
    sum(n, std::iter::once(&order.fulfilment.backordered))
}

fn sum<'a>(n: usize, records: impl Iterator<Item = &'a Vec<LineQuantity>>) -> Vec<i64> {
    let mut total = vec![0; n];
    for lines in records {
        for l in lines {
            if let Some(t) = total.get_mut(l.line) {
                *t += l.quantity;
            }
        }
    }
    total
}

/// Every line with something left, with what is left.
fn remaining(left: &[i64]) -> Vec<LineQuantity> {
    left.iter()
        .enumerate()
        .filter(|(_, q)| **q > 0)
        .map(|(line, q)| LineQuantity { line, quantity: *q })
        .collect()
}

/// Finds the order line each reference names.
fn resolve(lines: &[OrderLine], refs: &[LineRef]) -> Result<Vec<LineQuantity>, Refusal> {
    let mut p = Problems::default();
    let mut out = Vec::with_capacity(refs.len());
    for (i, r) in refs.iter().enumerate() {
        let matches: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| match r.line_id {
                Some(id) => {
                    l.line_id == Some(id)
                        && (r.sku.is_none() || l.sku.as_deref() == r.sku.as_deref())
                }
                None => l.sku.as_deref() == r.sku.as_deref(),
            })
            .map(|(n, _)| n)
            .collect();
        let named = match (r.line_id, r.sku.as_deref()) {
            (Some(id), Some(sku)) => format!("lineId {id} with sku {sku}"),
            (Some(id), None) => format!("lineId {id}"),
            (None, Some(sku)) => format!("sku {sku}"),
            (None, None) => "nothing".to_string(),
        };
        match matches.as_slice() {
            [one] => out.push(LineQuantity {
                line: *one,
                quantity: r.quantity,
            }),
            [] => p.add(
                format!("lines[{i}]"),
                format!("the order has no line with {named}"),
            ),
            _ => p.add(
                format!("lines[{i}]"),
                format!("several lines have {named}; name the line by lineId"),
            ),
        }
    }
    p.into_result().map_err(Refusal::Invalid)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::order::{OrderContent, Surface};

    fn order(quantities: &[i64]) -> Order {
        let now = Utc::now();
        Order {
            order_id: "ORA1".into(),
            client_id: "c".into(),
            status: Status::Received,
            status_before_hold: None,
            hold_reason: Vec::new(),
            pb_create_date: now,
            pb_update_date: now,
            version: 1,
            tags: Vec::new(),
            created_by: "c".into(),
            source: Surface::Fulfillment,
            deleted_at: None,
            content: OrderContent {
                order_lines: quantities
                    .iter()
                    .enumerate()
                    .map(|(i, q)| OrderLine {
                        line_id: Some(i as i64 + 1),
                        sku: Some(format!("SKU{i}")),
                        ordered_quantity: Some(*q),
                        ..OrderLine::default()
                    })
                    .collect(),
                ..OrderContent::default()
            },
            fulfilment: Fulfilment::default(),
        }
    }

    fn line(sku: &str, quantity: i64) -> LineRef {
        LineRef {
            line_id: None,
            sku: Some(sku.into()),
            quantity,
        }
    }

    fn ship_of(tracking: &str, lines: Option<Vec<LineRef>>) -> Move {
        Move::Ship(NewShipment {
            carrier: "UPS".into(),
            service_id: None,
            service_name: None,
            tracking_number: tracking.into(),
            ship_date: None,
            lines,
        })
    }

    #[test]
    fn a_partial_shipment_keeps_the_order_open_and_the_rest_completes_it() {
        let mut o = order(&[3, 1]);
        let now = Utc::now();
        apply(&mut o, &ship_of("T1", Some(vec![line("SKU0", 2)])), now).unwrap();
        assert_eq!(o.status, Status::InProgress);
        assert_eq!(shipped_quantities(&o), [2, 0]);
        apply(&mut o, &ship_of("T2", None), now).unwrap();
        assert_eq!(o.status, Status::Shipped);
        assert_eq!(shipped_quantities(&o), [3, 1]);
        assert_eq!(o.fulfilment.shipments[1].lines.len(), 2);
    }

    #[test]
    fn the_same_tracking_number_is_a_retry_or_a_conflict() {
        let mut o = order(&[3]);
        let now = Utc::now();
        apply(&mut o, &ship_of("T1", Some(vec![line("SKU0", 1)])), now).unwrap();
        let after_first = o.clone();
        apply(&mut o, &ship_of("T1", Some(vec![line("SKU0", 1)])), now).unwrap();
        assert_eq!(o, after_first);
        let other = apply(&mut o, &ship_of("T1", Some(vec![line("SKU0", 2)])), now);
        assert!(matches!(other, Err(Refusal::State(_))));
        assert_eq!(o, after_first);
    }

    #[test]
    fn returns_and_backorders_stay_within_what_is_possible() {
        let mut o = order(&[2, 2]);
        let now = Utc::now();
        let short = Move::Backorder(vec![line("SKU1", 3)]);
        assert!(matches!(apply(&mut o, &short, now), Err(Refusal::State(_))));
        apply(&mut o, &Move::Backorder(vec![line("SKU1", 2)]), now).unwrap();
        assert_eq!(o.status, Status::Backorder);
        assert_eq!(backordered_quantities(&o), [0, 2]);
        apply(&mut o, &ship_of("T1", None), now).unwrap();
        assert!(o.fulfilment.backordered.is_empty());
        let too_many = Move::Return {
            reason: "r".into(),
            lines: Some(vec![line("SKU0", 3)]),
        };
        assert!(matches!(
            apply(&mut o, &too_many, now),
            Err(Refusal::State(_))
        ));
        let all = Move::Return {
            reason: "r".into(),
            lines: None,
        };
        apply(&mut o, &all, now).unwrap();
        assert_eq!(o.status, Status::Returned);
        assert_eq!(returned_quantities(&o), [2, 2]);
        assert!(matches!(apply(&mut o, &all, now), Err(Refusal::State(_))));
    }

    #[test]
    fn lines_are_named_by_line_id_or_by_an_unambiguous_sku() {
        let mut o = order(&[1, 1]);
        o.content.order_lines[1].sku = Some("SKU0".into());
        let by_sku = ship_of("T1", Some(vec![line("SKU0", 1)]));
        match apply(&mut o, &by_sku, Utc::now()) {
            Err(Refusal::Invalid(p)) => assert!(p[0].message.contains("lineId"), "{p:?}"),
            other => panic!("{other:?}"),
        }
        let by_id = ship_of(
            "T1",
            Some(vec![LineRef {
                line_id: Some(2),
                sku: None,
                quantity: 1,
            }]),
        );
        apply(&mut o, &by_id, Utc::now()).unwrap();
        assert_eq!(shipped_quantities(&o), [0, 1]);
    }

    #[test]
    fn a_hold_remembers_where_it_came_from_and_a_release_clears_it() {
        let mut o = order(&[1]);
        let now = Utc::now();
        apply(&mut o, &Move::Start, now).unwrap();
        apply(
            &mut o,
            &Move::Hold {
                reason: "why".into(),
            },
            now,
        )
        .unwrap();
        assert_eq!(
            (o.status, o.status_before_hold),
            (Status::OnHold, Some(Status::InProgress))
        );
        assert!(matches!(
            apply(&mut o, &ship_of("T", None), now),
            Err(Refusal::State(_))
        ));
        apply(&mut o, &Move::Release, now).unwrap();
        assert_eq!(o.status, Status::InProgress);
        assert!(o.hold_reason.is_empty() && o.status_before_hold.is_none());
    }
}
