//! How large an order may be. Free-form fields (`salesChannel`, `paymentDetails`, a line's
//! `additionalDetails`, SendPro360's `customerInfo`, `metadata`, ...) take any JSON, and without
//! a bound one client stored 8 MiB orders whose search pages then took hundreds of megabytes of
//! the server's memory. Sizes are of the JSON as stored.

use std::sync::{Arc, LazyLock};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::validate::Problems;

/// One free-form value.
pub const MAX_FREE_FORM_BYTES: usize = 4 * 1024;
/// A whole order: room for 1,000 lines with every documented line field filled in, so the line
/// limit stays the one that bites.
pub const MAX_ORDER_BYTES: usize = 512 * 1024;

/// The orders of one search page, as JSON. A default page (20) of the largest orders is 10 MiB,
/// so default pages always fit; a larger `size` over large orders is refused instead of held in
/// memory (500 orders of 512 KiB would be 250 MiB). Held in memory, a page costs about five
/// times its JSON, which the 200 MB target for sixteen such searches at once has to allow for.
pub const MAX_SEARCH_PAGE_BYTES: usize = 12 * 1024 * 1024;

const _: () = assert!(
    crate::domain::search::DEFAULT_PAGE_SIZE as usize * MAX_ORDER_BYTES <= MAX_SEARCH_PAGE_BYTES
);

/// A search page whose orders came to more than [`MAX_SEARCH_PAGE_BYTES`]; the store stops
/// reading at the order that passes it.
#[derive(Debug, thiserror::Error)]
#[error("is too large for these orders: the page would be more than {} MiB of JSON; ask for a smaller size", MAX_SEARCH_PAGE_BYTES >> 20)]
pub struct PageTooLarge;

/// A search page whose orders pass this many bytes takes room from the server-wide budget
/// below before it reads on; smaller pages (the everyday ones) never wait for it.
pub const LARGE_PAGE_BYTES: usize = 1024 * 1024;

/// MiB of large search pages (their orders as JSON) in memory at once, server-wide. A page in
/// memory costs several times its JSON (the rows, the decoded orders, the response's view of
/// them, the response body), so this keeps the server under 200 MB with 16 of the largest
/// pages asked for at once (`bench/results/peak-rss.md`); beyond it, large pages wait.
pub const LARGE_PAGES_BUDGET_MIB: u32 = 13;

static LARGE_PAGES: LazyLock<Arc<Semaphore>> =
    LazyLock::new(|| Arc::new(Semaphore::new(LARGE_PAGES_BUDGET_MIB as usize)));

/// The budget a search page holds while it is read and answered; given back when dropped.
#[derive(Debug, Default)]
pub struct PageMemory(Option<OwnedSemaphorePermit>);

impl PageMemory {
    /// Waits for room for a page that has read `read` bytes of orders and may read `more` rows,
    /// each at most [`MAX_ORDER_BYTES`]: the most the page can still come to, at most
    /// [`MAX_SEARCH_PAGE_BYTES`], taken at once. A page takes room once and never waits while
    /// holding some, so waiting pages cannot hold each other up.
    pub async fn reserve(read: usize, more: usize) -> PageMemory {
        let permit = LARGE_PAGES
            .clone()
            .acquire_many_owned(room_mib(read, more))
            .await
            .expect("the budget is never closed");
        PageMemory(Some(permit))
    }

    pub fn is_reserved(&self) -> bool {
        self.0.is_some()
    }
}

/// The MiB [`PageMemory::reserve`] takes: the page's bytes so far and `more` orders of the
/// largest size, up to where the page would be refused (the order that passes the bound is
/// read before the page is given up), and never more than the whole budget.
fn room_mib(read: usize, more: usize) -> u32 {
    let most = read
        .saturating_add(more.saturating_mul(MAX_ORDER_BYTES))
        .min(MAX_SEARCH_PAGE_BYTES + MAX_ORDER_BYTES);
    (most.div_ceil(1024 * 1024) as u32).min(LARGE_PAGES_BUDGET_MIB)
}

/// The length of `value` as JSON, without building the text.
pub fn json_len<T: Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter cannot fail, and our types always serialize.
    serde_json::to_writer(&mut count, value).map_or(usize::MAX, |()| count.0)
}

impl Problems {
    /// A free-form value of at most `MAX_FREE_FORM_BYTES`.
    pub fn free_form(&mut self, field: &str, value: Option<&Value>) {
        if let Some(v) = value {
            let len = json_len(v);
            if len > MAX_FREE_FORM_BYTES {
                self.add(
                    field,
                    format!("is {len} bytes as JSON; at most {MAX_FREE_FORM_BYTES} are allowed"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lengths_are_those_of_the_json_text() {
        let v = json!({"a": [1, "two", null], "b": {"c": true}});
        assert_eq!(json_len(&v), serde_json::to_string(&v).unwrap().len());
    }

    #[test]
    fn a_large_page_takes_room_for_what_it_can_still_come_to() {
        const MIB: usize = 1024 * 1024;
        // The last row of the page: only what it read.
        assert_eq!(room_mib(MIB + 1, 0), 2);
        // Two more rows of at most 512 KiB each.
        assert_eq!(room_mib(MIB + 1, 2), 3);
        // Many more rows: up to the bound and the order that would pass it, which one budget
        // holds, so a page can always get its room once the others have given theirs back.
        assert_eq!(
            room_mib(MIB + 1, 400),
            (MAX_SEARCH_PAGE_BYTES + MAX_ORDER_BYTES).div_ceil(MIB) as u32
        );
        assert!(room_mib(usize::MAX, usize::MAX) <= LARGE_PAGES_BUDGET_MIB);
    }

    #[test]
    fn free_form_values_are_bounded() {
        let mut p = Problems::default();
        p.free_form("ok", Some(&json!("x".repeat(MAX_FREE_FORM_BYTES - 2))));
        p.free_form("big", Some(&json!("x".repeat(MAX_FREE_FORM_BYTES - 1))));
        let fields: Vec<String> = p.into_errors().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["big"]);
    }
}
