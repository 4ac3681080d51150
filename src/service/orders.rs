use std::sync::Arc;

use chrono::{Duration, Months};
use tracing::instrument;

use super::idempotency::{IdempotencyKey, WINDOW_HOURS};
use super::order_turns::OrderTurns;
use crate::auth::Caller;
use crate::domain::date::now_whole_seconds;
use crate::domain::history::{EventKind, HistoryEvent, changed_fields};
use crate::domain::ids;
use crate::domain::order::{OrderContent, Surface};
use crate::domain::search::{DateField, Filter, Page, SearchQuery};
use crate::domain::{Order, Status};
use crate::error::{ApiError, ApiResult, code};
use crate::store::{ConflictKind, IdempotencyRecord, OrderStore, Reindex, StoreError};

/// Bounds the optimistic-concurrency retries of one change. Writers in one process take turns
/// (`OrderTurns`), so only other processes' writers race with a change: every round lets at
/// least one through, and this is only reached under pathological contention.
const MAX_ATTEMPTS: usize = 200;

#[derive(Clone)]
pub struct OrderService {
    store: Arc<dyn OrderStore>,
    turns: Arc<OrderTurns>,
}

/// A created order, and whether it was answered from an earlier identical request.
#[derive(Debug)]
pub struct Created {
    pub order: Order,
    pub replayed: bool,
}

impl OrderService {
    pub fn new(store: Arc<dyn OrderStore>) -> OrderService {
        OrderService {
            store,
            turns: Arc::default(),
        }
    }

    pub fn store(&self) -> &Arc<dyn OrderStore> {
        &self.store
    }

    #[instrument(skip_all, fields(client_id = %caller.client_id))]
    pub async fn create(
        &self,
        caller: &Caller,
        surface: Surface,
        mut content: OrderContent,
        idempotency: Option<IdempotencyKey>,
    ) -> ApiResult<Created> {
        content.validate().map_err(ApiError::Validation)?;
        content.fill_totals();
        for _ in 0..MAX_ATTEMPTS {
            if let Some(key) = &idempotency {
                if let Some(replay) = self.replay(caller, surface, key).await? {
                    return Ok(replay);
                }
            }
            let order = new_order(caller, surface, content.clone());
            let record = idempotency.as_ref().map(|k| IdempotencyRecord {
                key: k.key.clone(),
                request_hash: k.request_hash.clone(),
                order_id: order.order_id.clone(),
                created_at: order.pb_create_date,
            });
            let event = HistoryEvent::new(
                EventKind::Created,
                &order,
                &caller.client_id,
                caller.transaction_id.as_deref(),
                Vec::new(),
            )
            .by_key(caller.api_key.as_deref());
            match self.store.insert(&order, record.as_ref(), &event).await {
                Ok(()) => {
                    tracing::info!(order_id = %order.order_id, "order created");
                    metrics::counter!("oms_orders_created_total").increment(1);
                    return Ok(Created {
                        order,
                        replayed: false,
                    });
                }
                // A concurrent request with the same key won: answer as it did.
                Err(StoreError::Conflict(ConflictKind::IdempotencyKey)) => continue,
                Err(StoreError::Conflict(ConflictKind::OrderId)) => continue,
                Err(StoreError::Conflict(ConflictKind::ClientOrderId)) => {
                    return Err(duplicate_client_order_id(&content.client_order_id));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::Unavailable("too much contention, retry".into()))
    }

    /// Deletes every idempotency record past its 24 hours, a batch at a time, and says how many
    /// went. Expired records were only ever removed when their key came back, so the table
    /// grew by every create for ever.
    pub async fn purge_expired_idempotency(&self) -> ApiResult<u64> {
        const BATCH: u32 = 1000;
        let before = now_whole_seconds() - Duration::hours(WINDOW_HOURS);
        let mut purged = 0;
        loop {
            let n = self.store.purge_idempotency(before, BATCH).await?;
            purged += n;
            if n < u64::from(BATCH) {
                break;
            }
        }
        metrics::counter!("oms_idempotency_records_purged_total").increment(purged);
        Ok(purged)
    }

    async fn replay(
        &self,
        caller: &Caller,
        surface: Surface,
        key: &IdempotencyKey,
    ) -> ApiResult<Option<Created>> {
        let Some(rec) = self.store.idempotency(&caller.client_id, &key.key).await? else {
            return Ok(None);
        };
        if rec.created_at + Duration::hours(WINDOW_HOURS) < now_whole_seconds() {
            self.store
                .forget_idempotency(&caller.client_id, &key.key)
                .await?;
            return Ok(None);
        }
        if rec.request_hash != key.request_hash {
            return Err(ApiError::conflict(
                code::IDEMPOTENCY_CONFLICT,
                format!(
                    "{} {} was already used for a different request",
                    match surface {
                        Surface::Sendpro => "Idempotency-Key",
                        Surface::Fulfillment => "X-PB-TransactionId",
                    },
                    key.key
                ),
            ));
        }
        // The order as it is now: the same order the first request created, with whatever
        // happened to it since.
        let Some(order) = self.store.get(&caller.client_id, &rec.order_id).await? else {
            return Err(ApiError::conflict(
                code::IDEMPOTENCY_CONFLICT,
                format!(
                    "the order {} created with this key has been deleted",
                    rec.order_id
                ),
            ));
        };
        tracing::info!(order_id = %rec.order_id, "idempotent replay");
        metrics::counter!("oms_idempotent_replays_total").increment(1);
        Ok(Some(Created {
            order,
            replayed: true,
        }))
    }

    // No span of its own: nothing inside logs, and the request's span already names the order
    // (its path) and the client.
    pub async fn get(&self, caller: &Caller, order_id: &str) -> ApiResult<Order> {
        if !ids::looks_like_order_id(order_id) {
            return Err(ApiError::order_not_found(order_id));
        }
        self.store
            .get(&caller.client_id, order_id)
            .await?
            .ok_or_else(|| ApiError::order_not_found(order_id))
    }

    /// Full replace of the client-supplied content (Fulfillment PUT). Server-owned state
    /// (status, hold, tags, actual shipping) and the other dialect's own fields are kept.
    pub async fn replace(
        &self,
        caller: &Caller,
        order_id: &str,
        if_match: Option<i64>,
        mut content: OrderContent,
    ) -> ApiResult<Order> {
        content.validate().map_err(ApiError::Validation)?;
        content.fill_totals();
        self.modify(
            caller,
            order_id,
            if_match,
            EventKind::Replaced,
            move |order| {
                ensure_editable(order)?;
                let missing = content.missing_on_replace(&order.content);
                if !missing.is_empty() {
                    return Err(ApiError::Validation(missing));
                }
                let mut next = content.clone();
                next.keep_unshown(&order.content);
                super::fulfilment::ensure_lines_kept(order, &next)?;
                next.actual_shipping_details = order.content.actual_shipping_details.take();
                next.sendpro = std::mem::take(&mut order.content.sendpro);
                order.content = next;
                Ok(())
            },
        )
        .await
    }

    /// Read-modify-write with optimistic concurrency: `change` sees the current order and edits
    /// it; the write succeeds only if nobody wrote in between, else the change is re-applied to
    /// the fresh order. With `if_match`, a stale version is 412 instead of a retry.
    #[instrument(skip_all, fields(client_id = %caller.client_id, order_id))]
    pub async fn modify<F>(
        &self,
        caller: &Caller,
        order_id: &str,
        if_match: Option<i64>,
        kind: EventKind,
        change: F,
    ) -> ApiResult<Order>
    where
        F: Fn(&mut Order) -> ApiResult<()> + Send + Sync,
    {
        let _turn = self.turns.take(&caller.client_id, order_id).await;
        for _ in 0..MAX_ATTEMPTS {
            let current = self.get(caller, order_id).await?;
            if let Some(expected) = if_match {
                if expected != current.version {
                    return Err(precondition_failed(current.version));
                }
            }
            let mut next = current.clone();
            change(&mut next)?;
            if next == current {
                return Ok(current);
            }
            next.version = current.version + 1;
            next.pb_update_date = now_whole_seconds().max(current.pb_update_date);
            let reindex = Reindex {
                tags: next.tags != current.tags,
                skus: next.content.order_lines != current.content.order_lines,
            };
            let event = HistoryEvent::new(
                kind,
                &next,
                &caller.client_id,
                caller.transaction_id.as_deref(),
                changed_fields(&current, &next),
            )
            .by_key(caller.api_key.as_deref());
            match self
                .store
                .update(&next, current.version, reindex, &event)
                .await
            {
                Ok(()) => return Ok(next),
                Err(StoreError::Conflict(ConflictKind::Version)) if if_match.is_some() => {
                    return Err(precondition_failed(current.version + 1));
                }
                Err(StoreError::Conflict(ConflictKind::Version)) => continue,
                Err(StoreError::Conflict(ConflictKind::ClientOrderId)) => {
                    return Err(duplicate_client_order_id(&next.content.client_order_id));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::Unavailable(
            "too much contention on this order, retry".into(),
        ))
    }

    /// The change history of one of the caller's live orders.
    pub async fn history(&self, caller: &Caller, order_id: &str) -> ApiResult<Vec<HistoryEvent>> {
        self.get(caller, order_id).await?;
        Ok(self.store.history(&caller.client_id, order_id).await?)
    }

    /// Runs a search for the caller; without a date criterion only the last six months count.
    #[instrument(skip_all, fields(client_id = %caller.client_id))]
    pub async fn search(&self, caller: &Caller, mut query: SearchQuery) -> ApiResult<Page<Order>> {
        if !query.has_date_filter() {
            let since = now_whole_seconds()
                .checked_sub_months(Months::new(6))
                .expect("six months ago is representable");
            query.filters.push(Filter::Date {
                field: DateField::PbCreateDate,
                from: Some(since),
                to: None,
            });
        }
        Ok(self.store.search(&caller.client_id, &query).await?)
    }
}

fn new_order(caller: &Caller, surface: Surface, content: OrderContent) -> Order {
    let now = now_whole_seconds();
    let order_id = match surface {
        Surface::Fulfillment => ids::fulfillment_order_id(content.country_code()),
        Surface::Sendpro => ids::sendpro_order_id(),
    };
    Order {
        order_id,
        client_id: caller.client_id.clone(),
        status: Status::Received,
        status_before_hold: None,
        hold_reason: Vec::new(),
        pb_create_date: now,
        pb_update_date: now,
        version: 1,
        tags: Vec::new(),
        created_by: caller.client_id.clone(),
        source: surface,
        deleted_at: None,
        content,
        fulfilment: Default::default(),
    }
}

/// Shipped, returned and canceled orders are history: their content no longer changes.
pub fn ensure_editable(order: &Order) -> ApiResult<()> {
    if order.status.is_closed() {
        return Err(ApiError::conflict(
            code::INVALID_STATE,
            format!(
                "order {} is {} and can no longer be changed",
                order.order_id, order.status
            ),
        ));
    }
    Ok(())
}

fn duplicate_client_order_id(id: &str) -> ApiError {
    ApiError::conflict(
        code::DUPLICATE_ORDER,
        format!("an order with client order id {id} already exists"),
    )
}

fn precondition_failed(current: i64) -> ApiError {
    ApiError::PreconditionFailed(format!(
        "the order has changed (current ETag \"{current}\"); re-read it and retry"
    ))
}
