//! The fields of a text log line, written as tracing-subscriber's default writes them when colours
//! are off (`name=value`, strings quoted, the message first and bare), without its styling.
//!
//! With colours off, the default still painted every field name and `=` through an empty ANSI
//! style: two formatting calls per field, a tenth of the instructions of a get by id spent on a
//! request's one log line and its span (callgrind). Terminals keep the default, colours and all.

use std::fmt::{self, Write};

use tracing::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::Writer;

/// `FormatFields` for plain text lines; see the module docs.
#[derive(Debug, Default, Clone, Copy)]
pub struct PlainFields;

impl<'writer> FormatFields<'writer> for PlainFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = PlainVisitor {
            writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct PlainVisitor<'writer> {
    writer: Writer<'writer>,
    first: bool,
    result: fmt::Result,
}

impl PlainVisitor<'_> {
    /// Writes the separator and `name=` (nothing for the message), then the value.
    fn field(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        let name = field.name();
        // Metadata of `log` records, which the line's prefix already shows (as the default does).
        if self.result.is_err() || name.starts_with("log.") {
            return;
        }
        self.result = (|| {
            if !self.first {
                self.writer.write_char(' ')?;
            }
            self.first = false;
            if name != "message" {
                self.writer.write_str(shown_name(field))?;
                self.writer.write_char('=')?;
            }
            value(&mut self.writer)
        })();
    }
}

impl Visit for PlainVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            return self.field(field, |w| write!(Sanitized(w), "{value}"));
        }
        // `{:?}` of a string, without its per-character escaping when there is nothing to escape.
        let plain = value
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\');
        self.field(field, |w| {
            if plain {
                w.write_char('"')?;
                w.write_str(value)?;
                w.write_char('"')
            } else {
                write!(w, "{value:?}")
            }
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            // Messages may carry client input; as the default does, no terminal escapes pass.
            self.field(field, |w| write!(Sanitized(w), "{value:?}"));
        } else {
            self.field(field, |w| write!(w, "{value:?}"));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let name = shown_name(field);
        self.field(field, |w| {
            write!(Sanitized(w), "{value}")?;
            let Some(mut source) = value.source() else {
                return Ok(());
            };
            write!(w, " {name}.sources=[")?;
            loop {
                write!(Sanitized(w), "{source}")?;
                match source.source() {
                    Some(next) => {
                        w.write_str(", ")?;
                        source = next;
                    }
                    None => return w.write_char(']'),
                }
            }
        });
    }
}

/// A field's name as written: a raw identifier (`r#type`) without its `r#`.
fn shown_name(field: &Field) -> &'static str {
    let name = field.name();
    name.strip_prefix("r#").unwrap_or(name)
}

/// Writes through, spelling out the characters a terminal would act on (escape sequences, bell,
/// backspace, form feed, delete, C1 controls), the set tracing-subscriber escapes in messages.
struct Sanitized<'a, W: Write>(&'a mut W);

impl<W: Write> Write for Sanitized<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let c0 = |c: char| matches!(c, '\x1b' | '\x07' | '\x08' | '\x0c' | '\x7f');
        let c1 = |c: char| matches!(c, '\u{80}'..='\u{9f}');
        if !s.chars().any(|c| c0(c) || c1(c)) {
            return self.0.write_str(s);
        }
        for c in s.chars() {
            if c0(c) {
                write!(self.0, "\\x{:02x}", c as u32)?;
            } else if c1(c) {
                write!(self.0, "\\u{{{:x}}}", c as u32)?;
            } else {
                self.0.write_char(c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::CapturedLog;

    /// The fields part of one line (after the target), as a subscriber with `fields` writes it.
    fn line(plain: bool, emit: impl FnOnce()) -> String {
        let out = CapturedLog::default();
        let writer = out.clone();
        let builder = tracing_subscriber::fmt()
            .with_ansi(false)
            .without_time()
            .with_writer(move || writer.clone());
        if plain {
            tracing::subscriber::with_default(builder.fmt_fields(PlainFields).finish(), emit);
        } else {
            tracing::subscriber::with_default(builder.finish(), emit);
        }
        out.text().split_once(": ").unwrap().1.to_string()
    }

    fn both(emit: impl Fn()) -> (String, String) {
        (line(true, &emit), line(false, &emit))
    }

    #[test]
    fn lines_read_exactly_as_the_default_writes_them_without_colours() {
        let path = "/orders/ORA1?clientId=1000";
        let (plain, default) = both(|| {
            tracing::info!(
                method = %"GET",
                path = %path,
                status = 200u16,
                latency_ms = 0.25f64,
                client_id = "1000",
                quoted = "say \"hi\"\n",
                flag = true,
                r#type = "x",
                "request"
            )
        });
        assert_eq!(plain, default);
        assert_eq!(
            plain,
            "request method=GET path=/orders/ORA1?clientId=1000 status=200 latency_ms=0.25 \
             client_id=\"1000\" quoted=\"say \\\"hi\\\"\\n\" flag=true type=\"x\"\n"
        );
    }

    #[test]
    fn span_fields_and_formatted_messages_match_too() {
        let (plain, default) = both(|| {
            let span = tracing::info_span!("request", transaction_id = %"tx-1", n = 3);
            let _entered = span.enter();
            tracing::warn!(error = %"boom", "store failed after {} tries", 2);
        });
        assert_eq!(plain, default);
        assert!(
            plain.contains("store failed after 2 tries error=boom"),
            "{plain}"
        );
    }

    #[test]
    fn terminal_escapes_in_messages_are_spelled_out() {
        let (plain, default) = both(|| tracing::error!("bad \x1b[31mred\x07 {}", "\u{9b}"));
        assert!(
            !plain.contains('\x1b') && !plain.contains('\x07'),
            "{plain:?}"
        );
        assert!(!plain.contains('\u{9b}'), "{plain:?}");
        assert!(plain.contains("\\x1b[31mred\\x07 \\u{9b}"), "{plain:?}");
        assert_eq!(plain, default);
    }

    #[derive(Debug)]
    struct Failed(&'static str, Option<Box<Failed>>);

    impl fmt::Display for Failed {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Failed {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn errors_list_their_sources_as_the_default_does() {
        let error = Failed(
            "outer",
            Some(Box::new(Failed(
                "middle",
                Some(Box::new(Failed("inner", None))),
            ))),
        );
        let (plain, default) = both(|| {
            tracing::error!(
                error = &error as &(dyn std::error::Error + 'static),
                "failed"
            )
        });
        assert_eq!(plain, default);
        assert!(
            plain.contains("error=outer error.sources=[middle, inner]"),
            "{plain}"
        );
    }
}
