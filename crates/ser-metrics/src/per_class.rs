//! An ordered "class name -> value" table that serialises as a JSON object.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One value per class, in class-index order, keyed by class name.
///
/// Serialises as a map (a JSON object `{"neutral": .., "calm": .., ..}`)
/// that keeps the class order, which makes `metrics.json` easy to read.
/// Class names are unique (enforced where reports are built).
#[derive(Debug, Clone, PartialEq)]
pub struct PerClass<T> {
    entries: Vec<(String, T)>,
}

impl<T> PerClass<T> {
    /// Pairs names with values; callers guarantee equal lengths and unique names.
    pub(crate) fn from_parts(names: &[String], values: Vec<T>) -> Self {
        debug_assert_eq!(names.len(), values.len());
        Self {
            entries: names.iter().cloned().zip(values).collect(),
        }
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Value of the class called `name`.
    pub fn get(&self, name: &str) -> Option<&T> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Value of the class with index `class`.
    pub fn get_index(&self, class: usize) -> Option<&T> {
        self.entries.get(class).map(|(_, v)| v)
    }

    /// Class names in index order.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// Values in class-index order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &T> + '_ {
        self.entries.iter().map(|(_, v)| v)
    }

    /// `(name, value)` pairs in class-index order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &T)> + '_ {
        self.entries.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// Applies `f` to every value, keeping the names.
    pub fn map<U>(&self, mut f: impl FnMut(&T) -> U) -> PerClass<U> {
        PerClass {
            entries: self
                .entries
                .iter()
                .map(|(n, v)| (n.clone(), f(v)))
                .collect(),
        }
    }
}

impl<T: Serialize> Serialize for PerClass<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (name, value) in &self.entries {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for PerClass<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PerClassVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for PerClassVisitor<T> {
            type Value = PerClass<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from class name to value")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut entries: Vec<(String, T)> =
                    Vec::with_capacity(access.size_hint().unwrap_or(0));
                while let Some((name, value)) = access.next_entry::<String, T>()? {
                    if entries.iter().any(|(n, _)| *n == name) {
                        return Err(serde::de::Error::custom(format!(
                            "duplicate class name {name:?}"
                        )));
                    }
                    entries.push((name, value));
                }
                Ok(PerClass { entries })
            }
        }

        deserializer.deserialize_map(PerClassVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn lookup_and_order() {
        let t = PerClass::from_parts(&names(&["b", "a", "c"]), vec![1, 2, 3]);
        assert_eq!(t.len(), 3);
        assert!(!t.is_empty());
        assert_eq!(t.get("a"), Some(&2));
        assert_eq!(t.get("z"), None);
        assert_eq!(t.get_index(2), Some(&3));
        assert_eq!(t.get_index(3), None);
        assert_eq!(t.names().collect::<Vec<_>>(), ["b", "a", "c"]);
        assert_eq!(
            t.map(|v| v * 10).values().copied().collect::<Vec<_>>(),
            [10, 20, 30]
        );
    }

    #[test]
    fn json_is_an_ordered_object_and_round_trips() {
        let t = PerClass::from_parts(&names(&["zeta", "alpha"]), vec![0.5, 1.0]);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"zeta":0.5,"alpha":1.0}"#);
        let back: PerClass<f64> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        assert!(serde_json::from_str::<PerClass<f64>>(r#"{"a":1,"a":2}"#).is_err());
    }
}
