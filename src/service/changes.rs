//! Changes to existing orders beyond a full replace: content edits, status, items, tags, delete.
//! Each is one optimistic read-modify-write through `OrderService::modify`, so every one bumps
//! the version and update date, and none is lost to a concurrent writer.

use rust_decimal::Decimal;

use super::OrderService;
use super::orders::ensure_editable;
use crate::auth::Caller;
use crate::domain::date::now_whole_seconds;
use crate::domain::history::EventKind;
use crate::domain::order::{OrderContent, sum_line_totals};
use crate::domain::shipments::shipped_quantities;
use crate::domain::status::{SendproStatus, sendpro_transition};
use crate::domain::validate::Problems;
use crate::domain::{Order, Status, text};
use crate::error::{ApiError, ApiResult, code};

pub const MAX_TAGS: usize = 50;
pub const MAX_TAG_LEN: usize = 50;

impl OrderService {
    /// Edits the client content with `edit` (given the current content); the result must pass
    /// the same validation as a create.
    pub async fn edit_content<F>(
        &self,
        caller: &Caller,
        order_id: &str,
        if_match: Option<i64>,
        edit: F,
    ) -> ApiResult<Order>
    where
        F: Fn(&OrderContent) -> ApiResult<OrderContent> + Send + Sync,
    {
        self.modify(caller, order_id, if_match, EventKind::Updated, |order| {
            ensure_editable(order)?;
            let mut next = edit(&order.content)?;
            next.validate().map_err(ApiError::Validation)?;
            super::fulfilment::ensure_lines_kept(order, &next)?;
            next.fill_totals();
            order.content = next;
            Ok(())
        })
        .await
    }

    /// Moves one order under the lifecycle rules; already there is success without a change.
    pub async fn set_status(
        &self,
        caller: &Caller,
        order_id: &str,
        target: SendproStatus,
        reason: Option<&str>,
    ) -> ApiResult<Order> {
        self.modify(caller, order_id, None, EventKind::StatusChanged, |order| {
            let to = sendpro_transition(order.status, order.status_before_hold, target)
                .map_err(|reason| ApiError::conflict(code::INVALID_STATE, reason))?;
            let Some(to) = to else { return Ok(()) };
            if to == Status::Canceled && shipped_quantities(order).iter().any(|q| *q > 0) {
                return Err(ApiError::conflict(
                    code::INVALID_STATE,
                    "cannot cancel an order with shipped lines: return them instead",
                ));
            }
            if to == Status::OnHold {
                order.status_before_hold = Some(order.status);
                order.hold_reason = reason.map(|r| vec![r.to_string()]).unwrap_or_default();
            } else {
                order.status_before_hold = None;
                order.hold_reason.clear();
            }
            order.status = to;
            Ok(())
        })
        .await
    }

    /// Removes every line with this SKU and recomputes the totals that were consistent.
    ///
    /// Unlike a patch (`OrderContent::rederive`, where a total the client set stays as set),
    /// the order total here drops by the removed lines' amount even when the client set it:
    /// this request carries no amounts, so the client cannot send the new total, and a total
    /// that still counted the removed items would be wrong for certain, while one lowered by
    /// exactly their amount keeps whatever else the client had put in it.
    pub async fn remove_item(
        &self,
        caller: &Caller,
        order_id: &str,
        sku: &str,
    ) -> ApiResult<Order> {
        self.modify(caller, order_id, None, EventKind::ItemRemoved, |order| {
            ensure_editable(order)?;
            if order.fulfilment.freezes_lines() {
                return Err(ApiError::conflict(
                    code::INVALID_STATE,
                    format!(
                        "order {order_id}: lines that were shipped, returned or backordered \
                         cannot be removed"
                    ),
                ));
            }
            let lines = &order.content.order_lines;
            let kept: Vec<_> = lines
                .iter()
                .filter(|l| l.sku.as_deref() != Some(sku))
                .cloned()
                .collect();
            if kept.len() == lines.len() {
                return Err(ApiError::NotFound(format!(
                    "order {order_id} has no item {sku}"
                )));
            }
            if kept.is_empty() {
                return Err(ApiError::conflict(
                    code::INVALID_STATE,
                    "an order must keep at least one item; delete the order instead",
                ));
            }
            let before = sum_line_totals(lines);
            let after = sum_line_totals(&kept);
            if let (Some(charges), Some(before), Some(after)) =
                (order.content.order_charges.as_mut(), before, after)
            {
                if charges.total_item_amount == Some(before) {
                    charges.total_item_amount = Some(after);
                    if let Some(total) = charges.total_order_amount.as_mut() {
                        *total = (*total - (before - after)).max(Decimal::ZERO);
                    }
                }
            }
            order.content.order_lines = kept;
            Ok(())
        })
        .await
    }

    pub async fn set_tags(
        &self,
        caller: &Caller,
        order_id: &str,
        tags: Vec<String>,
    ) -> ApiResult<Order> {
        self.modify(caller, order_id, None, EventKind::TagsChanged, |order| {
            order.tags = tags.clone();
            Ok(())
        })
        .await
    }

    /// Soft delete: the row stays with its deletion time; the order number becomes free.
    pub async fn delete(&self, caller: &Caller, order_id: &str) -> ApiResult<Order> {
        self.modify(caller, order_id, None, EventKind::Deleted, |order| {
            order.deleted_at = Some(now_whole_seconds());
            Ok(())
        })
        .await
    }
}

/// Tags are trimmed strings of 1–50 characters, at most 50 per order, duplicates collapsed
/// (first spelling kept).
pub fn normalize_tags(raw: &[String], at: &str) -> Result<Vec<String>, Problems> {
    let mut p = Problems::default();
    let mut tags: Vec<String> = Vec::new();
    for (i, sent) in raw.iter().enumerate() {
        // Length as sent, blank as the schema's `\S` means it: what the published TagId
        // schema (maxLength, pattern) states, so a generated client agrees with the server.
        let t = text::trim(sent);
        if t.is_empty() {
            p.add(format!("{at}[{i}]"), "must not be blank");
        } else if sent.chars().count() > MAX_TAG_LEN {
            p.add(
                format!("{at}[{i}]"),
                format!("must be at most {MAX_TAG_LEN} characters"),
            );
        } else if !tags.iter().any(|x| x == t) {
            tags.push(t.to_string());
        }
    }
    // Counted as sent, not after de-duplication: that is the rule a schema can state
    // (maxItems), so a generated client knows it before sending.
    if raw.len() > MAX_TAGS {
        p.add(at, format!("at most {MAX_TAGS} tags per order"));
    }
    if p.is_empty() { Ok(tags) } else { Err(p) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_deduplicated_and_bounded() {
        let raw = vec![" vip ".to_string(), "vip".into(), "Rush".into()];
        assert_eq!(normalize_tags(&raw, "tagIds").unwrap(), ["vip", "Rush"]);
        assert!(normalize_tags(&["  ".to_string()], "tagIds").is_err());
        assert!(normalize_tags(&["x".repeat(51)], "tagIds").is_err());
        // As the schema states it: length as sent, and `\S` (U+0085 is not blank to it).
        assert!(normalize_tags(&[format!(" {}", "x".repeat(50))], "tagIds").is_err());
        assert_eq!(
            normalize_tags(&["\u{85}".into()], "tagIds").unwrap(),
            ["\u{85}"]
        );
        assert!(normalize_tags(&["\u{feff}\u{3000}".into()], "tagIds").is_err());
        let many: Vec<String> = (0..51).map(|i| format!("t{i}")).collect();
        assert!(normalize_tags(&many, "tagIds").is_err());
        let dupes: Vec<String> = (0..50).map(|i| format!("t{}", i % 25)).collect();
        assert_eq!(normalize_tags(&dupes, "tagIds").unwrap().len(), 25);
        let too_many_dupes: Vec<String> = (0..51).map(|i| format!("t{}", i % 50)).collect();
        assert!(normalize_tags(&too_many_dupes, "tagIds").is_err());
    }
}
