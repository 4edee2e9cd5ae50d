//! OpenAPI 3.0 schemas as JSON Schema (draft 4, which 3.0's schema object
//! extends).
//!
//! - `$ref`s to `#/...` are inlined; a reference met again inside its own
//!   expansion (a recursive schema) becomes `{}`, which accepts anything
//!   at that depth;
//! - `nullable: true` becomes `anyOf: [the schema, {"type": "null"}]`
//!   (draft 4 has no `nullable`; `enum` and `type` would refuse `null`);
//! - keywords that are only annotations in OpenAPI (`example`,
//!   `discriminator`, `readOnly`, `x-…`) are dropped.

use serde_json::{Map, Value, json};

const ANNOTATIONS: &[&str] = &[
    "nullable",
    "discriminator",
    "xml",
    "externalDocs",
    "example",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
];

/// `schema` (from `document`) as a self-contained draft-4 JSON Schema.
pub fn to_json_schema(schema: &Value, document: &Value) -> Value {
    convert(schema, document, &mut Vec::new())
}

/// The value at a local reference `#/a/b`, with `~1` and `~0` decoded.
pub fn resolve<'a>(reference: &str, document: &'a Value) -> Option<&'a Value> {
    document.pointer(reference.strip_prefix('#')?)
}

fn convert(schema: &Value, document: &Value, expanding: &mut Vec<String>) -> Value {
    let Some(object) = schema.as_object() else {
        return schema.clone();
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        if expanding.iter().any(|known| known == reference) {
            return json!({});
        }
        let Some(target) = resolve(reference, document) else {
            return json!({ "not": {}, "description": format!("unresolved $ref {reference}") });
        };
        expanding.push(reference.to_owned());
        let converted = convert(target, document, expanding);
        expanding.pop();
        return converted;
    }
    let mut converted = Map::new();
    for (key, value) in object {
        if ANNOTATIONS.contains(&key.as_str()) || key.starts_with("x-") {
            continue;
        }
        let value = match key.as_str() {
            "properties" | "patternProperties" => map_of_schemas(value, document, expanding),
            "items" | "additionalProperties" | "not" if value.is_object() => {
                convert(value, document, expanding)
            }
            "allOf" | "anyOf" | "oneOf" => list_of_schemas(value, document, expanding),
            _ => value.clone(),
        };
        converted.insert(key.clone(), value);
    }
    let converted = Value::Object(converted);
    if object.get("nullable").and_then(Value::as_bool) == Some(true) {
        return json!({ "anyOf": [converted, { "type": "null" }] });
    }
    converted
}

fn map_of_schemas(value: &Value, document: &Value, expanding: &mut Vec<String>) -> Value {
    let Some(map) = value.as_object() else {
        return value.clone();
    };
    Value::Object(
        map.iter()
            .map(|(name, schema)| (name.clone(), convert(schema, document, expanding)))
            .collect(),
    )
}

fn list_of_schemas(value: &Value, document: &Value, expanding: &mut Vec<String>) -> Value {
    let Some(list) = value.as_array() else {
        return value.clone();
    };
    Value::Array(
        list.iter()
            .map(|schema| convert(schema, document, expanding))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_inlined_and_recursion_is_cut() {
        let document = json!({
            "components": { "schemas": {
                "node": { "type": "object", "properties": {
                    "name": { "type": "string" },
                    "child": { "$ref": "#/components/schemas/node" }
                }}
            }}
        });
        let schema = to_json_schema(&json!({ "$ref": "#/components/schemas/node" }), &document);
        assert_eq!(schema["properties"]["name"]["type"], "string");
        assert_eq!(schema["properties"]["child"], json!({}));
    }

    #[test]
    fn nullable_admits_null_and_annotations_are_dropped() {
        let schema = to_json_schema(
            &json!({ "type": "string", "enum": ["a"], "nullable": true, "example": "a", "x-github": {} }),
            &json!({}),
        );
        assert_eq!(
            schema,
            json!({ "anyOf": [{ "type": "string", "enum": ["a"] }, { "type": "null" }] })
        );
    }
}
