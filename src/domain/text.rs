//! Blank and trimmed as the published OpenAPI patterns mean them.
//!
//! JSON Schema patterns are ECMA-262 regular expressions, and ECMA's `\s` is narrower than
//! Rust's `char::is_whitespace`: it leaves out U+0085 (NEXT LINE) and U+001C..U+001F. Had the
//! server used Rust's notion, a tag of U+0085 alone would match the spec's `\S` (so a generated
//! client sends it) and still be refused as blank; schemathesis found exactly that.

/// ECMA-262 WhiteSpace and LineTerminator: what `\s` matches in a schema pattern.
pub fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

pub fn trim(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// True when `s` has no character that the pattern `\S` would match (the empty string too).
pub fn is_blank(s: &str) -> bool {
    s.chars().all(is_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_means_what_the_schema_pattern_means() {
        assert!(is_blank(""));
        assert!(is_blank(" \t\r\n\u{b}\u{c}\u{a0}\u{2003}\u{3000}\u{feff}"));
        // Whitespace to Rust, a character to `\S`.
        assert!(!is_blank("\u{85}"));
        assert!(!is_blank("\u{1c}"));
        assert_eq!(trim("\u{feff} vip\t"), "vip");
        assert_eq!(trim("\u{85}vip "), "\u{85}vip");
    }
}
