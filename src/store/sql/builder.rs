//! A statement assembled at run time: its text with `$N` placeholders, and the values they stand
//! for. Unlike sqlx's `QueryBuilder`, it can be built and run in code generic over the database.

use chrono::{DateTime, Utc};

use crate::domain::Order;

#[derive(Default)]
pub(in crate::store) struct Sql<'a> {
    pub(super) text: String,
    pub(super) params: Vec<Param<'a>>,
}

/// A value bound to a placeholder.
#[derive(Clone)]
pub(in crate::store) enum Param<'a> {
    Str(Option<&'a str>),
    Text(String),
    Int(i64),
    Time(Option<DateTime<Utc>>),
    /// The order document, as JSON.
    Doc(&'a Order),
    /// Field names, as a JSON array.
    Names(&'a [String]),
}

impl<'a> Sql<'a> {
    pub(super) fn new(text: &str) -> Sql<'a> {
        Sql {
            text: text.to_string(),
            params: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, text: impl AsRef<str>) -> &mut Self {
        self.text.push_str(text.as_ref());
        self
    }

    /// Appends the next placeholder and binds `value` to it.
    pub(super) fn push_bind(&mut self, value: impl Into<Param<'a>>) -> &mut Self {
        self.params.push(value.into());
        self.text.push('$');
        self.text.push_str(&self.params.len().to_string());
        self
    }

    /// `(…), (…)`: one parenthesised group of placeholders per row.
    pub(super) fn push_rows<T, const N: usize>(
        &mut self,
        rows: impl IntoIterator<Item = T>,
        row: impl Fn(T) -> [Param<'a>; N],
    ) -> &mut Self {
        for (i, values) in rows.into_iter().map(row).enumerate() {
            self.push(if i == 0 { "(" } else { ", (" });
            for (j, value) in values.into_iter().enumerate() {
                if j > 0 {
                    self.push(", ");
                }
                self.push_bind(value);
            }
            self.push(")");
        }
        self
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(value: &'a str) -> Self {
        Param::Str(Some(value))
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(value: Option<&'a str>) -> Self {
        Param::Str(value)
    }
}

impl From<String> for Param<'_> {
    fn from(value: String) -> Self {
        Param::Text(value)
    }
}

impl From<i64> for Param<'_> {
    fn from(value: i64) -> Self {
        Param::Int(value)
    }
}

impl From<DateTime<Utc>> for Param<'_> {
    fn from(value: DateTime<Utc>) -> Self {
        Param::Time(Some(value))
    }
}

impl From<Option<DateTime<Utc>>> for Param<'_> {
    fn from(value: Option<DateTime<Utc>>) -> Self {
        Param::Time(value)
    }
}

impl<'a> From<&'a Order> for Param<'a> {
    fn from(value: &'a Order) -> Self {
        Param::Doc(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_the_values_in_order() {
        let mut sql = Sql::new("SELECT 1 WHERE a = ");
        sql.push_bind("x").push(" AND b IN ");
        sql.push_rows([1i64, 2], |n| [Param::Int(n), Param::Str(None)]);
        assert_eq!(
            sql.text,
            "SELECT 1 WHERE a = $1 AND b IN ($2, $3), ($4, $5)"
        );
        assert_eq!(sql.params.len(), 5);
        assert!(matches!(sql.params[3], Param::Int(2)));
    }
}
