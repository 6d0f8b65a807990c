//! Identifiers, parsed once at the edge.

use std::fmt;
use uuid::Uuid;

/// A seller (tenant): lowercase letters, digits and dashes, 1 to 63 characters, starting with a letter
/// or digit. Chosen by the operator when the tenant's first key is created (`acme-shop`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    /// Longest accepted tenant id.
    pub const MAX_LEN: usize = 63;

    /// Parses a tenant id, explaining what is wrong when it is not one.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok_chars = raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if raw.is_empty() || raw.len() > Self::MAX_LEN || !ok_chars || raw.starts_with('-') {
            return Err(format!(
                "must be 1 to {} characters of a-z, 0-9 and '-', not starting with '-'",
                Self::MAX_LEN
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as stored and shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

serde_as_text!(TenantId);

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh id. Version 7 UUIDs sort by creation time, which keeps id-ordered pages stable
            /// and index inserts local.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Parses the canonical hyphenated UUID form.
            pub fn parse(raw: &str) -> Result<Self, String> {
                Uuid::try_parse(raw)
                    .map(Self)
                    .map_err(|_| "must be a UUID such as 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".to_owned())
            }

            /// Wraps a UUID read back from storage.
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        serde_as_text!($name);
    };
}

uuid_id!(
    /// A supplier of one tenant.
    SupplierId
);
uuid_id!(
    /// An API key (its public identifier, never the secret).
    ApiKeyId
);
uuid_id!(
    /// A return.
    ReturnId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_lowercase_slugs() {
        assert!(TenantId::parse("acme-shop").is_ok());
        assert!(TenantId::parse("a").is_ok());
        for bad in [
            "",
            "-acme",
            "Acme",
            "acme shop",
            "acme_shop",
            &"a".repeat(64),
        ] {
            assert!(TenantId::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn supplier_ids_round_trip_through_their_text_form() {
        let id = SupplierId::generate();
        assert_eq!(SupplierId::parse(&id.to_string()), Ok(id));
        assert!(SupplierId::parse("not-a-uuid").is_err());
    }
}
