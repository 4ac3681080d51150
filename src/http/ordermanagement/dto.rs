//! The SendPro360 Order Management dialect (pb-api-research.md §1) and its mapping to the
//! canonical order (table in `domain::order`). Requests are flat; GET and search group the order
//! into `orderInfo` and `orderShippingInfo`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::Order;
use crate::domain::date::format_utc;
use crate::domain::order::{Address, OrderContent, OrderLine, string_or_number};
use crate::domain::status::SendproStatus;
use crate::domain::text::is_blank;
use crate::domain::validate::{FieldError, Problems};
use crate::error::{ApiError, ApiResult};

/// The order as a SendPro360 client sends it (create; and the merge base of a PATCH).
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = SendproOrderRequest)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50, example = "ORD123456")]
    pub order_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub order_message: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub metadata: Option<Vec<Map<String, Value>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charges: Option<ChargesDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub shipping_reference: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub customer_info: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_address: Option<AddressDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_address: Option<AddressDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<ItemDoc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub additional_addresses: Option<Vec<Map<String, Value>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub shipping_preferences: Option<Map<String, Value>>,
}

impl crate::http::extract::RequestBody for OrderDoc {
    fn content_problems(self) -> Vec<FieldError> {
        self.create_problems()
    }
}

/// Top-level fields a PATCH may name, and those it may not clear with `null`.
pub const FIELDS: [&str; 11] = [
    "orderNumber",
    "orderMessage",
    "metadata",
    "charges",
    "shippingReference",
    "customerInfo",
    "fromAddress",
    "toAddress",
    "items",
    "additionalAddresses",
    "shippingPreferences",
];
pub const REQUIRED: [&str; 4] = ["orderNumber", "fromAddress", "toAddress", "items"];

#[derive(Debug, Default, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Charges)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChargesDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[A-Z]{3}$", example = "USD")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 999999999999999u64, multiple_of = 0.0001)]
    pub gmv: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 999999999999999u64, multiple_of = 0.0001)]
    pub sub_total: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 999999999999999u64, multiple_of = 0.0001)]
    pub total_paid: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_type: Option<String>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = SendproAddress)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddressDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line3: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city_town: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_province: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "string_or_number"
    )]
    #[schema(schema_with = crate::domain::order::postal_code_schema)]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residential: Option<bool>,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Item)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_product_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 60, example = "SKU12345")]
    pub item_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(
        default,
        rename = "hSTariffCode",
        skip_serializing_if = "Option::is_none"
    )]
    pub hs_tariff_code: Option<String>,
    #[serde(
        default,
        rename = "hSTariffCodeCountry",
        skip_serializing_if = "Option::is_none"
    )]
    pub hs_tariff_code_country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_country_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_state_province: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::domain::money::whole_number"
    )]
    #[schema(minimum = 1, maximum = 1000000)]
    pub quantity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 999999999999999u64, multiple_of = 0.0001)]
    pub unit_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub unit_weight: Option<Map<String, Value>>,
}

impl AddressDoc {
    fn to_canonical(&self) -> Address {
        Address {
            name: self.name.clone(),
            company: self.company.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
            address_lines: positional_lines([
                &self.address_line1,
                &self.address_line2,
                &self.address_line3,
            ]),
            city_town: self.city_town.clone(),
            state_province: self.state_province.clone(),
            postal_code: self.postal_code.clone(),
            country_code: self.country_code.clone(),
            residential: self.residential,
        }
    }

    fn of(a: &Address) -> AddressDoc {
        let line = |i: usize| a.address_lines.get(i).filter(|l| !l.is_empty()).cloned();
        AddressDoc {
            name: a.name.clone(),
            company: a.company.clone(),
            address_line1: line(0),
            address_line2: line(1),
            address_line3: line(2),
            city_town: a.city_town.clone(),
            state_province: a.state_province.clone(),
            postal_code: a.postal_code.clone(),
            country_code: a.country_code.clone(),
            phone: a.phone.clone(),
            email: a.email.clone(),
            residential: a.residential,
        }
    }
}

/// `addressLine1..3` keep their positions: a cleared middle line is stored as an empty line
/// (shown as absent here, skipped by the Fulfillment surface), trailing ones are dropped.
fn positional_lines(lines: [&Option<String>; 3]) -> Vec<String> {
    let used = lines.iter().rposition(|l| l.is_some()).map_or(0, |i| i + 1);
    lines[..used]
        .iter()
        .map(|l| (*l).clone().unwrap_or_default())
        .collect()
}

impl ItemDoc {
    fn to_line(&self, index: usize) -> OrderLine {
        OrderLine {
            line_id: Some(index as i64 + 1),
            sku: self.item_id.clone(),
            description: self.description.clone(),
            origin_country_code: self.origin_country_code.clone(),
            origin_state_province: self.origin_state_province.clone(),
            unit_price: self.unit_price,
            hs_tariff_code: self.hs_tariff_code.clone(),
            hs_tariff_code_country: self.hs_tariff_code_country.clone(),
            ordered_quantity: self.quantity,
            line_total: None,
            inventory_type: None,
            additional_details: None,
            custom_product_id: self.custom_product_id.clone(),
            unit_weight: self.unit_weight.clone().map(Value::Object),
        }
    }

    fn of(line: &OrderLine) -> ItemDoc {
        ItemDoc {
            custom_product_id: line.custom_product_id.clone(),
            item_id: line.sku.clone(),
            description: line.description.clone(),
            hs_tariff_code: line.hs_tariff_code.clone(),
            hs_tariff_code_country: line.hs_tariff_code_country.clone(),
            origin_country_code: line.origin_country_code.clone(),
            origin_state_province: line.origin_state_province.clone(),
            quantity: line.ordered_quantity,
            unit_price: line.unit_price,
            unit_weight: line
                .unit_weight
                .as_ref()
                .and_then(|v| v.as_object().cloned()),
        }
    }
}

fn object(v: &Option<Value>) -> Option<Map<String, Value>> {
    v.as_ref().and_then(|v| v.as_object().cloned())
}

fn objects(v: &Option<Vec<Value>>) -> Option<Vec<Map<String, Value>>> {
    v.as_ref()
        .map(|list| list.iter().filter_map(|v| v.as_object().cloned()).collect())
}

impl OrderDoc {
    /// The canonical content seen through this dialect.
    pub fn of(content: &OrderContent) -> OrderDoc {
        let sp = &content.sendpro;
        let extra = sp.charges_extra.as_ref();
        let extra_text = |k: &str| {
            extra
                .and_then(|e| e.get(k))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let charges = content.order_charges.as_ref().map(|c| ChargesDoc {
            currency: c.order_currency.clone(),
            billing_status: extra_text("billingStatus"),
            gmv: c.total_order_amount,
            sub_total: c.total_item_amount,
            total_paid: extra
                .and_then(|e| e.get("totalPaid"))
                .and_then(|v| serde_json::from_value(v.clone()).ok()),
            payment_type: extra_text("paymentType"),
        });
        OrderDoc {
            order_number: Some(content.client_order_id.clone()),
            order_message: object(&sp.order_message),
            metadata: objects(&sp.metadata),
            charges,
            shipping_reference: object(&sp.shipping_reference),
            customer_info: object(&sp.customer_info),
            from_address: sp.from_address.as_ref().map(AddressDoc::of),
            to_address: Some(AddressDoc::of(&content.to_address)),
            items: Some(content.order_lines.iter().map(ItemDoc::of).collect()),
            additional_addresses: objects(&sp.additional_addresses),
            shipping_preferences: object(&sp.shipping_preferences),
        }
    }

    /// Writes this document over `content`. Lines are replaced only when `replace_items` (a
    /// PATCH without `items` keeps the lines, with their Fulfillment-only attributes).
    pub fn apply_to(self, content: &mut OrderContent, replace_items: bool) -> ApiResult<()> {
        self.check_own_fields()?;
        content.client_order_id = self.order_number.unwrap_or_default();
        if replace_items {
            // An item sent back as it was read keeps its line, with the attributes only the
            // Fulfillment surface shows (`inventoryType`, `additionalDetails`, `lineTotal`).
            let stored = std::mem::take(&mut content.order_lines);
            content.order_lines = self
                .items
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(i, item)| match stored.get(i) {
                    Some(line) if ItemDoc::of(line) == *item => line.clone(),
                    _ => item.to_line(i),
                })
                .collect();
        }
        if let Some(a) = &self.to_address {
            content.to_address = a.to_canonical();
        }
        match self.charges {
            None => {
                content.order_charges = None;
                content.sendpro.charges_extra = None;
            }
            Some(c) => {
                let mut canonical = content.order_charges.take().unwrap_or_default();
                canonical.order_currency = c.currency;
                canonical.total_item_amount = c.sub_total;
                canonical.total_order_amount = c.gmv;
                content.order_charges = Some(canonical);
                let mut extra = Map::new();
                if let Some(v) = c.billing_status {
                    extra.insert("billingStatus".into(), Value::String(v));
                }
                if let Some(v) = c.total_paid {
                    extra.insert(
                        "totalPaid".into(),
                        serde_json::to_value(v).map_err(anyhow::Error::from)?,
                    );
                }
                if let Some(v) = c.payment_type {
                    extra.insert("paymentType".into(), Value::String(v));
                }
                content.sendpro.charges_extra = (!extra.is_empty()).then_some(Value::Object(extra));
            }
        }
        let sp = &mut content.sendpro;
        sp.from_address = self.from_address.as_ref().map(AddressDoc::to_canonical);
        sp.order_message = self.order_message.map(Value::Object);
        sp.metadata = self
            .metadata
            .map(|m| m.into_iter().map(Value::Object).collect());
        sp.shipping_reference = self.shipping_reference.map(Value::Object);
        sp.customer_info = self.customer_info.map(Value::Object);
        sp.additional_addresses = self
            .additional_addresses
            .map(|m| m.into_iter().map(Value::Object).collect());
        sp.shipping_preferences = self.shipping_preferences.map(Value::Object);
        Ok(())
    }

    /// Limits on the fields only this dialect has (the shared ones are checked canonically).
    fn check_own_fields(&self) -> ApiResult<()> {
        let mut p = Problems::default();
        for (object, at, key, max) in [
            (&self.customer_info, "customerInfo", "customerId", 50),
            (&self.customer_info, "customerInfo", "email", 70),
            (&self.order_message, "orderMessage", "message", 1024),
        ] {
            let value = object.as_ref().and_then(|m| m.get(key));
            text_field(&mut p, &format!("{at}.{key}"), value, max);
        }
        for (at, address) in [
            ("fromAddress", &self.from_address),
            ("toAddress", &self.to_address),
        ] {
            let Some(a) = address else { continue };
            for (n, line) in [&a.address_line1, &a.address_line2, &a.address_line3]
                .into_iter()
                .enumerate()
            {
                if line.as_deref().is_some_and(is_blank) {
                    p.add(format!("{at}.addressLine{}", n + 1), "must not be blank");
                }
            }
        }
        if let Some(c) = &self.charges {
            p.amount("charges.totalPaid", c.total_paid.as_ref());
            p.max_len("charges.billingStatus", c.billing_status.as_deref(), 50);
            p.max_len("charges.paymentType", c.payment_type.as_deref(), 50);
        }
        for (i, m) in self.metadata.iter().flatten().enumerate() {
            text_field(&mut p, &format!("metadata[{i}].name"), m.get("name"), 50);
            text_field(&mut p, &format!("metadata[{i}].value"), m.get("value"), 255);
        }
        if self.metadata.as_ref().is_some_and(|m| m.len() > 50) {
            p.add("metadata", "at most 50 entries");
        }
        if self
            .additional_addresses
            .as_ref()
            .is_some_and(|m| m.len() > 10)
        {
            p.add("additionalAddresses", "at most 10 addresses");
        }
        p.into_result().map_err(ApiError::Validation)
    }

    /// Every problem of this body as a create, in this dialect: reported beside the fields that
    /// did not parse (the create handler's checks, in the same order).
    pub fn create_problems(self) -> Vec<FieldError> {
        let required = self.check_required();
        let mut content = OrderContent::default();
        if let Err(ApiError::Validation(list)) =
            self.apply_to(&mut content, true).map_err(translate)
        {
            return crate::domain::validate::combine(required, list);
        }
        let canonical = match content
            .validate()
            .map_err(|e| translate(ApiError::Validation(e)))
        {
            Err(ApiError::Validation(list)) => list,
            _ => Vec::new(),
        };
        crate::domain::validate::combine(required, canonical)
    }

    /// What a create must carry in this dialect.
    pub fn check_required(&self) -> Vec<FieldError> {
        let mut p = Problems::default();
        if self.order_number.is_none() {
            p.add("orderNumber", "is required");
        }
        if self.from_address.is_none() {
            p.add("fromAddress", "is required");
        }
        if self.to_address.is_none() {
            p.add("toAddress", "is required");
        }
        if self.items.as_ref().is_none_or(|i| i.is_empty()) {
            p.add("items", "at least one item is required");
        }
        p.into_errors()
    }
}

/// An optional text inside a free-form object: a string of at most `max` characters.
fn text_field(p: &mut Problems, at: &str, value: Option<&Value>, max: usize) {
    match value {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => p.max_len(at, Some(s), max),
        Some(_) => p.add(at, "must be a string"),
    }
}

/// Canonical field paths in this dialect's spelling, for error messages.
pub fn sendpro_path(canonical: &str) -> String {
    let mut path = canonical.to_string();
    for (from, to) in [
        ("clientOrderId", "orderNumber"),
        ("orderLines", "items"),
        ("orderCharges.orderCurrency", "charges.currency"),
        ("orderCharges.totalItemAmount", "charges.subTotal"),
        ("orderCharges.totalOrderAmount", "charges.gmv"),
        ("orderCharges", "charges"),
        (".orderedQuantity", ".quantity"),
        (".sku", ".itemId"),
    ] {
        if let Some(i) = path.find(from) {
            path.replace_range(i..i + from.len(), to);
        }
    }
    for n in 0..3 {
        path = path.replace(
            &format!("addressLines[{n}]"),
            &format!("addressLine{}", n + 1),
        );
    }
    path.replace("addressLines", "addressLine1")
}

pub fn translate(err: ApiError) -> ApiError {
    match err {
        ApiError::Validation(list) => ApiError::Validation(
            list.into_iter()
                .map(|e| FieldError {
                    field: sendpro_path(&e.field),
                    message: e.message,
                })
                .collect(),
        ),
        other => other,
    }
}

/// GET and search element: `{orderInfo, orderShippingInfo}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SendproOrder)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    order_info: OrderInfo,
    order_shipping_info: OrderShippingInfo,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct OrderInfo {
    order_id: String,
    order_number: String,
    #[schema(value_type = String, example = "UNFULFILLED")]
    status: &'static str,
    #[schema(format = DateTime)]
    order_create_date: String,
    #[schema(format = DateTime)]
    order_update_date: String,
    #[schema(value_type = String, example = "API")]
    source_flow_type: &'static str,
    created_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    customer_info: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    order_message: Option<Map<String, Value>>,
    items: Vec<ItemDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    charges: Option<ChargesDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    metadata: Option<Vec<Map<String, Value>>>,
    tag_ids: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct OrderShippingInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    from_address: Option<AddressDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_address: Option<AddressDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    additional_addresses: Option<Vec<Map<String, Value>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    shipping_reference: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    shipping_preferences: Option<Map<String, Value>>,
    /// oms's own field (SendPro360's schema has no place for tracking): the shipments the
    /// warehouse recorded, oldest first. Absent until the first one; ignored when sent back.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    shipments: Vec<ShipmentDoc>,
}

/// A shipment in SendPro360's words: items by `itemId`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ShipmentDoc {
    #[schema(example = "S1")]
    shipment_id: String,
    #[schema(example = "UPS")]
    carrier: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "2DA")]
    service: Option<String>,
    tracking_number: String,
    #[schema(format = DateTime)]
    ship_date: String,
    items: Vec<ShippedItemDoc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ShippedItemDoc {
    #[serde(skip_serializing_if = "Option::is_none")]
    item_id: Option<String>,
    quantity: i64,
}

fn shipment_docs(order: &Order) -> Vec<ShipmentDoc> {
    let lines = &order.content.order_lines;
    order
        .fulfilment
        .shipments
        .iter()
        .map(|s| ShipmentDoc {
            shipment_id: s.shipment_id.clone(),
            carrier: s.carrier.clone(),
            service: s.service_id.clone(),
            tracking_number: s.tracking_number.clone(),
            ship_date: format_utc(&s.ship_date),
            items: s
                .lines
                .iter()
                .map(|l| ShippedItemDoc {
                    item_id: lines.get(l.line).and_then(|x| x.sku.clone()),
                    quantity: l.quantity,
                })
                .collect(),
        })
        .collect()
}

impl OrderView {
    pub fn of(order: &Order) -> OrderView {
        let doc = OrderDoc::of(&order.content);
        OrderView {
            order_info: OrderInfo {
                order_id: order.order_id.clone(),
                order_number: order.content.client_order_id.clone(),
                status: SendproStatus::of(order.status).as_str(),
                order_create_date: format_utc(&order.pb_create_date),
                order_update_date: format_utc(&order.pb_update_date),
                source_flow_type: "API",
                created_by: order.created_by.clone(),
                customer_info: doc.customer_info,
                order_message: doc.order_message,
                items: doc.items.unwrap_or_default(),
                charges: doc.charges,
                metadata: doc.metadata,
                tag_ids: order.tags.clone(),
            },
            order_shipping_info: OrderShippingInfo {
                from_address: doc.from_address,
                to_address: doc.to_address,
                additional_addresses: doc.additional_addresses,
                shipping_reference: doc.shipping_reference,
                shipping_preferences: doc.shipping_preferences,
                shipments: shipment_docs(order),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_paths_read_in_this_dialect() {
        assert_eq!(sendpro_path("clientOrderId"), "orderNumber");
        assert_eq!(sendpro_path("orderLines[2].sku"), "items[2].itemId");
        assert_eq!(
            sendpro_path("orderLines[0].orderedQuantity"),
            "items[0].quantity"
        );
        assert_eq!(
            sendpro_path("toAddress.addressLines[1]"),
            "toAddress.addressLine2"
        );
        assert_eq!(
            sendpro_path("fromAddress.addressLines"),
            "fromAddress.addressLine1"
        );
        assert_eq!(sendpro_path("orderCharges.totalOrderAmount"), "charges.gmv");
    }

    #[test]
    fn mapping_round_trips_through_the_canonical_order() {
        let doc: OrderDoc = serde_json::from_value(serde_json::json!({
            "orderNumber": "ORD-1",
            "customerInfo": {"customerId": "C1", "firstName": "Jo"},
            "charges": {"currency": "USD", "subTotal": 50, "gmv": 55.5, "paymentType": "Card", "totalPaid": 55.5},
            "fromAddress": {"name": "W", "addressLine1": "1 A St", "countryCode": "CA"},
            "toAddress": {"name": "J", "addressLine1": "2 B St", "addressLine2": "Apt 3", "postalCode": 12345},
            "items": [{"itemId": "SKU1", "quantity": 2, "unitPrice": 25, "unitWeight": {"weight": 1.5, "unitOfMeasurement": "OZ"}}]
        }))
        .unwrap();
        let mut content = OrderContent::default();
        doc.apply_to(&mut content, true).unwrap();
        assert_eq!(content.client_order_id, "ORD-1");
        assert_eq!(content.order_lines[0].sku.as_deref(), Some("SKU1"));
        assert_eq!(content.order_lines[0].ordered_quantity, Some(2));
        assert_eq!(content.to_address.address_lines, ["2 B St", "Apt 3"]);
        assert_eq!(content.to_address.postal_code.as_deref(), Some("12345"));
        let charges = content.order_charges.as_ref().unwrap();
        assert_eq!(charges.order_currency.as_deref(), Some("USD"));
        assert_eq!(charges.total_item_amount, Some(Decimal::from(50)));
        assert_eq!(charges.total_order_amount, Some("55.5".parse().unwrap()));
        assert_eq!(content.sendpro.customer_id(), Some("C1"));

        let back = serde_json::to_value(OrderDoc::of(&content)).unwrap();
        assert_eq!(back["orderNumber"], "ORD-1");
        assert_eq!(back["toAddress"]["addressLine2"], "Apt 3");
        assert_eq!(back["items"][0]["itemId"], "SKU1");
        assert_eq!(back["items"][0]["unitWeight"]["unitOfMeasurement"], "OZ");
        assert_eq!(back["charges"]["gmv"], serde_json::json!(55.5));
        assert_eq!(back["charges"]["paymentType"], "Card");
        assert_eq!(back["charges"]["totalPaid"], serde_json::json!(55.5));
        assert_eq!(back["fromAddress"]["countryCode"], "CA");
    }
}

/// The outcome of a create, update, item removal or delete.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperationResult {
    pub order_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    /// `Created`, `Updated` or `Deleted`: what happened, not the order status.
    #[schema(example = "Updated")]
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub transaction_create_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub transaction_date_time: Option<String>,
    /// The order's tags after a tag update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_ids: Option<Vec<String>>,
}

impl OperationResult {
    fn of(order: &Order, status: &'static str) -> OperationResult {
        OperationResult {
            order_id: order.order_id.clone(),
            order_number: Some(order.content.client_order_id.clone()),
            status,
            transaction_create_date: None,
            transaction_date_time: None,
            tag_ids: None,
        }
    }

    /// Create and PATCH answer with `transactionCreateDate`, as documented.
    pub fn created(order: &Order) -> OperationResult {
        OperationResult {
            transaction_create_date: Some(format_utc(&order.pb_create_date)),
            ..OperationResult::of(order, "Created")
        }
    }

    pub fn updated(order: &Order) -> OperationResult {
        OperationResult {
            transaction_create_date: Some(super::transaction_time()),
            ..OperationResult::of(order, "Updated")
        }
    }

    pub fn deleted(order: &Order) -> OperationResult {
        OperationResult {
            transaction_date_time: Some(super::transaction_time()),
            ..OperationResult::of(order, "Deleted")
        }
    }

    /// Item removal is documented as `{orderId, status, transactionDateTime}`.
    pub fn item_removed(order: &Order) -> OperationResult {
        OperationResult {
            order_number: None,
            transaction_date_time: Some(super::transaction_time()),
            ..OperationResult::of(order, "Updated")
        }
    }

    pub fn tagged(order: &Order) -> OperationResult {
        OperationResult {
            tag_ids: Some(order.tags.clone()),
            ..OperationResult::item_removed(order)
        }
    }
}

/// Bulk status and bulk tags: the documented summary plus one result per listed order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkOutcome {
    #[schema(example = "ONHOLD")]
    pub status: String,
    pub message: String,
    #[schema(format = DateTime)]
    pub transaction_date_time: String,
    pub results: Vec<BulkResult>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkResult {
    pub order_id: String,
    pub success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<BulkError>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkError {
    pub error_code: String,
    pub message: String,
}

impl BulkOutcome {
    /// 404 when none of the listed orders exists for the caller; otherwise 200 with each
    /// order's outcome (`partial_status` when some failed).
    pub fn finish(
        results: Vec<BulkResult>,
        status: &str,
        partial_status: &str,
        success_message: &str,
    ) -> ApiResult<BulkOutcome> {
        if results.iter().all(BulkResult::is_not_found) {
            return Err(ApiError::NotFound(
                "none of the listed orders was found".into(),
            ));
        }
        let failed = results.iter().filter(|r| !r.success).count();
        let (status, message) = if failed == 0 {
            (status, success_message.to_string())
        } else {
            let done = results.len() - failed;
            let message = format!("{done} of {} orders updated; see results.", results.len());
            (partial_status, message)
        };
        Ok(BulkOutcome {
            status: status.to_string(),
            message,
            transaction_date_time: super::transaction_time(),
            results,
        })
    }
}

impl BulkResult {
    /// One order's outcome; an outage is not one order's failure, so it fails the whole
    /// request (which the client can retry).
    pub fn record<T>(order_id: &str, outcome: ApiResult<T>) -> ApiResult<BulkResult> {
        match outcome {
            Err(e @ (ApiError::Unavailable(_) | ApiError::Internal(_))) => Err(e),
            other => Ok(BulkResult::of(order_id, &other)),
        }
    }

    pub fn of<T>(order_id: &str, outcome: &ApiResult<T>) -> BulkResult {
        BulkResult {
            order_id: order_id.to_string(),
            success: outcome.is_ok(),
            error: outcome.as_ref().err().map(|e| BulkError {
                error_code: e.code().to_string(),
                message: e.to_string(),
            }),
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.error
            .as_ref()
            .is_some_and(|e| e.error_code == crate::error::code::NOT_FOUND)
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    pub orders: Vec<OrderView>,
    /// Page index, from 0.
    pub page: u32,
    pub size: u32,
    pub total_elements: u64,
    pub total_pages: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    pub order_id: String,
    pub events: Vec<crate::domain::history::HistoryEvent>,
}
