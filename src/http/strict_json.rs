//! Request bodies are read strictly: a key given twice in one object is refused (serde_json's
//! `Value` keeps the last, so `{"clientId": "A", ..., "clientId": "B"}` acted for B), an array
//! is never read as an object, and error messages speak JSON, never Rust, and quote a rejected
//! value only in part.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// serde_json (with `arbitrary_precision`) hands numbers to a visitor as a one-entry map under
/// this key, holding the number's text; `Value` reads them the same way.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Longest part of a rejected value a message quotes.
const QUOTE_CHARS: usize = 40;

/// A JSON document in which no object names a key twice.
pub struct StrictValue(pub Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("numbers must be finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.is_empty() && key == NUMBER_TOKEN {
                let text: String = map.next_value()?;
                return text
                    .parse::<Number>()
                    .map(Value::Number)
                    .map_err(|_| de::Error::custom("not a number"));
            }
            let StrictValue(value) = map.next_value()?;
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "duplicate key '{}' in one object",
                    shorten(&key)
                )));
            }
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// A parsed body read into typed requests. It reads as serde_json's `&Value` does, with one
/// difference: an array is never read as an object. serde's derived structs also accept their
/// fields as a positional array, so `"toAddress": ["John", null]` was an address named John.
pub struct Strict<'de>(pub &'de Value);

/// Values that hold no others read exactly as serde_json reads them.
macro_rules! delegate {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                self.0.$method(visitor)
            }
        )*
    };
}

impl<'de> Deserializer<'de> for Strict<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Items(items.iter())),
            Value::Object(map) => visitor.visit_map(Entries(map.iter(), None)),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Entries(map.iter(), None)),
            Value::Array(_) => Err(de::Error::invalid_type(de::Unexpected::Seq, &visitor)),
            other => other.deserialize_struct(name, fields, visitor),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Entries(map.iter(), None)),
            other => other.deserialize_map(visitor),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Items(items.iter())),
            other => other.deserialize_seq(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    delegate! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_bytes deserialize_byte_buf deserialize_unit
        deserialize_identifier
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_unit_struct(name, visitor)
    }
}

struct Items<'de>(std::slice::Iter<'de, Value>);

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = serde_json::Error;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(Strict(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries<'de>(serde_json::map::Iter<'de>, Option<&'de Value>);

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, value)) = self.0.next() else {
            return Ok(None);
        };
        self.1 = Some(value);
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let value = self
            .1
            .take()
            .ok_or_else(|| de::Error::custom("value before key"))?;
        seed.deserialize(Strict(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// Parses a body, refusing duplicate keys.
pub fn parse(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice::<StrictValue>(bytes).map(|v| v.0)
}

/// A parser's message in JSON terms, with any quoted value cut to a short prefix.
pub fn clean_message(message: &str) -> String {
    let mut text = message
        .replace(NUMBER_TOKEN, "number")
        .replace("invalid type: map", "invalid type: object")
        .replace("invalid type: sequence", "invalid type: array")
        .replace("expected a map", "expected an object")
        .replace("expected a sequence", "expected an array");
    // `expected struct OrderRef`, `expected enum Status`: Rust type names.
    for (rust, json) in [
        ("expected struct ", "expected an object"),
        ("expected enum ", "expected one of the allowed values"),
    ] {
        while let Some(at) = text.find(rust) {
            let end = text[at + rust.len()..]
                .find(|c: char| !c.is_alphanumeric() && c != '_')
                .map_or(text.len(), |n| at + rust.len() + n);
            text.replace_range(at..end, json);
        }
    }
    shorten_quotes(&text)
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= QUOTE_CHARS {
        return s.to_string();
    }
    let prefix: String = s.chars().take(QUOTE_CHARS).collect();
    format!("{prefix}… ({} characters)", s.chars().count())
}

/// Cuts every `"..."` or `` `...` `` quotation longer than `QUOTE_CHARS` characters.
fn shorten_quotes(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(1024));
    let mut rest = text;
    while let Some(start) = rest.find(['"', '`']) {
        let quote = rest[start..].chars().next().expect("found above");
        out.push_str(&rest[..=start]);
        let after = &rest[start + 1..];
        match after.find(quote) {
            Some(end) => {
                out.push_str(&shorten(&after[..end]));
                out.push(quote);
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&shorten(after));
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        let e = parse(br#"{"clientId": "A", "x": 1, "clientId": "B"}"#).unwrap_err();
        assert!(e.to_string().contains("duplicate key 'clientId'"), "{e}");
        assert!(parse(br#"{"a": [{"b": 1, "b": 2}]}"#).is_err());
        assert!(parse(br#"{"a": {"b": 1}, "c": {"b": 2}}"#).is_ok());
    }

    #[test]
    fn documents_read_as_serde_json_reads_them() {
        let text = br#"{"n": 12.50, "big": 123456789012345678901234567890, "s": "x", "l": [1, null, true], "o": {}}"#;
        assert_eq!(
            parse(text).unwrap(),
            serde_json::from_slice::<Value>(text).unwrap()
        );
        assert_eq!(parse(b"[]").unwrap(), json!([]));
    }

    #[test]
    fn messages_name_no_rust_and_quote_little() {
        let long = "y".repeat(10_000);
        let m = clean_message(&format!(
            "invalid type: string \"{long}\", expected struct OrderRef at line 1"
        ));
        assert!(m.len() < 200, "{m}");
        assert!(m.contains("expected an object"), "{m}");
        assert!(!m.contains("OrderRef"));
        let m = clean_message("invalid type: map, expected $serde_json::private::Number");
        assert_eq!(m, "invalid type: object, expected number");
    }
}
