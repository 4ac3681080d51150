//! A dialect-neutral search: each surface parses its own request into this, the store runs it.

use chrono::{DateTime, Utc};

use super::status::Status;
use super::validate::Problems;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateField {
    CreateDate,
    UpdateDate,
    PbCreateDate,
    PbUpdateDate,
}

impl DateField {
    pub fn parse(name: &str) -> Option<DateField> {
        match name.to_ascii_lowercase().as_str() {
            "createdate" => Some(DateField::CreateDate),
            "updatedate" => Some(DateField::UpdateDate),
            "pbcreatedate" => Some(DateField::PbCreateDate),
            "pbupdatedate" => Some(DateField::PbUpdateDate),
            _ => None,
        }
    }

    pub fn column(self) -> &'static str {
        match self {
            DateField::CreateDate => "create_date",
            DateField::UpdateDate => "update_date",
            DateField::PbCreateDate => "pb_create_date",
            DateField::PbUpdateDate => "pb_update_date",
        }
    }

    /// createDate and updateDate come from the client and may be absent; the server's own
    /// dates (pbCreateDate, pbUpdateDate) never are.
    pub fn is_client_date(self) -> bool {
        matches!(self, DateField::CreateDate | DateField::UpdateDate)
    }

    pub fn name(self) -> &'static str {
        match self {
            DateField::CreateDate => "createDate",
            DateField::UpdateDate => "updateDate",
            DateField::PbCreateDate => "pbCreateDate",
            DateField::PbUpdateDate => "pbUpdateDate",
        }
    }
}

/// One criterion; values inside one are OR-ed, criteria are AND-ed. Text values are already
/// lower-cased where matching is case-insensitive.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// `orders`: the order id or the client order id is one of these.
    OrderIdOrClientOrderId(Vec<String>),
    OrderId(Vec<String>),
    ClientOrderId(Vec<String>),
    Brand(Vec<String>),
    OrderType(Vec<String>),
    Status(Vec<Status>),
    Tag(Vec<String>),
    Sku(Vec<String>),
    CustomerId(Vec<String>),
    Date {
        field: DateField,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SortKey {
    pub field: DateField,
    pub descending: bool,
}

impl SortKey {
    /// `<property>-asc|desc`, property case-insensitive.
    pub fn parse(text: &str) -> Option<SortKey> {
        let (prop, dir) = text.rsplit_once('-')?;
        let descending = match dir.to_ascii_lowercase().as_str() {
            "asc" => false,
            "desc" => true,
            _ => return None,
        };
        Some(SortKey {
            field: DateField::parse(prop)?,
            descending,
        })
    }

    pub fn render(self) -> String {
        format!(
            "{}-{}",
            self.field.name(),
            if self.descending { "desc" } else { "asc" }
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SearchQuery {
    pub filters: Vec<Filter>,
    pub sort: Vec<SortKey>,
    /// Zero-based page index.
    pub page: u32,
    pub size: u32,
}

pub const MAX_PAGE_SIZE: u32 = 500;
pub const DEFAULT_PAGE_SIZE: u32 = 20;

/// What one search may ask. Each criterion is a clause of its own (tags and SKUs a subquery),
/// so the planner's work and the statement's parameters grow with them: 150 tag criteria took
/// PostgreSQL seconds to plan, and past these sizes the engines refuse the statement outright
/// (SQLite's expression depth and variable count, PostgreSQL's argument count). The bounds
/// leave room for any real search and keep every one well inside the engines' limits.
pub const MAX_FILTERS: usize = 10;
pub const MAX_FILTER_VALUES: usize = 100;
pub const MAX_SEARCH_VALUES: usize = 200;
pub const MAX_SORT_KEYS: usize = 4;

/// Checks the size of a search before it is parsed: `criteria` names the list in the caller's
/// dialect, `values_key` the values inside one, `counts` how many values each criterion has.
pub fn check_shape(
    p: &mut Problems,
    criteria: &str,
    values_key: &str,
    counts: &[usize],
    sort: Option<(&str, usize)>,
) {
    if counts.len() > MAX_FILTERS {
        p.add(
            criteria,
            format!("at most {MAX_FILTERS} criteria per search"),
        );
    }
    for (i, n) in counts.iter().enumerate() {
        if *n > MAX_FILTER_VALUES {
            p.add(
                format!("{criteria}[{i}].{values_key}"),
                format!("at most {MAX_FILTER_VALUES} values per criterion"),
            );
        }
    }
    if counts.iter().sum::<usize>() > MAX_SEARCH_VALUES {
        p.add(
            criteria,
            format!("at most {MAX_SEARCH_VALUES} values over all criteria"),
        );
    }
    if let Some((at, n)) = sort
        && n > MAX_SORT_KEYS
    {
        p.add(at, format!("at most {MAX_SORT_KEYS} sort keys"));
    }
}

impl SearchQuery {
    pub fn has_date_filter(&self) -> bool {
        self.filters
            .iter()
            .any(|f| matches!(f, Filter::Date { .. }))
    }

    pub fn offset(&self) -> u64 {
        u64::from(self.page) * u64::from(self.size)
    }
}

#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    /// The share of the server's memory budget a large page holds until it is dropped: the
    /// handlers keep the page until its response body is built (`domain::size`).
    pub memory: crate::domain::size::PageMemory,
}

impl<T> Page<T> {
    pub fn total_pages(&self, size: u32) -> u64 {
        self.total.div_ceil(u64::from(size.max(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_parse_case_insensitively() {
        let k = SortKey::parse("CreateDate-DESC").unwrap();
        assert_eq!(k.field, DateField::CreateDate);
        assert!(k.descending);
        assert_eq!(k.render(), "createDate-desc");
        assert!(SortKey::parse("brand-asc").is_none());
        assert!(SortKey::parse("createDate").is_none());
        assert!(SortKey::parse("createDate-up").is_none());
    }
}
