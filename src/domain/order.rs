//! The canonical order: a superset of both dialects.
//!
//! Field names follow the Fulfillment Orders object (its schema is the fuller of the two); fields
//! that only the SendPro360 dialect knows are kept alongside and ignored by the Fulfillment
//! adapter. The document is stored as JSON with exactly these names, so adding an optional field
//! later needs no migration.
//!
//! | SendPro360 (`/ordermanagement`)            | canonical / Fulfillment                          |
//! |--------------------------------------------|--------------------------------------------------|
//! | `orderNumber`                              | `clientOrderId`                                  |
//! | `items[].itemId` / `quantity`              | `orderLines[].sku` / `orderedQuantity`           |
//! | `items[].unitPrice, description, hSTariffCode, hSTariffCodeCountry, originCountryCode, originStateProvince` | same names on `orderLines[]` |
//! | `toAddress.addressLine1..3`                | `toAddress.addressLines[0..3]`                   |
//! | `toAddress.name, company, phone, email, cityTown, stateProvince, postalCode, countryCode` | same |
//! | `charges.currency` / `subTotal` / `gmv`    | `orderCharges.orderCurrency` / `totalItemAmount` / `totalOrderAmount` |
//! | status words (see `status` module)         | stored lifecycle status                          |
//! | `tagIds`, create/update dates, soft delete | same                                             |

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::date::{IsoDate, utc_seconds};
use super::money;
use super::shipments::Fulfilment;
use super::size;
use super::status::Status;
use super::text::is_blank;
use super::validate::{FieldError, Problems};

pub const MAX_LINES: usize = 1000;
/// Longest order line `sku` (and a warehouse request's reference to one).
pub const MAX_SKU: usize = 60;

/// Which API created an order; decides the id format and nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Surface {
    Fulfillment,
    Sendpro,
}

/// A stored order: what the client gave (`content`) plus what the server keeps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: String,
    pub client_id: String,
    pub status: Status,
    /// The open status an ONHOLD order returns to when released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_before_hold: Option<Status>,
    #[serde(default)]
    pub hold_reason: Vec<String>,
    #[serde(with = "utc_seconds")]
    pub pb_create_date: DateTime<Utc>,
    #[serde(with = "utc_seconds")]
    pub pb_update_date: DateTime<Utc>,
    pub version: i64,
    #[serde(default)]
    pub tags: Vec<String>,
    pub created_by: String,
    pub source: Surface,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_utc")]
    pub deleted_at: Option<DateTime<Utc>>,
    pub content: OrderContent,
    /// What the warehouse reported: shipments, returns, backordered lines.
    #[serde(default, skip_serializing_if = "Fulfilment::is_empty")]
    pub fulfilment: Fulfilment,
}

impl Order {
    pub fn is_on_hold(&self) -> bool {
        self.status == Status::OnHold
    }
}

/// Everything a client supplies. Replaced whole by a Fulfillment PUT, merged by a SendPro PATCH.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderContent {
    pub client_order_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(default)]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales_channel: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_shipping_details: Option<ShippingDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_shipping_details: Option<ShippingDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_type: Option<OrderType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<IsoDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_date: Option<IsoDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_node: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_on_date: Option<IsoDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillment_release_date: Option<IsoDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promised_delivery_date: Option<IsoDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_handling: Option<OrderHandling>,
    #[serde(default)]
    pub order_lines: Vec<OrderLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_charges: Option<OrderCharges>,
    #[serde(default)]
    pub to_address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// Absent and `false` are one state (every view shows `false`), so the stored document
    /// writes it only when true, and an edit that merely spells out `false` changes nothing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_gift: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gift_message_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_added_services: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_details: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customs_info: Option<CustomsInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_ship_info: Option<DropShipInfo>,
    /// Fields only the SendPro360 dialect has; kept intact, never shown by the Fulfillment API.
    #[serde(default, skip_serializing_if = "SendproExtras::is_empty")]
    pub sendpro: SendproExtras,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendproExtras {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_info: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_message: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_reference: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_preferences: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_addresses: Option<Vec<Value>>,
    /// `charges.billingStatus`, `totalPaid`, `paymentType`: SendPro360-only financials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charges_extra: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_create_date: Option<IsoDate>,
}

impl SendproExtras {
    pub fn is_empty(&self) -> bool {
        *self == SendproExtras::default()
    }

    /// The SendPro360 `customerInfo.customerId`, which search can filter on.
    pub fn customer_id(&self) -> Option<&str> {
        self.customer_info.as_ref()?.get("customerId")?.as_str()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Reference {
    #[serde(default)]
    #[schema(max_length = 50)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 255)]
    pub values: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShippingDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50, example = "PITNEY BOWES")]
    pub carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50, example = "PARCEL")]
    pub service_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub service_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50)]
    pub tracking_number: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub enum OrderType {
    #[serde(rename = "eCom")]
    ECom,
    Retail,
}

impl<'de> Deserialize<'de> for OrderType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match text.to_ascii_lowercase().as_str() {
            "ecom" => Ok(OrderType::ECom),
            "retail" => Ok(OrderType::Retail),
            _ => Err(serde::de::Error::custom(format!(
                "unknown orderType '{text}', expected one of eCom, Retail"
            ))),
        }
    }
}

impl OrderType {
    /// What an order sent without `orderType` is shown as.
    pub const DEFAULT: OrderType = OrderType::ECom;

    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::ECom => "eCom",
            OrderType::Retail => "Retail",
        }
    }
}

/// `X` normal (default), `R` rush, `E` emergency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub enum OrderHandling {
    X,
    R,
    E,
}

impl OrderHandling {
    /// What an order sent without `orderHandling` is shown as.
    pub const DEFAULT: OrderHandling = OrderHandling::X;
}

impl<'de> Deserialize<'de> for OrderHandling {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match text.to_ascii_uppercase().as_str() {
            "X" => Ok(OrderHandling::X),
            "R" => Ok(OrderHandling::R),
            "E" => Ok(OrderHandling::E),
            _ => Err(serde::de::Error::custom(format!(
                "unknown orderHandling '{text}', expected one of X, R, E"
            ))),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderLine {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "money::whole_number"
    )]
    #[schema(minimum = 0)]
    pub line_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 60, example = "0001-0001")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 255)]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 2, max_length = 3, pattern = "^[A-Za-z]{2,3}$")]
    pub origin_country_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50)]
    pub origin_state_province: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 999999999999999u64, multiple_of = 0.0001)]
    pub unit_price: Option<Decimal>,
    #[serde(
        default,
        rename = "hSTariffCode",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(max_length = 14)]
    pub hs_tariff_code: Option<String>,
    #[serde(
        default,
        rename = "hSTariffCodeCountry",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(min_length = 2, max_length = 3, pattern = "^[A-Za-z]{2,3}$")]
    pub hs_tariff_code_country: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "money::whole_number"
    )]
    #[schema(minimum = 1, maximum = 1000000)]
    pub ordered_quantity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 999999999999999u64, multiple_of = 0.0001)]
    pub line_total: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50, example = "NEW")]
    pub inventory_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub additional_details: Option<Value>,
    /// SendPro360-only item fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50)]
    pub custom_product_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub unit_weight: Option<Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Price {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50)]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 999999999999999u64, multiple_of = 0.0001)]
    pub fee: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 3)]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 999999999999999u64, multiple_of = 0.0001)]
    pub percentage: Option<Decimal>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderCharges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[A-Z]{3}$", example = "USD")]
    pub order_currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 999999999999999u64, multiple_of = 0.0001)]
    pub shipping_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 999999999999999u64, multiple_of = 0.0001)]
    pub total_item_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 999999999999999u64, multiple_of = 0.0001)]
    pub total_duty_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duty_details: Option<Vec<Price>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 999999999999999u64, multiple_of = 0.0001)]
    pub total_tax_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_details: Option<Vec<Price>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 999999999999999u64, multiple_of = 0.0001)]
    pub total_discount_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_details: Option<Vec<Price>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 999999999999999u64, multiple_of = 0.0001)]
    pub cash_on_delivery_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_charge_details: Option<Vec<Price>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 999999999999999u64, multiple_of = 0.0001)]
    pub total_order_amount: Option<Decimal>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 100)]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50)]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 25)]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 70)]
    pub email: Option<String>,
    #[serde(default)]
    #[schema(max_items = 3)]
    pub address_lines: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50)]
    pub city_town: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50)]
    pub state_province: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "string_or_number"
    )]
    #[schema(schema_with = postal_code_schema)]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 2,
        max_length = 2,
        pattern = "^[A-Za-z]{2}$",
        example = "US"
    )]
    pub country_code: Option<String>,
    /// SendPro360 `residential` flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residential: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomsInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 999999999999999u64, multiple_of = 0.0001)]
    pub customs_declared_value: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 100)]
    pub importer_customs_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50)]
    pub importer_customs_reference_type: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DropShipInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50)]
    pub company_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 100)]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50)]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 50)]
    pub state: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "string_or_number"
    )]
    #[schema(schema_with = postal_code_schema)]
    pub postal_code: Option<String>,
}

/// The largest postal code accepted as a JSON number: ten digits, within the string's 20.
pub const MAX_NUMERIC_POSTAL_CODE: u64 = 9_999_999_999;

/// The schema of `postalCode`: what `string_or_number` takes (a string of up to 20, or a number
/// as seed 003 sends `36830`); answers always carry the string.
pub fn postal_code_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    let one_of = OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(20)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(MAX_NUMERIC_POSTAL_CODE)),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(
            "A string, or a number (kept as its digits); answered as a string",
        ))
        .examples([serde_json::json!("36830")])
        .build();
    Schema::OneOf(one_of)
}

/// Postal codes arrive as numbers in the documents' own samples (`"postalCode": 36830`); they are
/// kept as the digits sent, as a string.
pub fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        // `36830.0` is the same whole number, as JSON Schema's integer (and Python's JSON) has it.
        Some(Value::Number(n)) => match n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && (0.0..=MAX_NUMERIC_POSTAL_CODE as f64).contains(f))
                .map(|f| f as u64)
        }) {
            Some(code) if code <= MAX_NUMERIC_POSTAL_CODE => Ok(Some(code.to_string())),
            _ => Err(serde::de::Error::custom(format!(
                "a numeric postal code must be a whole number from 0 to \
                 {MAX_NUMERIC_POSTAL_CODE}; send any other code as a string"
            ))),
        },
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected a string or number, got {other}"
        ))),
    }
}

mod opt_utc {
    use super::utc_seconds;
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => utc_seconds::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => DateTime::parse_from_rfc3339(&text)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(serde::de::Error::custom),
        }
    }
}

impl OrderContent {
    /// Every documented limit, enum and required field; all problems at once.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut p = Problems::default();
        p.required_text("clientOrderId", Some(&self.client_order_id), 50);
        p.max_len("customerOrderId", self.customer_order_id.as_deref(), 50);
        p.max_len("brand", self.brand.as_deref(), 50);
        for (i, r) in self.references.iter().enumerate() {
            p.required_text(&format!("references[{i}].name"), r.name.as_deref(), 50);
            p.max_len(&format!("references[{i}].values"), r.values.as_deref(), 255);
        }
        for (name, details) in [
            ("inputShippingDetails", &self.input_shipping_details),
            ("actualShippingDetails", &self.actual_shipping_details),
        ] {
            if let Some(s) = details {
                s.validate(name, &mut p);
            }
        }
        p.max_len("fromNode", self.from_node.as_deref(), 50);
        if self.order_lines.is_empty() {
            p.add("orderLines", "at least one order line is required");
        }
        if self.order_lines.len() > MAX_LINES {
            p.add(
                "orderLines",
                format!("at most {MAX_LINES} order lines are allowed"),
            );
        }
        for (i, line) in self.order_lines.iter().enumerate() {
            line.validate(&format!("orderLines[{i}]"), &mut p);
        }
        if let Some(c) = &self.order_charges {
            c.validate(&mut p);
        }
        self.to_address.validate("toAddress", &mut p);
        if let Some(a) = &self.billing_address {
            a.validate("billingAddress", &mut p);
        }
        if let Some(a) = &self.sendpro.from_address {
            a.validate("fromAddress", &mut p);
        }
        p.max_len("giftMessageText", self.gift_message_text.as_deref(), 1024);
        p.max_len("internalNotes", self.internal_notes.as_deref(), 255);
        if let Some(c) = &self.customs_info {
            p.amount(
                "customsInfo.customsDeclaredValue",
                c.customs_declared_value.as_ref(),
            );
            p.max_len(
                "customsInfo.importerCustomsReference",
                c.importer_customs_reference.as_deref(),
                100,
            );
            p.max_len(
                "customsInfo.importerCustomsReferenceType",
                c.importer_customs_reference_type.as_deref(),
                50,
            );
        }
        if let Some(d) = &self.drop_ship_info {
            p.max_len("dropShipInfo.companyName", d.company_name.as_deref(), 50);
            p.max_len("dropShipInfo.address", d.address.as_deref(), 100);
            p.max_len("dropShipInfo.city", d.city.as_deref(), 50);
            p.max_len("dropShipInfo.state", d.state.as_deref(), 50);
            p.max_len("dropShipInfo.postalCode", d.postal_code.as_deref(), 20);
        }
        p.free_form("salesChannel", self.sales_channel.as_ref());
        for (name, list) in [
            ("valueAddedServices", &self.value_added_services),
            ("paymentDetails", &self.payment_details),
        ] {
            for (i, v) in list.iter().flatten().enumerate() {
                p.free_form(&format!("{name}[{i}]"), Some(v));
            }
        }
        for (i, line) in self.order_lines.iter().enumerate() {
            p.free_form(
                &format!("orderLines[{i}].additionalDetails"),
                line.additional_details.as_ref(),
            );
            p.free_form(
                &format!("orderLines[{i}].unitWeight"),
                line.unit_weight.as_ref(),
            );
        }
        let sp = &self.sendpro;
        for (name, v) in [
            ("customerInfo", &sp.customer_info),
            ("orderMessage", &sp.order_message),
            ("shippingReference", &sp.shipping_reference),
            ("shippingPreferences", &sp.shipping_preferences),
        ] {
            p.free_form(name, v.as_ref());
        }
        for (name, list) in [
            ("metadata", &sp.metadata),
            ("additionalAddresses", &sp.additional_addresses),
        ] {
            for (i, v) in list.iter().flatten().enumerate() {
                p.free_form(&format!("{name}[{i}]"), Some(v));
            }
        }
        // Checked last and only when each part is within its bounds, so that a client is told
        // which field to shorten first.
        if p.is_empty() {
            let len = size::json_len(self);
            if len > size::MAX_ORDER_BYTES {
                p.add(
                    "order",
                    format!(
                        "is {len} bytes as stored; at most {} are allowed",
                        size::MAX_ORDER_BYTES
                    ),
                );
            }
        }
        p.into_result()
    }

    /// Fills what the documents say the server derives: missing line totals, and missing order
    /// totals when every line is priced. Amounts the client sent are kept as sent.
    pub fn fill_totals(&mut self) {
        for line in &mut self.order_lines {
            if line.line_total.is_none() {
                if let (Some(price), Some(qty)) = (line.unit_price, line.ordered_quantity) {
                    line.line_total = Some(money::line_total(price, qty));
                }
            }
        }
        let items_sum = sum_line_totals(&self.order_lines);
        if let Some(c) = &mut self.order_charges {
            c.default_currencies();
            if c.total_item_amount.is_none() {
                c.total_item_amount = items_sum;
            }
            if c.total_order_amount.is_none() {
                c.total_order_amount = c.computed_order_total();
            }
        }
    }

    /// Prepares an edited order (`self`, edited from `before`) for validation: amounts the
    /// server derived for `before` (they agree with what it derives) and that the edit did not
    /// send are cleared, so that `fill_totals` derives them again from the edited order. Totals
    /// that followed the lines keep following them when the lines change, and a derived amount
    /// beyond the cap on sent amounts (a price at the cap times two) is not refused as though
    /// the client had sent it. Amounts the client set to something else stay as set.
    pub fn rederive(&mut self, before: &OrderContent, sent: SentAmounts) {
        if !sent.line_totals {
            for line in &mut self.order_lines {
                if let (Some(price), Some(qty)) = (line.unit_price, line.ordered_quantity) {
                    if line.line_total == Some(money::line_total(price, qty)) {
                        line.line_total = None;
                    }
                }
            }
        }
        let (Some(was), Some(next)) = (&before.order_charges, &mut self.order_charges) else {
            return;
        };
        if !sent.total_item_amount
            && was.total_item_amount.is_some()
            && was.total_item_amount == sum_line_totals(&before.order_lines)
        {
            next.total_item_amount = None;
        }
        if !sent.total_order_amount
            && was.total_order_amount.is_some()
            && was.total_order_amount == was.computed_order_total()
        {
            next.total_order_amount = None;
        }
    }

    /// A full replace may leave out what a Fulfillment create requires, `createDate` and the
    /// requested service (`inputShippingDetails` with `carrier` and `serviceId`), only where
    /// the stored order has none: an order created through SendPro360 has neither, and a client
    /// must be able to send back what it read.
    pub fn missing_on_replace(&self, stored: &OrderContent) -> Vec<FieldError> {
        let mut p = Problems::default();
        if self.create_date.is_none() && stored.create_date.is_some() {
            p.add("createDate", "is required");
        }
        let details = |c: &OrderContent| c.input_shipping_details.clone().unwrap_or_default();
        let (sent, had) = (details(self), details(stored));
        if self.input_shipping_details.is_none() && stored.input_shipping_details.is_some() {
            p.add("inputShippingDetails", "is required");
        } else {
            if sent.carrier.is_none() && had.carrier.is_some() {
                p.add("inputShippingDetails.carrier", "is required");
            }
            if sent.service_id.is_none() && had.service_id.is_some() {
                p.add("inputShippingDetails.serviceId", "is required");
            }
        }
        p.into_errors()
    }

    /// A full replace sends what the Fulfillment view shows, which leaves out what only
    /// SendPro360 shows (an item's `customProductId` and `unitWeight`, an address's
    /// `residential`) and fills in defaults (`orderType`, `orderHandling`). Those are taken
    /// from the stored order, so that sending back what was read changes nothing: item fields
    /// for the line with the same `lineId` and `sku`, and an absent value stays absent when the
    /// replace sends its default.
    pub fn keep_unshown(&mut self, stored: &OrderContent) {
        for line in &mut self.order_lines {
            let Some(old) = stored
                .order_lines
                .iter()
                .find(|old| old.line_id == line.line_id && old.sku == line.sku)
            else {
                continue;
            };
            if line.custom_product_id.is_none() {
                line.custom_product_id.clone_from(&old.custom_product_id);
            }
            if line.unit_weight.is_none() {
                line.unit_weight.clone_from(&old.unit_weight);
            }
        }
        if self.to_address.residential.is_none() {
            self.to_address.residential = stored.to_address.residential;
        }
        if let (Some(next), Some(old)) = (&mut self.billing_address, &stored.billing_address) {
            if next.residential.is_none() {
                next.residential = old.residential;
            }
        }
        if stored.order_type.is_none() && self.order_type == Some(OrderType::DEFAULT) {
            self.order_type = None;
        }
        if stored.order_handling.is_none() && self.order_handling == Some(OrderHandling::DEFAULT) {
            self.order_handling = None;
        }
    }

    pub fn country_code(&self) -> Option<&str> {
        self.to_address.country_code.as_deref()
    }
}

impl ShippingDetails {
    fn validate(&self, at: &str, p: &mut Problems) {
        p.max_len(&format!("{at}.carrier"), self.carrier.as_deref(), 50);
        p.max_len(&format!("{at}.serviceId"), self.service_id.as_deref(), 50);
        p.max_len(
            &format!("{at}.serviceName"),
            self.service_name.as_deref(),
            64,
        );
        p.max_len(
            &format!("{at}.trackingNumber"),
            self.tracking_number.as_deref(),
            50,
        );
    }
}

impl OrderLine {
    fn validate(&self, at: &str, p: &mut Problems) {
        p.required_text(&format!("{at}.sku"), self.sku.as_deref(), MAX_SKU);
        p.max_len(
            &format!("{at}.description"),
            self.description.as_deref(),
            255,
        );
        p.iso_country(
            &format!("{at}.originCountryCode"),
            self.origin_country_code.as_deref(),
        );
        p.max_len(
            &format!("{at}.originStateProvince"),
            self.origin_state_province.as_deref(),
            50,
        );
        p.amount(&format!("{at}.unitPrice"), self.unit_price.as_ref());
        p.amount(&format!("{at}.lineTotal"), self.line_total.as_ref());
        p.max_len(
            &format!("{at}.hSTariffCode"),
            self.hs_tariff_code.as_deref(),
            14,
        );
        p.iso_country(
            &format!("{at}.hSTariffCodeCountry"),
            self.hs_tariff_code_country.as_deref(),
        );
        p.max_len(
            &format!("{at}.inventoryType"),
            self.inventory_type.as_deref(),
            50,
        );
        p.max_len(
            &format!("{at}.customProductId"),
            self.custom_product_id.as_deref(),
            50,
        );
        match self.ordered_quantity {
            None => p.add(format!("{at}.orderedQuantity"), "is required"),
            Some(q) if q < 1 => p.add(format!("{at}.orderedQuantity"), "must be at least 1"),
            Some(q) if q > 1_000_000 => {
                p.add(format!("{at}.orderedQuantity"), "must be at most 1000000")
            }
            Some(_) => {}
        }
        if let Some(id) = self.line_id {
            if id < 0 {
                p.add(format!("{at}.lineId"), "must not be negative");
            }
        }
    }
}

impl OrderCharges {
    fn validate(&self, p: &mut Problems) {
        if let Some(c) = &self.order_currency {
            if c.len() != 3 || !c.chars().all(|ch| ch.is_ascii_uppercase()) {
                p.add(
                    "orderCharges.orderCurrency",
                    "must be an ISO 4217 code of 3 upper-case letters",
                );
            }
        }
        for (name, v) in [
            ("shippingAmount", &self.shipping_amount),
            ("totalItemAmount", &self.total_item_amount),
            ("totalDutyAmount", &self.total_duty_amount),
            ("totalTaxAmount", &self.total_tax_amount),
            ("totalDiscountAmount", &self.total_discount_amount),
            ("cashOnDeliveryAmount", &self.cash_on_delivery_amount),
            ("totalOrderAmount", &self.total_order_amount),
        ] {
            p.amount(&format!("orderCharges.{name}"), v.as_ref());
        }
        for (name, list) in [
            ("dutyDetails", &self.duty_details),
            ("taxDetails", &self.tax_details),
            ("discountDetails", &self.discount_details),
            ("otherChargeDetails", &self.other_charge_details),
        ] {
            for (i, price) in list.iter().flatten().enumerate() {
                let at = format!("orderCharges.{name}[{i}]");
                p.max_len(&format!("{at}.name"), price.name.as_deref(), 50);
                p.amount(&format!("{at}.fee"), price.fee.as_ref());
                p.amount(&format!("{at}.percentage"), price.percentage.as_ref());
                p.max_len(&format!("{at}.currency"), price.currency.as_deref(), 3);
            }
        }
    }

    /// A charge detail without a currency is in the order's currency, and says so (seed 003: an
    /// `otherChargeDetails` entry sent without one comes back with `orderCurrency`).
    fn default_currencies(&mut self) {
        let Some(currency) = &self.order_currency else {
            return;
        };
        for list in [
            &mut self.duty_details,
            &mut self.tax_details,
            &mut self.discount_details,
            &mut self.other_charge_details,
        ] {
            for price in list.iter_mut().flatten() {
                if price.currency.is_none() {
                    price.currency = Some(currency.clone());
                }
            }
        }
    }

    /// items + shipping + tax + duty − discount, when the item total is known.
    fn computed_order_total(&self) -> Option<Decimal> {
        let zero = Decimal::ZERO;
        let total = self.total_item_amount?
            + self.shipping_amount.unwrap_or(zero)
            + self.total_tax_amount.unwrap_or(zero)
            + self.total_duty_amount.unwrap_or(zero)
            - self.total_discount_amount.unwrap_or(zero);
        Some(total.max(zero))
    }
}

/// The sum of the lines' totals; `None` when a line has none.
pub fn sum_line_totals(lines: &[OrderLine]) -> Option<Decimal> {
    lines.iter().map(|l| l.line_total).sum()
}

/// Which of the amounts the server can derive an edit sent itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct SentAmounts {
    pub line_totals: bool,
    pub total_item_amount: bool,
    pub total_order_amount: bool,
}

/// The problem of an address without a line; a PATCH that leaves one answers it differently.
pub const NO_ADDRESS_LINE: &str = "at least one address line is required";

impl Address {
    /// Every address needs a street line. An empty line is the placeholder of a cleared
    /// SendPro360 `addressLine2` (see that adapter); a whitespace-only one is a mistake.
    fn validate(&self, at: &str, p: &mut Problems) {
        for (i, line) in self.address_lines.iter().enumerate() {
            if !line.is_empty() && is_blank(line) {
                p.add(format!("{at}.addressLines[{i}]"), "must not be blank");
            }
        }
        if self.address_lines.iter().all(|l| is_blank(l)) {
            p.add(format!("{at}.addressLines"), NO_ADDRESS_LINE);
        }
        if self.address_lines.len() > 3 {
            p.add(
                format!("{at}.addressLines"),
                "at most 3 address lines are allowed",
            );
        }
        for (i, line) in self.address_lines.iter().enumerate() {
            p.max_len(&format!("{at}.addressLines[{i}]"), Some(line), 100);
        }
        p.max_len(&format!("{at}.name"), self.name.as_deref(), 100);
        p.max_len(&format!("{at}.company"), self.company.as_deref(), 50);
        p.max_len(&format!("{at}.phone"), self.phone.as_deref(), 25);
        p.max_len(&format!("{at}.email"), self.email.as_deref(), 70);
        p.max_len(&format!("{at}.cityTown"), self.city_town.as_deref(), 50);
        p.max_len(
            &format!("{at}.stateProvince"),
            self.state_province.as_deref(),
            50,
        );
        p.max_len(&format!("{at}.postalCode"), self.postal_code.as_deref(), 20);
        p.exact_len_alpha(
            &format!("{at}.countryCode"),
            self.country_code.as_deref(),
            2,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_numeric_postal_code_is_a_whole_number_of_at_most_ten_digits() {
        #[derive(Deserialize)]
        struct P {
            #[serde(deserialize_with = "string_or_number")]
            code: Option<String>,
        }
        let code =
            |v: &str| serde_json::from_str::<P>(&format!("{{\"code\": {v}}}")).map(|p| p.code);
        assert_eq!(code("36830").unwrap().as_deref(), Some("36830"));
        assert_eq!(code("36830.0").unwrap().as_deref(), Some("36830"));
        assert_eq!(code("\"0123\"").unwrap().as_deref(), Some("0123"));
        assert!(code("-5").is_err());
        assert!(code("36830.5").is_err());
        assert!(code("10000000000").is_err());
    }

    fn minimal() -> OrderContent {
        OrderContent {
            client_order_id: "A-1".into(),
            order_lines: vec![OrderLine {
                sku: Some("SKU".into()),
                ordered_quantity: Some(2),
                unit_price: Some("2.5".parse().unwrap()),
                ..Default::default()
            }],
            to_address: Address {
                address_lines: vec!["1 Main St".into()],
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn a_minimal_order_is_valid() {
        assert_eq!(minimal().validate(), Ok(()));
    }

    #[test]
    fn is_gift_false_is_stored_as_absent() {
        let mut stored = serde_json::to_value(minimal()).unwrap();
        assert!(stored.get("isGift").is_none());
        // Documents written before the field became a plain bool may spell out `false`.
        stored["isGift"] = serde_json::json!(false);
        let read: OrderContent = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(read, minimal());
        stored["isGift"] = serde_json::json!(true);
        let gift: OrderContent = serde_json::from_value(stored).unwrap();
        assert!(gift.is_gift);
        assert_eq!(serde_json::to_value(&gift).unwrap()["isGift"], true);
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let mut o = minimal();
        o.client_order_id = "x".repeat(51);
        o.brand = Some("b".repeat(51));
        o.order_lines[0].ordered_quantity = Some(-1);
        o.to_address.country_code = Some("USA".into());
        let fields: Vec<String> = o
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "clientOrderId",
                "brand",
                "orderLines[0].orderedQuantity",
                "toAddress.countryCode"
            ]
        );
    }

    #[test]
    fn totals_are_derived_only_where_missing() {
        let mut o = minimal();
        o.order_charges = Some(OrderCharges {
            shipping_amount: Some("10".parse().unwrap()),
            ..Default::default()
        });
        o.fill_totals();
        assert_eq!(o.order_lines[0].line_total, Some("5.0".parse().unwrap()));
        let c = o.order_charges.unwrap();
        assert_eq!(c.total_item_amount, Some("5".parse().unwrap()));
        assert_eq!(c.total_order_amount, Some("15".parse().unwrap()));

        let mut kept = minimal();
        kept.order_lines[0].line_total = Some("50".parse().unwrap());
        kept.fill_totals();
        assert_eq!(kept.order_lines[0].line_total, Some("50".parse().unwrap()));
    }

    fn priced(price: &str, qty: i64) -> OrderContent {
        let mut o = minimal();
        o.order_lines[0].unit_price = Some(price.parse().unwrap());
        o.order_lines[0].ordered_quantity = Some(qty);
        o.order_charges = Some(OrderCharges {
            shipping_amount: Some("1".parse().unwrap()),
            ..Default::default()
        });
        o.fill_totals();
        o
    }

    fn totals(o: &OrderContent) -> (String, String) {
        let c = o.order_charges.as_ref().unwrap();
        (
            c.total_item_amount.unwrap().to_string(),
            c.total_order_amount.unwrap().to_string(),
        )
    }

    /// The order's one line repriced from 10 to 20, edited under `sent`: its totals after.
    fn repriced(before: &OrderContent, sent: SentAmounts) -> (String, String) {
        let mut next = before.clone();
        next.order_lines[0].unit_price = Some("20".parse().unwrap());
        next.order_lines[0].line_total = None;
        next.rederive(before, sent);
        next.fill_totals();
        totals(&next)
    }

    #[test]
    fn derived_totals_follow_edited_lines() {
        let sent = SentAmounts {
            line_totals: true,
            ..Default::default()
        };
        assert_eq!(repriced(&priced("10", 1), sent), ("20".into(), "21".into()));
    }

    #[test]
    fn totals_a_client_set_stay_as_set() {
        let mut before = priced("10", 1);
        before.order_charges.as_mut().unwrap().total_item_amount = Some("99".parse().unwrap());
        before.order_charges.as_mut().unwrap().total_order_amount = Some("7".parse().unwrap());
        let got = repriced(&before, SentAmounts::default());
        assert_eq!(got, ("99".into(), "7".into()));
    }

    #[test]
    fn sent_totals_are_not_rederived() {
        let sent = SentAmounts {
            line_totals: true,
            total_item_amount: true,
            total_order_amount: true,
        };
        assert_eq!(repriced(&priced("10", 1), sent), ("10".into(), "11".into()));
    }

    #[test]
    fn derived_amounts_past_the_cap_do_not_fail_an_edit() {
        let before = priced("999999999999999", 2);
        assert!(before.order_lines[0].line_total.unwrap() > money::MAX_AMOUNT);
        let mut next = before.clone();
        next.brand = Some("edited".into());
        assert!(
            next.validate().is_err(),
            "as stored, the derived total looks sent"
        );
        next.rederive(&before, SentAmounts::default());
        assert_eq!(next.validate(), Ok(()));
        next.fill_totals();
        assert_eq!(next.order_lines, before.order_lines);
        assert_eq!(next.order_charges, before.order_charges);
    }
}
