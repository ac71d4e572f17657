//! Numeric identifiers. They are 63-bit numbers (like the product's `channelConfigId`
//! and `tenantSpaceId`), written in JSON as strings of digits because JavaScript numbers
//! lose precision above 2^53; a client may send either form.

use std::fmt;
use std::str::FromStr;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

macro_rules! numeric_id {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "869525871671777281"))]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse::<i64>().map($name)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                deserialize_id(d).map($name)
            }
        }
    )*};
}

numeric_id! {
    /// A tenant space (`tenantSpaceId`).
    TenantId;
    /// A skill queue.
    QueueId;
    /// A called route.
    RouteId;
    /// An employee account (which may carry an agent profile).
    EmployeeId;
    /// A channel (`channelConfigId`).
    ChannelId;
    /// An asynchronous export task.
    ExportId;
    /// A customer of a tenant, as known on one channel.
    CustomerId;
    /// A conversation between a customer and the tenant.
    ConversationId;
}

fn deserialize_id<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr<'a> {
        Number(i64),
        Text(&'a str),
        Owned(String),
    }
    let parse = |s: &str| {
        s.parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| de::Error::custom("expected an id: a string of digits"))
    };
    match Repr::deserialize(d)? {
        Repr::Number(n) if n > 0 => Ok(n),
        Repr::Number(_) => Err(de::Error::custom("expected a positive id")),
        Repr::Text(s) => parse(s),
        Repr::Owned(s) => parse(&s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialize_as_strings_and_accept_numbers_or_strings() {
        let id = ChannelId(869525871671777281);
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"869525871671777281\""
        );
        let from_text: ChannelId = serde_json::from_str("\"869525871671777281\"").unwrap();
        let from_number: ChannelId = serde_json::from_str("42").unwrap();
        assert_eq!(from_text, id);
        assert_eq!(from_number, ChannelId(42));
    }

    #[test]
    fn ids_reject_non_digits_and_non_positive() {
        for bad in ["\"abc\"", "\"-1\"", "0", "\"\"", "1.5"] {
            assert!(serde_json::from_str::<TenantId>(bad).is_err(), "{bad}");
        }
    }
}
