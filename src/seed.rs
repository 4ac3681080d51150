//! `oms seed`: realistic orders in bulk, written straight through the store in batches.
//!
//! Every order is a function of `(seed, index, total, anchor)`: the same seed and count on the
//! same day give the same orders, whatever the batch size. Dates spread evenly over the two years
//! before the anchor (the start of the current UTC day) and grow with the index, so rows land in
//! the tables in the order a real shop would have created them; the status follows the age of the
//! order: recent orders are mostly open, old ones mostly shipped. Orders are spread evenly over
//! `clients` tenants whose ids are [`client_id`]`(0..clients)`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::json;
use tokio::task::JoinSet;

use crate::domain::date::IsoDate;
use crate::domain::history::{EventKind, HistoryEvent};
use crate::domain::order::{
    Address, OrderCharges, OrderContent, OrderHandling, OrderLine, OrderType, Price,
    ShippingDetails, Surface,
};
use crate::domain::{Order, Status, money};
use crate::store::OrderStore;

/// How far back the generated orders reach by default.
pub const SPAN_DAYS: i64 = 730;

#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub orders: u64,
    pub clients: u32,
    /// Every order for this tenant instead of `clients` numbered ones.
    pub client_id: Option<String>,
    /// The orders are dated over this many days before today.
    pub days: i64,
    pub batch: usize,
    pub seed: u64,
    /// Batches written at once (PostgreSQL uses them in parallel; SQLite queues them).
    pub writers: usize,
}

#[derive(Debug, Clone)]
pub struct SeedReport {
    pub orders: u64,
    pub elapsed: Duration,
}

/// The id of the `k`-th seeded tenant: `1000`, `1001`, …
pub fn client_id(k: u32) -> String {
    (1000 + u64::from(k)).to_string()
}

/// Generates the orders of one seeding run.
#[derive(Debug, Clone)]
pub struct Generator {
    seed: u64,
    clients: u32,
    tenant: Option<String>,
    span_days: i64,
    total: u64,
    anchor: DateTime<Utc>,
}

impl Generator {
    /// `total` orders dated in the two years before `anchor`, oldest first.
    pub fn new(seed: u64, clients: u32, total: u64, anchor: DateTime<Utc>) -> Generator {
        Generator {
            seed,
            clients: clients.max(1),
            tenant: None,
            span_days: SPAN_DAYS,
            total: total.max(1),
            anchor,
        }
    }

    /// Every order for `client_id` instead of the numbered tenants.
    pub fn for_client(mut self, client_id: Option<String>) -> Generator {
        self.tenant = client_id;
        self
    }

    /// Dated over `days` before the anchor instead of [`SPAN_DAYS`].
    pub fn over_days(mut self, days: i64) -> Generator {
        self.span_days = days.max(1);
        self
    }

    /// Anchored at the start of today (UTC), so that a seed reproduces the same orders all day.
    pub fn today(seed: u64, clients: u32, total: u64) -> Generator {
        let today = Utc::now()
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc();
        Generator::new(seed, clients, total, today)
    }

    pub fn batch(&self, start: u64, len: usize) -> Vec<(Order, HistoryEvent)> {
        (start..start + len as u64).map(|i| self.order(i)).collect()
    }

    /// The `index`-th order and its creation event.
    pub fn order(&self, index: u64) -> (Order, HistoryEvent) {
        let mut rng = StdRng::seed_from_u64(mix(self.seed, index));
        let client_id = match &self.tenant {
            Some(tenant) => tenant.clone(),
            None => client_id((index % u64::from(self.clients)) as u32),
        };
        let span_ms = self.span_days * 86_400_000;
        let slot = (index.min(self.total - 1) as f64 + rng.r#gen::<f64>()) / self.total as f64;
        let age_ms = (span_ms as f64 * (1.0 - slot)) as i64;
        let pb_create_date = self.anchor - chrono::Duration::milliseconds(age_ms);
        let age_days = age_ms / 86_400_000;
        let source = if rng.gen_bool(0.7) {
            Surface::Fulfillment
        } else {
            Surface::Sendpro
        };
        let status = pick_status(&mut rng, age_days);
        let content = self.content(&mut rng, index, pb_create_date, source, status);
        let order_id = match source {
            Surface::Fulfillment => fulfillment_id(
                pb_create_date,
                mix(self.seed, index),
                content.country_code(),
            ),
            Surface::Sendpro => sendpro_id(&mut rng),
        };
        let order = Order {
            order_id,
            client_id: client_id.clone(),
            status,
            status_before_hold: (status == Status::OnHold).then_some(Status::Received),
            hold_reason: if status == Status::OnHold {
                vec![pick(&mut rng, HOLD_REASONS).to_string()]
            } else {
                Vec::new()
            },
            pb_create_date,
            pb_update_date: pb_create_date,
            version: 1,
            tags: pick_tags(&mut rng),
            created_by: client_id.clone(),
            source,
            deleted_at: None,
            content,
            fulfilment: Default::default(),
        };
        let event = HistoryEvent::new(
            EventKind::Created,
            &order,
            &client_id,
            Some(&format!("seed-{:x}-{index}", self.seed)),
            Vec::new(),
        );
        (order, event)
    }

    fn content(
        &self,
        rng: &mut StdRng,
        index: u64,
        created: DateTime<Utc>,
        source: Surface,
        status: Status,
    ) -> OrderContent {
        let to_address = address(rng);
        let canada = to_address.country_code.as_deref() == Some("CA");
        let currency = if canada { "CAD" } else { "USD" };
        let lines: Vec<OrderLine> = (1..=rng.gen_range(1..=5))
            .map(|n| line(rng, n, canada))
            .collect();
        let items: Decimal = lines.iter().filter_map(|l| l.line_total).sum();
        let shipping = *pick(
            rng,
            &[Decimal::ZERO, dec(599, 2), dec(999, 2), dec(1499, 2)],
        );
        let tax = (items * dec(7, 2)).round_dp(2);
        let discount = if rng.gen_bool(0.2) {
            (items * dec(10, 2)).round_dp(2)
        } else {
            Decimal::ZERO
        };
        let client_date = created - chrono::Duration::seconds(rng.gen_range(5..3600));
        let carrier = *pick(rng, CARRIERS);
        let shipped = matches!(status, Status::Shipped | Status::Returned);
        let mut content = OrderContent {
            client_order_id: format!("{}-{:x}-{index:08}", pick(rng, PREFIXES), self.seed),
            customer_order_id: Some(format!(
                "{:03}-{:03}-{:07}",
                rng.gen_range(0..1000),
                rng.gen_range(0..1000),
                rng.gen_range(0..10_000_000)
            )),
            brand: rng.gen_bool(0.85).then(|| pick(rng, BRANDS).to_string()),
            order_type: Some(if rng.gen_bool(0.85) {
                OrderType::ECom
            } else {
                OrderType::Retail
            }),
            create_date: Some(iso(client_date)),
            from_node: Some(rng.gen_range(100..200).to_string()),
            ship_on_date: Some(iso(created + chrono::Duration::days(1))),
            promised_delivery_date: Some(
                iso(created + chrono::Duration::days(rng.gen_range(2..8))),
            ),
            order_handling: Some(*pick(
                rng,
                &[
                    OrderHandling::X,
                    OrderHandling::X,
                    OrderHandling::X,
                    OrderHandling::R,
                    OrderHandling::E,
                ],
            )),
            input_shipping_details: Some(ShippingDetails {
                carrier: Some(carrier.0.to_string()),
                service_id: Some(carrier.1.to_string()),
                service_name: Some(carrier.2.to_string()),
                tracking_number: None,
            }),
            actual_shipping_details: shipped.then(|| ShippingDetails {
                carrier: Some(carrier.0.to_string()),
                service_id: Some(carrier.1.to_string()),
                service_name: Some(carrier.2.to_string()),
                tracking_number: Some(format!("9{:021}", rng.gen_range(0..u64::MAX / 10))),
            }),
            order_lines: lines,
            order_charges: Some(OrderCharges {
                order_currency: Some(currency.to_string()),
                shipping_amount: Some(shipping),
                total_item_amount: Some(items),
                total_tax_amount: Some(tax),
                tax_details: Some(vec![Price {
                    name: Some("SALES TAX".into()),
                    fee: Some(tax),
                    currency: Some(currency.to_string()),
                    percentage: Some(dec(7, 0)),
                }]),
                total_discount_amount: Some(discount),
                discount_details: (!discount.is_zero()).then(|| {
                    vec![Price {
                        name: Some("COUPON".into()),
                        fee: Some(discount),
                        currency: Some(currency.to_string()),
                        percentage: Some(dec(10, 0)),
                    }]
                }),
                total_order_amount: Some((items + shipping + tax - discount).max(Decimal::ZERO)),
                ..Default::default()
            }),
            billing_address: Some(to_address.clone()),
            to_address,
            is_gift: rng.gen_bool(0.05),
            ..Default::default()
        };
        if content.is_gift {
            content.gift_message_text = Some("Happy birthday! Enjoy.".into());
        }
        if source == Surface::Sendpro {
            let sp = &mut content.sendpro;
            sp.from_address = Some(warehouse(rng));
            sp.customer_info = Some(json!({
                "customerId": format!("CUST-{:06}", rng.gen_range(0..200_000)),
                "email": content.to_address.email,
            }));
            sp.order_create_date = content.create_date.clone();
        }
        content
    }
}

/// Inserts `options.orders` generated orders through `store`, with a progress bar on a terminal.
pub async fn run(store: Arc<dyn OrderStore>, options: &SeedOptions) -> anyhow::Result<SeedReport> {
    anyhow::ensure!(options.batch > 0, "--batch must be at least 1");
    let generator = Generator::today(options.seed, options.clients, options.orders)
        .for_client(options.client_id.clone())
        .over_days(options.days);
    let bar = ProgressBar::new(options.orders);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{wide_bar}] {human_pos}/{human_len} orders, {per_sec}, eta {eta}",
        )
        .expect("valid progress template"),
    );
    let started = Instant::now();
    let mut writing: JoinSet<anyhow::Result<u64>> = JoinSet::new();
    let mut next = 0u64;
    while next < options.orders {
        let len = (options.orders - next).min(options.batch as u64) as usize;
        let g = generator.clone();
        let start = next;
        let batch = tokio::task::spawn_blocking(move || g.batch(start, len)).await?;
        while writing.len() >= options.writers.max(1) {
            bar.inc(writing.join_next().await.expect("a batch in flight")??);
        }
        let store = store.clone();
        writing.spawn(async move {
            store
                .insert_batch(&batch)
                .await
                .with_context(|| format!("inserting orders {start}..{}", start + len as u64))?;
            Ok(len as u64)
        });
        next += len as u64;
    }
    while let Some(done) = writing.join_next().await {
        bar.inc(done??);
    }
    bar.finish();
    Ok(SeedReport {
        orders: options.orders,
        elapsed: started.elapsed(),
    })
}

/// SplitMix64 of the seed and the index: independent streams per order.
fn mix(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The documented Fulfillment shape (see `domain::ids`), with the creation time in the high bits
/// and 22 bits of the order's own hash below.
fn fulfillment_id(created: DateTime<Utc>, hash: u64, country: Option<&str>) -> String {
    const EPOCH_2020_MS: i64 = 1_577_836_800_000;
    let ms = (created.timestamp_millis() - EPOCH_2020_MS).max(0) as u64;
    let number = ((ms << 22) | (hash & 0x3F_FFFF)) & (u64::MAX >> 1);
    format!("ORA{number:019}{}", country.unwrap_or("US"))
}

fn sendpro_id(rng: &mut StdRng) -> String {
    let tail: String = rng
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(10)
        .map(char::from)
        .collect();
    format!("PB{tail}")
}

fn pick_status(rng: &mut StdRng, age_days: i64) -> Status {
    use Status::*;
    let table: &[(Status, u32)] = match age_days {
        0..=2 => &[
            (Received, 50),
            (InProgress, 30),
            (OnHold, 8),
            (Backorder, 7),
            (Canceled, 5),
        ],
        3..=13 => &[
            (Received, 10),
            (InProgress, 20),
            (Backorder, 8),
            (OnHold, 5),
            (Shipped, 50),
            (Canceled, 7),
        ],
        _ => &[
            (Received, 2),
            (InProgress, 2),
            (Backorder, 1),
            (OnHold, 1),
            (Shipped, 80),
            (Returned, 6),
            (Canceled, 8),
        ],
    };
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total);
    for (status, weight) in table {
        if roll < *weight {
            return *status;
        }
        roll -= weight;
    }
    unreachable!("the roll is below the total weight")
}

fn pick_tags(rng: &mut StdRng) -> Vec<String> {
    let n = *pick(rng, &[0, 0, 0, 1, 1, 2, 3]);
    TAGS.choose_multiple(rng, n)
        .map(|t| t.to_string())
        .collect()
}

fn line(rng: &mut StdRng, n: i64, canada: bool) -> OrderLine {
    let product = rng.gen_range(0..PRODUCTS.len());
    let variant = rng.gen_range(1..=40);
    let price = dec(rng.gen_range(199..25_000), 2);
    let quantity = *pick(rng, &[1, 1, 1, 1, 2, 2, 3, 5]);
    OrderLine {
        line_id: Some(n),
        sku: Some(format!("{:04}-{variant:04}", product + 1)),
        description: Some(PRODUCTS[product].to_string()),
        origin_country_code: Some(if canada { "CA" } else { "US" }.to_string()),
        origin_state_province: Some(pick(rng, CITIES).1.to_string()),
        unit_price: Some(price),
        ordered_quantity: Some(quantity),
        line_total: Some(money::line_total(price, quantity)),
        inventory_type: Some("NEW".into()),
        hs_tariff_code: rng.gen_bool(0.3).then(|| "8471.30.0100".to_string()),
        ..Default::default()
    }
}

fn address(rng: &mut StdRng) -> Address {
    let first = *pick(rng, FIRST_NAMES);
    let last = *pick(rng, LAST_NAMES);
    let (city, state, zip, country) = *pick(rng, CITIES);
    Address {
        name: Some(format!("{first} {last}")),
        company: rng.gen_bool(0.2).then(|| pick(rng, COMPANIES).to_string()),
        phone: Some(format!(
            "{:03}-{:03}-{:04}",
            rng.gen_range(201..990),
            rng.gen_range(200..999),
            rng.gen_range(0..10_000)
        )),
        email: Some(format!(
            "{}.{}{}@example.com",
            first.to_lowercase(),
            last.to_lowercase(),
            rng.gen_range(1..100)
        )),
        address_lines: vec![format!("{} {}", rng.gen_range(1..9999), pick(rng, STREETS))],
        city_town: Some(city.to_string()),
        state_province: Some(state.to_string()),
        postal_code: Some(zip.to_string()),
        country_code: Some(country.to_string()),
        residential: None,
    }
}

fn warehouse(rng: &mut StdRng) -> Address {
    let (city, state, zip, country) = *pick(rng, CITIES);
    Address {
        name: Some(format!("Warehouse {}", city)),
        company: Some("Acme Fulfillment".into()),
        address_lines: vec![format!("{} Industrial Pkwy", rng.gen_range(100..999))],
        city_town: Some(city.to_string()),
        state_province: Some(state.to_string()),
        postal_code: Some(zip.to_string()),
        country_code: Some(country.to_string()),
        ..Default::default()
    }
}

/// A client-supplied date, spelled as clients usually do: whole seconds, `Z`.
fn iso(t: DateTime<Utc>) -> IsoDate {
    IsoDate::parse(&t.format("%Y-%m-%dT%H:%M:%SZ").to_string()).expect("RFC 3339")
}

fn dec(mantissa: i64, scale: u32) -> Decimal {
    Decimal::new(mantissa, scale)
}

fn pick<'a, T>(rng: &mut StdRng, from: &'a [T]) -> &'a T {
    from.choose(rng).expect("non-empty table")
}

const PREFIXES: &[&str] = &["WEB", "APP", "POS", "MKT"];
const BRANDS: &[&str] = &[
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Wingtip",
    "Adventure Works",
];
const TAGS: &[&str] = &[
    "priority",
    "gift",
    "wholesale",
    "vip",
    "fragile",
    "b2b",
    "marketplace",
    "international",
    "fraud-review",
    "subscription",
];
const HOLD_REASONS: &[&str] = &["Address verification", "Payment review", "Customer request"];
const CARRIERS: &[(&str, &str, &str)] = &[
    ("PITNEY BOWES", "PARCEL", "PARCEL SELECT"),
    ("USPS", "PM", "PRIORITY MAIL"),
    ("USPS", "FCM", "FIRST-CLASS MAIL"),
    ("UPS", "GND", "UPS GROUND"),
    ("FEDEX", "FEDEX_2_DAY", "FEDEX 2DAY"),
];
const PRODUCTS: &[&str] = &[
    "Wireless mouse",
    "Mechanical keyboard",
    "USB-C charger 65W",
    "Noise cancelling headphones",
    "27-inch monitor",
    "Laptop stand, aluminium",
    "Webcam 1080p",
    "Desk lamp with wireless charger",
    "Ergonomic office chair",
    "Standing desk converter",
    "HDMI cable 2m",
    "Portable SSD 1TB",
    "Bluetooth speaker",
    "Smart watch band",
    "Phone case, clear",
    "Coffee grinder",
    "Stainless water bottle",
    "Running shoes",
    "Yoga mat",
    "Backpack 25L",
];
const FIRST_NAMES: &[&str] = &[
    "John", "Jane", "Maria", "Wei", "Aisha", "Carlos", "Olivia", "Liam", "Noah", "Emma", "Sofia",
    "Lucas", "Mia", "Arjun", "Chloe", "Mateo",
];
const LAST_NAMES: &[&str] = &[
    "Smith", "Johnson", "Garcia", "Chen", "Khan", "Martinez", "Brown", "Nguyen", "Patel", "Lopez",
    "Wilson", "Anderson", "Thomas", "Moore", "Martin", "Lee",
];
const COMPANIES: &[&str] = &["ABC", "Initech", "Globex", "Umbrella Corp", "Hooli"];
const STREETS: &[&str] = &[
    "Bent Creek Rd",
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Franklin Street",
    "Greenway Rd",
    "Sunset Blvd",
    "Lakeview Ter",
];
const CITIES: &[(&str, &str, &str, &str)] = &[
    ("Auburn", "AL", "36830", "US"),
    ("Boone", "NC", "28607", "US"),
    ("Stamford", "CT", "06901", "US"),
    ("Austin", "TX", "73301", "US"),
    ("Seattle", "WA", "98101", "US"),
    ("Denver", "CO", "80202", "US"),
    ("Chicago", "IL", "60601", "US"),
    ("Miami", "FL", "33101", "US"),
    ("Portland", "OR", "97201", "US"),
    ("Boston", "MA", "02108", "US"),
    ("Vancouver", "BC", "V5L 1P8", "CA"),
    ("Winnipeg", "MB", "R2W 2H2", "CA"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn generator() -> Generator {
        let anchor = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        Generator::new(42, 3, 2000, anchor)
    }

    #[test]
    fn orders_are_a_function_of_seed_and_index() {
        let g = generator();
        assert_eq!(g.order(7), g.order(7));
        assert_eq!(g.batch(5, 3)[2], g.order(7));
        assert_ne!(g.order(7).0, g.order(8).0);
        assert_ne!(
            Generator::new(43, 3, 2000, g.anchor).order(7).0.order_id,
            g.order(7).0.order_id
        );
    }

    #[test]
    fn generated_orders_are_valid_and_varied() {
        let g = generator();
        let batch = g.batch(0, 2000);
        let mut statuses = std::collections::HashSet::new();
        let mut ids = std::collections::HashSet::new();
        let oldest = g.anchor - chrono::Duration::days(SPAN_DAYS);
        for (order, event) in &batch {
            assert_eq!(order.content.validate(), Ok(()), "{order:?}");
            assert!(crate::domain::ids::looks_like_order_id(&order.order_id));
            assert!(order.pb_create_date <= g.anchor && order.pb_create_date >= oldest);
            assert!((1..=5).contains(&order.content.order_lines.len()));
            assert_eq!(event.version, order.version);
            statuses.insert(order.status);
            ids.insert(order.order_id.clone());
        }
        assert_eq!(ids.len(), batch.len());
        assert_eq!(statuses.len(), crate::domain::status::ALL.len());
        let clients: std::collections::HashSet<_> =
            batch.iter().map(|(o, _)| o.client_id.clone()).collect();
        assert_eq!(clients.len(), 3);
    }

    #[test]
    fn one_named_client_gets_every_order_within_the_days_asked_for() {
        let g = generator().for_client(Some("1234".into())).over_days(90);
        let oldest = g.anchor - chrono::Duration::days(90);
        for (order, event) in g.batch(0, 500) {
            assert_eq!(order.client_id, "1234");
            assert_eq!(event.actor, "1234");
            assert!(order.pb_create_date <= g.anchor && order.pb_create_date >= oldest);
        }
    }
}
