//! The warehouse's operations: one lifecycle move per request, each a read-modify-write through
//! `OrderService::modify`, so the move, its record (shipment, return, backorder) and its history
//! event are one write, and concurrent shipments of the same lines cannot over-ship: the second
//! is re-applied to the order the first one wrote, and refused if it no longer fits.

use super::OrderService;
use crate::auth::Caller;
use crate::domain::Order;
use crate::domain::date::now_whole_seconds;
use crate::domain::history::EventKind;
use crate::domain::shipments::{self, Move, Refusal};
use crate::domain::validate::one_line;
use crate::error::{ApiError, ApiResult, code};

impl OrderService {
    /// Applies one move to one of the caller's orders. A forbidden move, or lines the order does
    /// not have, is 409 with the reason.
    pub async fn fulfil(
        &self,
        caller: &Caller,
        order_id: &str,
        if_match: Option<i64>,
        mv: &Move,
    ) -> ApiResult<Order> {
        mv.check().map_err(ApiError::Validation)?;
        let kind = match mv {
            Move::Ship(_) => EventKind::Shipped,
            Move::Return { .. } => EventKind::Returned,
            _ => EventKind::StatusChanged,
        };
        self.modify(caller, order_id, if_match, kind, |order| {
            shipments::apply(order, mv, now_whole_seconds()).map_err(refused)
        })
        .await
    }

    /// The same move for many orders, each on its own: one order's refusal does not stop the
    /// others. The results are in the order of `orders`.
    pub async fn fulfil_each(
        &self,
        caller: &Caller,
        orders: &[(String, Move)],
    ) -> Vec<ApiResult<Order>> {
        let mut results = Vec::with_capacity(orders.len());
        for (order_id, mv) in orders {
            results.push(self.fulfil(caller, order_id, None, mv).await);
        }
        results
    }
}

/// Both kinds of refusal are 409: the request was well formed (that is checked first, a 400),
/// it just does not fit this order, whose lines or status the client may not have seen yet.
fn refused(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::Invalid(problems) => ApiError::conflict(code::CONFLICT, one_line(&problems)),
        Refusal::State(reason) => ApiError::conflict(code::INVALID_STATE, reason),
    }
}

/// Once the warehouse has named lines (shipped, returned or backordered them), they stay what
/// they were: an edit may change the rest of the order, not which lines it has or how many of
/// each were ordered.
pub fn ensure_lines_kept(
    before: &Order,
    after: &crate::domain::order::OrderContent,
) -> ApiResult<()> {
    if !before.fulfilment.freezes_lines() {
        return Ok(());
    }
    let identity = |lines: &[crate::domain::order::OrderLine]| -> Vec<_> {
        lines
            .iter()
            .map(|l| (l.line_id, l.sku.clone(), l.ordered_quantity))
            .collect()
    };
    if identity(&before.content.order_lines) != identity(&after.order_lines) {
        return Err(ApiError::conflict(
            code::INVALID_STATE,
            format!(
                "order {}: lines that were shipped, returned or backordered cannot be changed",
                before.order_id
            ),
        ));
    }
    Ok(())
}
