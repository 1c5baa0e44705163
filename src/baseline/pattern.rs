//! The one wildcard of the baseline file: `*` in any field but `exe` matches any value, and so
//! does leaving the field out. Nothing else is special (no globs, no ranges): an operator who
//! needs a range of addresses writes a CIDR block, which the address itself already is.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::model::{Network, Proto};

/// A field's value in a baseline entry: any value, or exactly one (an address: one network).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Wildcard<T> {
    /// `*`, or the field left out.
    #[default]
    Any,
    /// This value.
    Only(T),
}

impl<T> Wildcard<T> {
    /// Whether `accepts` holds for the value, or the value is `*`.
    pub fn admits(&self, accepts: impl FnOnce(&T) -> bool) -> bool {
        match self {
            Wildcard::Any => true,
            Wildcard::Only(value) => accepts(value),
        }
    }
}

/// A type a baseline field holds, as it is written in the file.
pub trait FieldValue: Sized {
    /// What the file should have held, for the error message ("a port number").
    const EXPECTED: &'static str;
    /// The value written as text (a user, a protocol, an address).
    fn from_text(text: &str) -> Option<Self>;
    /// The value written as a number (a port, a uid).
    fn from_number(_number: u64) -> Option<Self> {
        None
    }
    /// The value as the file writes it (never `*`).
    fn to_text(&self) -> String;
}

impl FieldValue for String {
    const EXPECTED: &'static str = "a user name or uid, or `*`";
    fn from_text(text: &str) -> Option<Self> {
        (!text.is_empty()).then(|| text.to_owned())
    }
    fn from_number(number: u64) -> Option<Self> {
        Some(number.to_string())
    }
    fn to_text(&self) -> String {
        self.clone()
    }
}

impl FieldValue for u16 {
    const EXPECTED: &'static str = "a port number (1-65535), or `*`";
    fn from_text(_text: &str) -> Option<Self> {
        None
    }
    fn from_number(number: u64) -> Option<Self> {
        u16::try_from(number).ok().filter(|port| *port != 0)
    }
    fn to_text(&self) -> String {
        self.to_string()
    }
}

impl FieldValue for Proto {
    const EXPECTED: &'static str = "`tcp`, `udp` or `*`";
    fn from_text(text: &str) -> Option<Self> {
        match text {
            "tcp" => Some(Proto::Tcp),
            "udp" => Some(Proto::Udp),
            _ => None,
        }
    }
    fn to_text(&self) -> String {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
        .to_owned()
    }
}

impl FieldValue for Network {
    const EXPECTED: &'static str =
        "an IP address or a CIDR block (10.0.0.0/8, 0.0.0.0/0, ::/0), or `*`";
    fn from_text(text: &str) -> Option<Self> {
        Network::parse(text).ok()
    }
    fn to_text(&self) -> String {
        self.to_string()
    }
}

impl<T: FieldValue> fmt::Display for Wildcard<T> {
    /// `*`, or the value as the file writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wildcard::Any => f.write_str("*"),
            Wildcard::Only(value) => f.write_str(&value.to_text()),
        }
    }
}

impl<'de, T: FieldValue> Deserialize<'de> for Wildcard<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FieldVisitor(PhantomData))
    }
}

struct FieldVisitor<T>(PhantomData<T>);

impl<T: FieldValue> FieldVisitor<T> {
    fn refuse<E: de::Error>(unexpected: de::Unexpected<'_>) -> E {
        E::invalid_value(unexpected, &T::EXPECTED)
    }
}

impl<T: FieldValue> Visitor<'_> for FieldVisitor<T> {
    type Value = Wildcard<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTED)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        if text == "*" {
            return Ok(Wildcard::Any);
        }
        T::from_text(text)
            .map(Wildcard::Only)
            .ok_or_else(|| Self::refuse(de::Unexpected::Str(text)))
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Self::Value, E> {
        T::from_number(number)
            .map(Wildcard::Only)
            .ok_or_else(|| Self::refuse(de::Unexpected::Unsigned(number)))
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Self::Value, E> {
        match u64::try_from(number) {
            Ok(number) => self.visit_u64(number),
            Err(_) => Err(Self::refuse(de::Unexpected::Signed(number))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read<T: FieldValue>(yaml: &str) -> Result<Wildcard<T>, String> {
        serde_yaml::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn a_star_is_any_value_and_anything_else_is_that_value() {
        assert_eq!(read::<u16>("'*'"), Ok(Wildcard::Any));
        assert_eq!(read::<u16>("443"), Ok(Wildcard::Only(443)));
        assert_eq!(read::<Proto>("udp"), Ok(Wildcard::Only(Proto::Udp)));
        assert_eq!(read::<Proto>("\"*\""), Ok(Wildcard::Any));
        assert_eq!(
            read::<String>("root"),
            Ok(Wildcard::Only("root".to_owned()))
        );
        assert_eq!(
            read::<String>("1000"),
            Ok(Wildcard::Only("1000".to_owned()))
        );
        assert_eq!(
            read::<Network>("10.0.0.0/8"),
            Ok(Wildcard::Only(Network::parse("10.0.0.0/8").unwrap()))
        );
        assert!(read::<u16>("'*'").unwrap().admits(|_| false));
        assert!(!read::<u16>("22").unwrap().admits(|port| *port == 23));
    }

    #[test]
    fn values_of_the_wrong_kind_say_what_was_expected() {
        let cases: [(Result<(), String>, &str); 7] = [
            (read::<u16>("0").map(drop), "a port number (1-65535)"),
            (read::<u16>("65536").map(drop), "a port number (1-65535)"),
            (read::<u16>("-1").map(drop), "a port number (1-65535)"),
            (read::<u16>("http").map(drop), "a port number (1-65535)"),
            (read::<Proto>("sctp").map(drop), "`tcp`, `udp` or `*`"),
            (read::<Network>("10.0.0.0/33").map(drop), "a CIDR block"),
            (read::<String>("true").map(drop), "a user name or uid"),
        ];
        for (result, expected) in cases {
            let error = result.unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
    }

    #[test]
    fn a_value_is_written_as_it_is_read() {
        let values: [Wildcard<Network>; 3] = [
            Wildcard::Any,
            Wildcard::Only(Network::parse("::/0").unwrap()),
            Wildcard::Only(Network::parse("127.0.0.1").unwrap()),
        ];
        for value in values {
            let text = format!("'{value}'");
            assert_eq!(read::<Network>(&text), Ok(value));
        }
    }
}
