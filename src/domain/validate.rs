//! Collecting every problem of a request at once, each tied to the field it concerns.

use rust_decimal::Decimal;

use super::money::amount_problem;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field in the canonical (Fulfillment) spelling, e.g. `orderLines[0].sku`.
    pub field: String,
    pub message: String,
}

/// "`field` `message`", the way every error body words a problem.
impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.field, self.message)
    }
}

/// Several problems in one line, where a body has room for one message only.
pub fn one_line(problems: &[FieldError]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn max_len(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(v) = value {
            let n = v.chars().count();
            if n > max {
                self.add(field, format!("must be at most {max} characters (got {n})"));
            }
        }
    }

    /// Required strings must be present and not blank.
    pub fn required_text(&mut self, field: &str, value: Option<&str>, max: usize) {
        match value {
            None => self.add(field, "is required"),
            Some(v) if super::text::is_blank(v) => self.add(field, "must not be blank"),
            Some(_) => self.max_len(field, value, max),
        }
    }

    pub fn amount(&mut self, field: &str, value: Option<&Decimal>) {
        if let Some(problem) = value.and_then(amount_problem) {
            self.add(field, problem);
        }
    }

    pub fn exact_len_alpha(&mut self, field: &str, value: Option<&str>, len: usize) {
        if let Some(v) = value {
            if v.len() != len || !v.chars().all(|c| c.is_ascii_alphabetic()) {
                self.add(field, format!("must be {len} letters (ISO code)"));
            }
        }
    }

    /// An ISO 3166 country code, alpha-2 (`IN`) or alpha-3 (`IND`): the documents' own samples
    /// send alpha-3 where their tables say alpha-2.
    pub fn iso_country(&mut self, field: &str, value: Option<&str>) {
        if let Some(v) = value {
            if !matches!(v.len(), 2 | 3) || !v.chars().all(|c| c.is_ascii_alphabetic()) {
                self.add(field, "must be an ISO 3166 code of 2 or 3 letters");
            }
        }
    }

    pub fn into_result(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }

    pub fn into_errors(self) -> Vec<FieldError> {
        self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Adds `more` to `first`, leaving out problems under a field `first` already reports (a
/// missing object need not also be reported as an empty one).
pub fn combine(mut first: Vec<FieldError>, more: Vec<FieldError>) -> Vec<FieldError> {
    let fresh: Vec<FieldError> = more
        .into_iter()
        .filter(|m| !first.iter().any(|f| m.field.starts_with(&f.field)))
        .collect();
    first.extend(fresh);
    first
}
