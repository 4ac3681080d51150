//! The Fulfillment Orders dialect (seeds 001–004) and its mapping to the canonical order.
//!
//! The canonical order already uses this dialect's names, so the mapping is mostly direct:
//! `shippingDetails` is an input alias of `inputShippingDetails` (which wins when both are sent)
//! and is returned under both names;
//! RESPONSE ONLY fields sent by a client are accepted and ignored; SendPro360-only fields are
//! neither accepted at the top level nor shown.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::Caller;
use crate::domain::date::{IsoDate, format_utc, parse_search_bound};
use crate::domain::order::{
    Address, CustomsInfo, DropShipInfo, OrderCharges, OrderContent, OrderHandling, OrderLine,
    OrderType, Reference, ShippingDetails,
};
use crate::domain::search::{
    DEFAULT_PAGE_SIZE, DateField, Filter, MAX_PAGE_SIZE, Page, SearchQuery, SortKey, check_shape,
};
use crate::domain::text::{self, is_blank};
use crate::domain::validate::{FieldError, Problems, combine};
use crate::domain::{Order, Status};
use crate::error::{ApiError, ApiResult};

/// The Orders object as a client sends it (create and full replace).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = FulfillmentOrderRequest)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderIn {
    #[schema(value_type = String, required = true, example = "1234")]
    client_id: Option<String>,
    #[schema(value_type = String, required = true, max_length = 50, min_length = 1, example = "OR12345645678")]
    client_order_id: Option<String>,
    #[schema(max_length = 50)]
    customer_order_id: Option<String>,
    #[schema(max_length = 50)]
    brand: Option<String>,
    references: Option<Vec<Reference>>,
    #[schema(value_type = Option<Object>)]
    sales_channel: Option<Value>,
    input_shipping_details: Option<ShippingDetails>,
    /// Deprecated alias of `inputShippingDetails` (seeds 001/002 spell it this way), read only
    /// when `inputShippingDetails` is absent; responses carry both names.
    shipping_details: Option<ShippingDetails>,
    order_type: Option<OrderType>,
    #[schema(value_type = String, format = DateTime, required = true, example = "2022-02-07T01:20:00Z")]
    create_date: Option<IsoDate>,
    #[schema(value_type = Option<String>, format = DateTime, example = "2022-02-07T01:20:00Z")]
    update_date: Option<IsoDate>,
    #[schema(max_length = 50)]
    from_node: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime, example = "2022-02-07T01:20:00Z")]
    ship_on_date: Option<IsoDate>,
    #[schema(value_type = Option<String>, format = DateTime, example = "2022-02-07T01:20:00Z")]
    fulfillment_release_date: Option<IsoDate>,
    #[schema(value_type = Option<String>, format = DateTime, example = "2022-02-07T01:20:00Z")]
    promised_delivery_date: Option<IsoDate>,
    order_handling: Option<OrderHandling>,
    #[schema(value_type = Vec<OrderLine>, required = true, min_items = 1, max_items = 1000)]
    order_lines: Option<Vec<OrderLine>>,
    order_charges: Option<OrderCharges>,
    #[schema(value_type = Address, required = true)]
    to_address: Option<Address>,
    billing_address: Option<Address>,
    is_gift: Option<bool>,
    #[schema(max_length = 1024)]
    gift_message_text: Option<String>,
    #[schema(value_type = Option<Vec<Object>>)]
    value_added_services: Option<Vec<Value>>,
    #[schema(value_type = Option<Vec<Object>>)]
    payment_details: Option<Vec<Value>>,
    customs_info: Option<CustomsInfo>,
    #[schema(max_length = 255)]
    internal_notes: Option<String>,
    drop_ship_info: Option<DropShipInfo>,
    // RESPONSE ONLY: accepted so a client can send back what it read, and ignored.
    #[serde(rename = "orderId")]
    #[schema(ignore)]
    _order_id: Option<Value>,
    #[serde(rename = "pbCreateDate")]
    #[schema(ignore)]
    _pb_create_date: Option<Value>,
    #[serde(rename = "pbUpdateDate")]
    #[schema(ignore)]
    _pb_update_date: Option<Value>,
    #[serde(rename = "status")]
    #[schema(ignore)]
    _status: Option<Value>,
    #[serde(rename = "isOnHold")]
    #[schema(ignore)]
    _is_on_hold: Option<Value>,
    #[serde(rename = "holdReason")]
    #[schema(ignore)]
    _hold_reason: Option<Value>,
    #[serde(rename = "actualShippingDetails")]
    #[schema(ignore)]
    _actual_shipping_details: Option<Value>,
}

impl crate::http::extract::RequestBody for OrderIn {
    fn content_problems(self) -> Vec<FieldError> {
        self.problems()
    }
}

impl OrderIn {
    /// Checks this dialect's required fields and tenancy, then maps to the canonical content.
    pub fn into_content(self, caller: &Caller) -> ApiResult<OrderContent> {
        self.into_checked(caller, Use::Create)
    }

    /// As `into_content`, for a full replace: `createDate` and `inputShippingDetails` are left
    /// to the service, which requires them only where the stored order has them
    /// (`OrderContent::missing_on_replace`).
    pub fn into_replacement(self, caller: &Caller) -> ApiResult<OrderContent> {
        self.into_checked(caller, Use::Replace)
    }

    fn into_checked(self, caller: &Caller, usage: Use) -> ApiResult<OrderContent> {
        if let Some(id) = self.client_id.as_deref() {
            caller.require_same_client(id)?;
        }
        let (content, p) = self.checked(usage);
        if p.is_empty() {
            return Ok(content);
        }
        // Report the dialect's missing fields together with the canonical problems.
        let canonical = content.validate().err().unwrap_or_default();
        Err(ApiError::Validation(combine(p.into_errors(), canonical)))
    }

    /// Every problem of this body, tenancy aside: reported beside the fields that did not parse.
    pub fn problems(self) -> Vec<FieldError> {
        let (content, p) = self.checked(Use::Create);
        let canonical = content.validate().err().unwrap_or_default();
        combine(p.into_errors(), canonical)
    }

    fn checked(self, usage: Use) -> (OrderContent, Problems) {
        let creating = usage == Use::Create;
        let mut p = Problems::default();
        if self.client_id.is_none() {
            p.add("clientId", "is required");
        }
        if self.client_order_id.is_none() {
            p.add("clientOrderId", "is required");
        }
        // The alias is read only when the primary name is absent. A client that GETs an order
        // (both names) and PUTs it back after editing `inputShippingDetails` means the edit; a
        // "both must match" rule would refuse that round trip and cannot be stated in a schema.
        let shipping = self.input_shipping_details.or(self.shipping_details);
        match &shipping {
            None if creating => p.add("inputShippingDetails", "is required"),
            None => {}
            Some(s) => {
                if s.carrier.as_deref().is_some_and(is_blank) || (creating && s.carrier.is_none()) {
                    p.add("inputShippingDetails.carrier", "is required");
                }
                if s.service_id.as_deref().is_some_and(is_blank)
                    || (creating && s.service_id.is_none())
                {
                    p.add("inputShippingDetails.serviceId", "is required");
                }
            }
        }
        if creating && self.create_date.is_none() {
            p.add("createDate", "is required");
        }
        if self.order_lines.is_none() {
            p.add("orderLines", "is required");
        }
        if self.to_address.is_none() {
            p.add("toAddress", "is required");
        }
        let content = OrderContent {
            client_order_id: self.client_order_id.unwrap_or_default(),
            customer_order_id: self.customer_order_id,
            brand: self.brand,
            references: self.references.unwrap_or_default(),
            sales_channel: self.sales_channel,
            input_shipping_details: shipping,
            actual_shipping_details: None,
            order_type: self.order_type,
            create_date: self.create_date,
            update_date: self.update_date,
            from_node: self.from_node,
            ship_on_date: self.ship_on_date,
            fulfillment_release_date: self.fulfillment_release_date,
            promised_delivery_date: self.promised_delivery_date,
            order_handling: self.order_handling,
            order_lines: self.order_lines.unwrap_or_default(),
            order_charges: self.order_charges,
            to_address: self.to_address.unwrap_or_default(),
            billing_address: self.billing_address,
            is_gift: self.is_gift.unwrap_or(false),
            gift_message_text: self.gift_message_text,
            value_added_services: self.value_added_services,
            payment_details: self.payment_details,
            customs_info: self.customs_info,
            internal_notes: self.internal_notes,
            drop_ship_info: self.drop_ship_info,
            sendpro: Default::default(),
        };
        (content, p)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    Create,
    Replace,
}

/// The Orders object as the API returns it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = FulfillmentOrder)]
#[serde(rename_all = "camelCase")]
pub struct OrderOut<'a> {
    client_id: &'a str,
    client_order_id: &'a str,
    order_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_order_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    brand: Option<&'a str>,
    references: &'a [Reference],
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    sales_channel: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_shipping_details: Option<&'a ShippingDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shipping_details: Option<&'a ShippingDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actual_shipping_details: Option<ActualShippingOut<'a>>,
    #[schema(value_type = OrderType)]
    order_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    create_date: Option<&'a IsoDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    update_date: Option<&'a IsoDate>,
    #[schema(format = DateTime)]
    pb_create_date: String,
    #[schema(format = DateTime)]
    pb_update_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_node: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    ship_on_date: Option<&'a IsoDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    fulfillment_release_date: Option<&'a IsoDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    promised_delivery_date: Option<&'a IsoDate>,
    order_handling: OrderHandling,
    order_lines: Vec<OrderLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_charges: Option<&'a OrderCharges>,
    to_address: Address,
    #[serde(skip_serializing_if = "Option::is_none")]
    billing_address: Option<Address>,
    is_gift: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    gift_message_text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    value_added_services: Option<&'a [Value]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    payment_details: Option<&'a [Value]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customs_info: Option<&'a CustomsInfo>,
    status: Status,
    is_on_hold: bool,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    hold_reason: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    internal_notes: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    drop_ship_info: Option<&'a DropShipInfo>,
}

impl<'a> OrderOut<'a> {
    pub fn of(order: &'a Order) -> OrderOut<'a> {
        let c = &order.content;
        OrderOut {
            client_id: &order.client_id,
            client_order_id: &c.client_order_id,
            order_id: &order.order_id,
            customer_order_id: c.customer_order_id.as_deref(),
            brand: c.brand.as_deref(),
            references: &c.references,
            sales_channel: c.sales_channel.as_ref(),
            input_shipping_details: c.input_shipping_details.as_ref(),
            shipping_details: c.input_shipping_details.as_ref(),
            actual_shipping_details: ActualShippingOut::of(order),
            order_type: c.order_type.unwrap_or(OrderType::DEFAULT).as_str(),
            create_date: c.create_date.as_ref(),
            update_date: c.update_date.as_ref(),
            pb_create_date: format_utc(&order.pb_create_date),
            pb_update_date: format_utc(&order.pb_update_date),
            from_node: c.from_node.as_deref(),
            ship_on_date: c.ship_on_date.as_ref(),
            fulfillment_release_date: c.fulfillment_release_date.as_ref(),
            promised_delivery_date: c.promised_delivery_date.as_ref(),
            order_handling: c.order_handling.unwrap_or(OrderHandling::DEFAULT),
            order_lines: c.order_lines.iter().map(line_view).collect(),
            order_charges: c.order_charges.as_ref(),
            to_address: address_view(&c.to_address),
            billing_address: c.billing_address.as_ref().map(address_view),
            is_gift: c.is_gift,
            gift_message_text: c.gift_message_text.as_deref(),
            value_added_services: c.value_added_services.as_deref(),
            payment_details: c.payment_details.as_deref(),
            customs_info: c.customs_info.as_ref(),
            status: visible_status(order),
            is_on_hold: order.is_on_hold(),
            hold_reason: &order.hold_reason,
            internal_notes: c.internal_notes.as_deref(),
            drop_ship_info: c.drop_ship_info.as_ref(),
        }
    }
}

/// `actualShippingDetails`: the latest shipment the warehouse recorded, with its ship date
/// (oms's addition to the documented fields); for an order without shipments, what the stored
/// order carries (orders loaded by `oms seed`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ActualShippingDetails)]
pub struct ActualShippingOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50, example = "NGS")]
    carrier: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50, example = "NGSPS")]
    service_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64, example = "Newgistics Parcel Select")]
    service_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50, example = "95605332216")]
    tracking_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    ship_date: Option<String>,
}

impl<'a> ActualShippingOut<'a> {
    fn of(order: &'a Order) -> Option<ActualShippingOut<'a>> {
        if let Some(s) = order.fulfilment.shipments.last() {
            return Some(ActualShippingOut {
                carrier: Some(&s.carrier),
                service_id: s.service_id.as_deref(),
                service_name: s.service_name.as_deref(),
                tracking_number: Some(&s.tracking_number),
                ship_date: Some(format_utc(&s.ship_date)),
            });
        }
        let d = order.content.actual_shipping_details.as_ref()?;
        Some(ActualShippingOut {
            carrier: d.carrier.as_deref(),
            service_id: d.service_id.as_deref(),
            service_name: d.service_name.as_deref(),
            tracking_number: d.tracking_number.as_deref(),
            ship_date: None,
        })
    }
}

fn visible_status(order: &Order) -> Status {
    order.status
}

/// Lines without the SendPro360-only attributes.
fn line_view(line: &OrderLine) -> OrderLine {
    OrderLine {
        custom_product_id: None,
        unit_weight: None,
        ..line.clone()
    }
}

/// Without the SendPro360-only flag, and without the empty placeholder of a cleared middle
/// `addressLine2` (see the SendPro360 adapter).
fn address_view(address: &Address) -> Address {
    Address {
        residential: None,
        address_lines: address
            .address_lines
            .iter()
            .filter(|l| !l.is_empty())
            .cloned()
            .collect(),
        ..address.clone()
    }
}

/// The subset returned by `/orders/status/search` (seed 002).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = FulfillmentOrderStatus)]
#[serde(rename_all = "camelCase")]
pub struct OrderStatusOut<'a> {
    client_id: &'a str,
    order_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_order_id: Option<&'a str>,
    client_order_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    brand: Option<&'a str>,
    status: Status,
    is_on_hold: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    create_date: Option<&'a IsoDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    update_date: Option<&'a IsoDate>,
    #[schema(format = DateTime)]
    pb_create_date: String,
    #[schema(format = DateTime)]
    pb_update_date: String,
}

impl<'a> OrderStatusOut<'a> {
    pub fn of(order: &'a Order) -> OrderStatusOut<'a> {
        let c = &order.content;
        OrderStatusOut {
            client_id: &order.client_id,
            order_id: &order.order_id,
            customer_order_id: c.customer_order_id.as_deref(),
            client_order_id: &c.client_order_id,
            brand: c.brand.as_deref(),
            status: visible_status(order),
            is_on_hold: order.is_on_hold(),
            create_date: c.create_date.as_ref(),
            update_date: c.update_date.as_ref(),
            pb_create_date: format_utc(&order.pb_create_date),
            pb_update_date: format_utc(&order.pb_update_date),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ViewQuery {
    /// Must be the client of the bearer token.
    #[param(value_type = String, required = true)]
    pub client_id: Option<String>,
    pub brand: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 2147483647)]
    page: Option<String>,
    /// Orders per page (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    size: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = FulfillmentSearchRequest)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchIn {
    #[schema(value_type = String, required = true, example = "1234")]
    client_id: Option<String>,
    /// `<property>-asc|desc`, property one of createDate, updateDate, pbCreateDate, pbUpdateDate.
    #[serde(default)]
    #[schema(value_type = Vec<SortText>, max_items = 4, example = json!(["createDate-asc"]))]
    sort: Vec<String>,
    /// At most 10 criteria, 100 values each, 200 values in all.
    #[serde(default)]
    #[schema(max_items = 10)]
    search_fields: Vec<SearchField>,
}

impl crate::http::extract::RequestBody for SearchIn {}

/// `<property>-asc|desc` (case-insensitive).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, pattern = "^([Cc][Rr][Ee][Aa][Tt][Ee][Dd][Aa][Tt][Ee]|[Uu][Pp][Dd][Aa][Tt][Ee][Dd][Aa][Tt][Ee]|[Pp][Bb][Cc][Rr][Ee][Aa][Tt][Ee][Dd][Aa][Tt][Ee]|[Pp][Bb][Uu][Pp][Dd][Aa][Tt][Ee][Dd][Aa][Tt][Ee])-([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])$")]
pub struct SortText(#[allow(dead_code)] String);

/// A search value: text, or a number (matched as its digits).
pub struct SearchValue;

impl utoipa::PartialSchema for SearchValue {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::Array(vec![Type::String, Type::Number]))
            .into()
    }
}

impl utoipa::ToSchema for SearchValue {}

/// A criterion: `name` is one of orders, orderId, clientOrderId, brand, orderType, status,
/// createDate, updateDate, pbCreateDate, pbUpdateDate (case-insensitive); date values are
/// `[from]` or `[from, to]`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchField {
    /// Case-insensitive.
    #[schema(
        example = "status",
        pattern = "^([Oo][Rr][Dd][Ee][Rr][Ss]|[Oo][Rr][Dd][Ee][Rr][Ii][Dd]|[Cc][Ll][Ii][Ee][Nn][Tt][Oo][Rr][Dd][Ee][Rr][Ii][Dd]|[Bb][Rr][Aa][Nn][Dd]|[Oo][Rr][Dd][Ee][Rr][Tt][Yy][Pp][Ee]|[Ss][Tt][Aa][Tt][Uu][Ss]|[Cc][Rr][Ee][Aa][Tt][Ee][Dd][Aa][Tt][Ee]|[Uu][Pp][Dd][Aa][Tt][Ee][Dd][Aa][Tt][Ee]|[Pp][Bb][Cc][Rr][Ee][Aa][Tt][Ee][Dd][Aa][Tt][Ee]|[Pp][Bb][Uu][Pp][Dd][Aa][Tt][Ee][Dd][Aa][Tt][Ee])$"
    )]
    name: String,
    #[schema(value_type = Vec<SearchValue>, min_items = 1, max_items = 100, example = json!(["RECEIVED"]))]
    values: Vec<Value>,
}

impl SearchIn {
    pub fn into_query(self, caller: &Caller, paging: PageQuery) -> ApiResult<SearchQuery> {
        match self.client_id.as_deref() {
            None => return Err(ApiError::field("clientId", "is required")),
            Some(id) => caller.require_same_client(id)?,
        }
        let mut p = Problems::default();
        let counts: Vec<usize> = self.search_fields.iter().map(|f| f.values.len()).collect();
        check_shape(
            &mut p,
            "searchFields",
            "values",
            &counts,
            Some(("sort", self.sort.len())),
        );
        if !p.is_empty() {
            return Err(ApiError::Validation(p.into_errors()));
        }
        // Capped at i32::MAX so that the number fits the int32 the spec (and generated clients) use.
        let page = parse_bounded(
            &mut p,
            "page",
            paging.page.as_deref(),
            1,
            1,
            i32::MAX as u32,
        );
        let size = parse_bounded(
            &mut p,
            "size",
            paging.size.as_deref(),
            DEFAULT_PAGE_SIZE,
            1,
            MAX_PAGE_SIZE,
        );
        let mut sort = Vec::new();
        for (i, s) in self.sort.iter().enumerate() {
            match SortKey::parse(s) {
                Some(k) => sort.push(k),
                None => p.add(
                    format!("sort[{i}]"),
                    format!(
                        "'{s}' is not <property>-asc|desc with property one of createDate, \
                         updateDate, pbCreateDate, pbUpdateDate"
                    ),
                ),
            }
        }
        if sort.is_empty() {
            sort.push(SortKey {
                field: DateField::PbCreateDate,
                descending: true,
            });
        }
        let mut filters = Vec::new();
        for (i, f) in self.search_fields.iter().enumerate() {
            let at = format!("searchFields[{i}]");
            if let Some(filter) = parse_filter(&mut p, &at, f) {
                filters.push(filter);
            }
        }
        p.into_result().map_err(ApiError::Validation)?;
        Ok(SearchQuery {
            filters,
            sort,
            page: page - 1,
            size,
        })
    }
}

fn parse_bounded(
    p: &mut Problems,
    name: &str,
    raw: Option<&str>,
    default: u32,
    min: u32,
    max: u32,
) -> u32 {
    match raw {
        None => default,
        Some(text) => match text.trim().parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => n,
            _ => {
                p.add(name, format!("must be a whole number from {min} to {max}"));
                default
            }
        },
    }
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(text::trim(s).to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_filter(p: &mut Problems, at: &str, f: &SearchField) -> Option<Filter> {
    let mut texts = Vec::with_capacity(f.values.len());
    for (j, v) in f.values.iter().enumerate() {
        match value_text(v) {
            Some(t) => texts.push(t),
            None => p.add(format!("{at}.values[{j}]"), "must be a string"),
        }
    }
    if f.values.is_empty() {
        p.add(format!("{at}.values"), "must list at least one value");
        return None;
    }
    let lower = || texts.iter().map(|t| t.to_lowercase()).collect::<Vec<_>>();
    let name = f.name.to_ascii_lowercase();
    if let Some(field) = DateField::parse(&name) {
        return date_filter(p, at, "values", field, &texts);
    }
    match name.as_str() {
        "orders" => Some(Filter::OrderIdOrClientOrderId(texts)),
        "orderid" => Some(Filter::OrderId(texts)),
        "clientorderid" => Some(Filter::ClientOrderId(lower())),
        "brand" => Some(Filter::Brand(lower())),
        "ordertype" => {
            for (j, t) in texts.iter().enumerate() {
                if !matches!(t.to_lowercase().as_str(), "ecom" | "retail") {
                    p.add(
                        format!("{at}.values[{j}]"),
                        format!("'{t}' is not eCom or Retail"),
                    );
                }
            }
            Some(Filter::OrderType(lower()))
        }
        "status" => {
            let mut statuses = Vec::new();
            for (j, t) in texts.iter().enumerate() {
                match Status::parse(t) {
                    Some(s) => statuses.push(s),
                    None => p.add(
                        format!("{at}.values[{j}]"),
                        format!("'{t}' is not an order status"),
                    ),
                }
            }
            Some(Filter::Status(statuses))
        }
        _ => {
            p.add(
                format!("{at}.name"),
                format!(
                    "'{}' is not searchable; use orders, orderId, clientOrderId, brand, orderType, \
                     status, createDate, updateDate, pbCreateDate or pbUpdateDate",
                    f.name
                ),
            );
            None
        }
    }
}

/// `[from]` or `[from, to]`, inclusive.
pub fn date_filter(
    p: &mut Problems,
    at: &str,
    values_key: &str,
    field: DateField,
    texts: &[String],
) -> Option<Filter> {
    if texts.is_empty() || texts.len() > 2 {
        p.add(
            format!("{at}.{values_key}"),
            "a date range is [from] or [from, to]",
        );
        return None;
    }
    let from = parse_search_bound(&texts[0], false)
        .map_err(|e| p.add(format!("{at}.{values_key}[0]"), e))
        .ok()?;
    let to = match texts.get(1) {
        None => None,
        Some(t) => Some(
            parse_search_bound(t, true)
                .map_err(|e| p.add(format!("{at}.{values_key}[1]"), e))
                .ok()?,
        ),
    };
    // A range that ends before it starts is valid and simply matches nothing.
    Some(Filter::Date {
        field,
        from: Some(from),
        to,
    })
}

/// Seed 002's envelope.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchOut<T> {
    total_pages: u64,
    total_elements: u64,
    first: bool,
    last: bool,
    size: u32,
    page: u32,
    sort: Vec<String>,
    orders: Vec<T>,
}

impl<T> SearchOut<T> {
    pub fn new(query: &SearchQuery, page: &Page<Order>, orders: Vec<T>) -> SearchOut<T> {
        let total_pages = page.total_pages(query.size);
        let number = query.page + 1;
        SearchOut {
            total_pages,
            total_elements: page.total,
            first: number == 1,
            last: u64::from(number) >= total_pages,
            size: query.size,
            page: number,
            sort: query.sort.iter().map(|k| k.render()).collect(),
            orders,
        }
    }
}
