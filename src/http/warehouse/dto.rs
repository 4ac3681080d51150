//! Request and response bodies of the warehouse operations (oms's own dialect, camelCase like
//! both documented surfaces).

use serde::{Deserialize, Serialize};

use crate::domain::date::{IsoDate, format_utc};
use crate::domain::fulfilment::LineQuantity;
use crate::domain::order::OrderLine;
use crate::domain::shipments::{self, LineRef, Move, NewShipment};
use crate::domain::{Order, Status};
use crate::error::ApiError;
use crate::http::extract::RequestBody;

/// An order line and how many units: named by `lineId`, or by `sku` when no two lines share it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LineIn {
    // Whole numbers may be spelled 2.0, as JSON Schema's integer allows (and the order's own
    // lineId and orderedQuantity accept).
    #[serde(default, deserialize_with = "crate::domain::money::whole_number")]
    #[schema(minimum = 0, example = 1)]
    line_id: Option<i64>,
    #[schema(max_length = 60, example = "0001-0001")]
    sku: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::money::whole_number")]
    #[schema(value_type = i64, required = true, minimum = 1, example = 1)]
    quantity: Option<i64>,
}

fn line_refs(lines: Vec<LineIn>) -> Vec<LineRef> {
    lines
        .into_iter()
        .map(|l| LineRef {
            line_id: l.line_id,
            sku: l.sku,
            // A missing quantity is refused by `Move::check`, as below 1.
            quantity: l.quantity.unwrap_or(0),
        })
        .collect()
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackorderIn {
    /// The lines short and how many units of each.
    #[schema(required = true, min_items = 1, max_items = 1000)]
    lines: Vec<LineIn>,
}

impl RequestBody for BackorderIn {}

impl BackorderIn {
    pub fn into_move(self) -> Move {
        Move::Backorder(line_refs(self.lines))
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HoldIn {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 255, pattern = "\\S", example = "address check")]
    reason: Option<String>,
}

impl RequestBody for HoldIn {}

impl HoldIn {
    pub fn into_move(self) -> Move {
        Move::Hold {
            reason: self.reason.unwrap_or_default(),
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelIn {
    #[schema(max_length = 255, example = "customer asked")]
    reason: Option<String>,
}

impl RequestBody for CancelIn {}

impl CancelIn {
    pub fn into_move(self) -> Move {
        Move::Cancel {
            reason: self.reason,
        }
    }
}

/// A shipment: what left the warehouse, with which carrier and tracking number.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShipmentIn {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 50, pattern = "\\S", example = "USPS")]
    carrier: Option<String>,
    #[schema(max_length = 50, example = "PM")]
    service_id: Option<String>,
    #[schema(max_length = 64, example = "Priority Mail")]
    service_name: Option<String>,
    /// Also the shipment's idempotency key: the same tracking number sent again with the same
    /// lines changes nothing.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 50, pattern = "\\S", example = "9400111899223197428490")]
    tracking_number: Option<String>,
    /// When it left; the time of the request when absent.
    #[schema(value_type = Option<String>, format = DateTime, example = "2026-12-05T14:00:00Z")]
    ship_date: Option<IsoDate>,
    /// The lines in the parcel; absent means everything not shipped yet.
    #[schema(min_items = 1, max_items = 1000)]
    lines: Option<Vec<LineIn>>,
}

impl RequestBody for ShipmentIn {}

impl ShipmentIn {
    pub fn into_move(self) -> Move {
        Move::Ship(NewShipment {
            carrier: self.carrier.unwrap_or_default(),
            service_id: self.service_id,
            service_name: self.service_name,
            tracking_number: self.tracking_number.unwrap_or_default(),
            ship_date: self.ship_date.map(|d| d.instant()),
            lines: self.lines.map(line_refs),
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReturnIn {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 255, pattern = "\\S", example = "damaged")]
    reason: Option<String>,
    /// The lines coming back; absent means everything shipped and not returned yet.
    #[schema(min_items = 1, max_items = 1000)]
    lines: Option<Vec<LineIn>>,
}

impl RequestBody for ReturnIn {}

impl ReturnIn {
    pub fn into_move(self) -> Move {
        Move::Return {
            reason: self.reason.unwrap_or_default(),
            lines: self.lines.map(line_refs),
        }
    }
}

/// Most orders one bulk request may move, as SendPro360's bulk status.
pub const MAX_BULK: usize = 500;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkStartIn {
    #[schema(required = true, min_items = 1, max_items = 500)]
    orders: Vec<OrderIdIn>,
}

impl RequestBody for BulkStartIn {}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderIdIn {
    #[schema(value_type = String, required = true, min_length = 1, pattern = "\\S", example = "ORA0008185936177270784US")]
    order_id: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkShipIn {
    #[schema(required = true, min_items = 1, max_items = 500)]
    orders: Vec<BulkShipmentIn>,
}

impl RequestBody for BulkShipIn {}

/// One order's shipment in a bulk request: its order id beside the fields of a shipment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkShipmentIn {
    #[schema(value_type = String, required = true, min_length = 1, pattern = "\\S", example = "ORA0008185936177270784US")]
    order_id: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 50, pattern = "\\S", example = "USPS")]
    carrier: Option<String>,
    #[schema(max_length = 50, example = "PM")]
    service_id: Option<String>,
    #[schema(max_length = 64, example = "Priority Mail")]
    service_name: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 50, pattern = "\\S", example = "9400111899223197428490")]
    tracking_number: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    ship_date: Option<IsoDate>,
    #[schema(min_items = 1, max_items = 1000)]
    lines: Option<Vec<LineIn>>,
}

impl BulkShipmentIn {
    fn shipment(self) -> ShipmentIn {
        ShipmentIn {
            carrier: self.carrier,
            service_id: self.service_id,
            service_name: self.service_name,
            tracking_number: self.tracking_number,
            ship_date: self.ship_date,
            lines: self.lines,
        }
    }
}

fn bulk_size(n: usize) -> Result<(), ApiError> {
    if n == 0 || n > MAX_BULK {
        return Err(ApiError::field(
            "orders",
            format!("must list 1 to {MAX_BULK} orders"),
        ));
    }
    Ok(())
}

/// A bulk request is refused whole when an entry is malformed (as a single request would be);
/// only what depends on each order (its status, its lines) is reported per order.
fn checked(moves: Vec<(String, Move)>) -> Result<Vec<(String, Move)>, ApiError> {
    let mut problems = Vec::new();
    for (i, (_, mv)) in moves.iter().enumerate() {
        if let Err(found) = mv.check() {
            problems.extend(found.into_iter().map(|mut p| {
                p.field = format!("orders[{i}].{}", p.field);
                p
            }));
        }
    }
    if problems.is_empty() {
        Ok(moves)
    } else {
        Err(ApiError::Validation(problems))
    }
}

impl BulkStartIn {
    pub fn into_moves(self) -> Result<Vec<(String, Move)>, ApiError> {
        bulk_size(self.orders.len())?;
        self.orders
            .into_iter()
            .enumerate()
            .map(|(i, o)| Ok((order_id(o.order_id, i)?, Move::Start)))
            .collect()
    }
}

impl BulkShipIn {
    pub fn into_moves(self) -> Result<Vec<(String, Move)>, ApiError> {
        bulk_size(self.orders.len())?;
        self.orders
            .into_iter()
            .enumerate()
            .map(|(i, mut o)| Ok((order_id(o.order_id.take(), i)?, o.shipment().into_move())))
            .collect::<Result<_, ApiError>>()
            .and_then(checked)
    }
}

fn order_id(id: Option<String>, i: usize) -> Result<String, ApiError> {
    id.filter(|s| !crate::domain::text::is_blank(s))
        .ok_or_else(|| ApiError::field(format!("orders[{i}].orderId"), "is required"))
}

/// An order as the warehouse sees it: where it is, and line by line what was ordered, shipped,
/// returned and is short.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FulfilmentOut {
    #[schema(example = "ORA0008185936177270784US")]
    order_id: String,
    client_order_id: String,
    status: Status,
    is_on_hold: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hold_reason: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cancel_reason: Option<String>,
    /// The same number as the ETag.
    version: i64,
    lines: Vec<LineStateOut>,
    shipments: Vec<ShipmentOut>,
    returns: Vec<ReturnOut>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineStateOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    line_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sku: Option<String>,
    ordered_quantity: i64,
    shipped_quantity: i64,
    returned_quantity: i64,
    backordered_quantity: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentOut {
    #[schema(example = "S1")]
    shipment_id: String,
    carrier: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_name: Option<String>,
    tracking_number: String,
    #[schema(format = DateTime)]
    ship_date: String,
    lines: Vec<LineOut>,
    #[schema(format = DateTime)]
    recorded_at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReturnOut {
    #[schema(example = "R1")]
    return_id: String,
    reason: String,
    lines: Vec<LineOut>,
    #[schema(format = DateTime)]
    recorded_at: String,
}

/// A line of a shipment or a return.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    line_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sku: Option<String>,
    quantity: i64,
}

impl FulfilmentOut {
    pub fn of(order: &Order) -> FulfilmentOut {
        let lines = &order.content.order_lines;
        let shipped = shipments::shipped_quantities(order);
        let returned = shipments::returned_quantities(order);
        let short = shipments::backordered_quantities(order);
        let f = &order.fulfilment;
        FulfilmentOut {
            order_id: order.order_id.clone(),
            client_order_id: order.content.client_order_id.clone(),
            status: order.status,
            is_on_hold: order.is_on_hold(),
            hold_reason: order.hold_reason.clone(),
            cancel_reason: f.cancel_reason.clone(),
            version: order.version,
            lines: lines
                .iter()
                .enumerate()
                .map(|(i, l)| LineStateOut {
                    line_id: l.line_id,
                    sku: l.sku.clone(),
                    ordered_quantity: l.ordered_quantity.unwrap_or(0),
                    shipped_quantity: shipped[i],
                    returned_quantity: returned[i],
                    backordered_quantity: short[i],
                })
                .collect(),
            shipments: f
                .shipments
                .iter()
                .map(|s| ShipmentOut {
                    shipment_id: s.shipment_id.clone(),
                    carrier: s.carrier.clone(),
                    service_id: s.service_id.clone(),
                    service_name: s.service_name.clone(),
                    tracking_number: s.tracking_number.clone(),
                    ship_date: format_utc(&s.ship_date),
                    lines: lines_out(lines, &s.lines),
                    recorded_at: format_utc(&s.recorded_at),
                })
                .collect(),
            returns: f
                .returns
                .iter()
                .map(|r| ReturnOut {
                    return_id: r.return_id.clone(),
                    reason: r.reason.clone(),
                    lines: lines_out(lines, &r.lines),
                    recorded_at: format_utc(&r.recorded_at),
                })
                .collect(),
        }
    }
}

fn lines_out(order_lines: &[OrderLine], lines: &[LineQuantity]) -> Vec<LineOut> {
    lines
        .iter()
        .map(|l| {
            let line = order_lines.get(l.line);
            LineOut {
                line_id: line.and_then(|x| x.line_id),
                sku: line.and_then(|x| x.sku.clone()),
                quantity: l.quantity,
            }
        })
        .collect()
}

/// One order's outcome in a bulk request: its status after the move, or why it was refused.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkResultOut {
    order_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<BulkErrorOut>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkErrorOut {
    #[schema(example = "invalid_state")]
    error_code: &'static str,
    error_description: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkOut {
    succeeded: usize,
    failed: usize,
    results: Vec<BulkResultOut>,
}

impl BulkOut {
    /// Refusals of single orders are reported; a failure of the service itself (database down)
    /// fails the whole request, so a client never reads an outage as "refused".
    pub fn of(
        moves: &[(String, Move)],
        results: Vec<Result<Order, ApiError>>,
    ) -> Result<BulkOut, ApiError> {
        let mut out = Vec::with_capacity(results.len());
        for ((order_id, _), result) in moves.iter().zip(results) {
            out.push(match result {
                Ok(order) => BulkResultOut {
                    order_id: order_id.clone(),
                    status: Some(order.status),
                    error: None,
                },
                Err(e) if e.status().is_client_error() => BulkResultOut {
                    order_id: order_id.clone(),
                    status: None,
                    error: Some(BulkErrorOut {
                        error_code: e.code(),
                        error_description: e.description(),
                    }),
                },
                Err(e) => return Err(e),
            });
        }
        let failed = out.iter().filter(|r| r.error.is_some()).count();
        Ok(BulkOut {
            succeeded: out.len() - failed,
            failed,
            results: out,
        })
    }
}
