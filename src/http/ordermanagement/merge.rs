//! JSON Merge Patch (RFC 7386): objects merge key by key, `null` removes, anything else replaces
//! (arrays included, which is how a PATCH replaces the item list).

use serde_json::{Map, Value};

pub fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let fields = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            fields.remove(key);
        } else {
            merge(fields.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc7386_examples() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "items": [1, 2]});
        merge(&mut doc, &json!({"a": "z", "c": {"f": null}, "items": [3]}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}, "items": [3]}));
        let mut doc = json!({"a": "b"});
        merge(&mut doc, &json!({"b": {"c": 1}}));
        assert_eq!(doc, json!({"a": "b", "b": {"c": 1}}));
    }
}
