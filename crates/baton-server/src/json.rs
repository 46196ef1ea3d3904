//! Request bodies read in the shape the OpenAPI document gives them. serde's derived
//! structs also accept a JSON array holding their fields in order, so `[null]` read as a
//! pickup request and claimed a task. Here a struct reads only from an object, at every
//! depth (a batch's tasks, an import's items), for every body type at once.

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Unexpected, Visitor,
};
use serde_json::Value;

/// Parses `bytes` as JSON, then reads `T` from it strictly. Syntax errors and data errors
/// keep serde_json's categories, so the error contract can tell them apart.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    let value: Value = serde_json::from_slice(bytes)?;
    T::deserialize(Strict(value))
}

/// A JSON value that deserializes like `serde_json::Value`, except that a struct must be
/// an object.
struct Strict(Value);

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(_) => Unexpected::Other("number"),
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

impl<'de> de::Deserializer<'de> for Strict {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => {
                let mut items = Items(items.into_iter());
                let value = visitor.visit_seq(&mut items)?;
                match items.0.len() {
                    0 => Ok(value),
                    left => Err(de::Error::custom(format!(
                        "{left} more array items than expected"
                    ))),
                }
            }
            Value::Object(map) => visitor.visit_map(Fields {
                entries: map.into_iter(),
                value: None,
            }),
            scalar => scalar.deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            object @ Value::Object(_) => Strict(object).deserialize_any(visitor),
            other => Err(de::Error::invalid_type(
                unexpected(&other),
                &"a JSON object",
            )),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            value => visitor.visit_some(Strict(value)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    /// Enums in request bodies are unit variants written as strings; serde_json reads them.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

struct Items(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Items {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
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

struct Fields {
    entries: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl<'de> MapAccess<'de> for Fields {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(Strict(Value::String(key))).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let value = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a map value was read before its key"))?;
        seed.deserialize(Strict(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        #[serde(default)]
        a: Option<u64>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Outer {
        items: Vec<Inner>,
        #[serde(default)]
        one: Option<Inner>,
    }

    #[test]
    fn structs_read_only_from_objects_at_every_depth() {
        assert!(from_slice::<Inner>(b"[null]").is_err());
        assert!(from_slice::<Inner>(b"[]").is_err());
        assert!(from_slice::<Inner>(b"null").is_err());
        assert!(from_slice::<Outer>(br#"{"items": [[1]]}"#).is_err());
        assert!(from_slice::<Outer>(br#"{"items": [], "one": [2]}"#).is_err());
        let read: Outer = from_slice(br#"{"items": [{"a": 1}, {}], "one": null}"#).unwrap();
        assert_eq!(
            read,
            Outer {
                items: vec![Inner { a: Some(1) }, Inner { a: None }],
                one: None
            }
        );
    }

    #[test]
    fn errors_keep_their_category() {
        use serde_json::error::Category;
        let syntax = from_slice::<Inner>(b"{\"a\": ").unwrap_err();
        assert_eq!(syntax.classify(), Category::Eof);
        let data = from_slice::<Inner>(b"[1]").unwrap_err();
        assert_eq!(data.classify(), Category::Data);
        assert!(data.to_string().contains("a JSON object"), "{data}");
    }

    #[test]
    fn lists_scalars_and_maps_read_as_before() {
        let list: Vec<Inner> = from_slice(br#"[{"a": 3}]"#).unwrap();
        assert_eq!(list, vec![Inner { a: Some(3) }]);
        let map: std::collections::BTreeMap<String, Vec<u8>> =
            from_slice(br#"{"x": [1, 2]}"#).unwrap();
        assert_eq!(map["x"], vec![1, 2]);
        let value: Value = from_slice(br#"{"deep": [[{"k": null}]]}"#).unwrap();
        assert_eq!(value["deep"][0][0]["k"], Value::Null);
        assert!(from_slice::<(u8, u8)>(b"[1, 2, 3]").is_err());
    }
}
