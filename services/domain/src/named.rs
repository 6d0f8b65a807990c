//! Enums whose values have stable names: the names are the wire, storage and proto vocabulary
//! (`FULL_RETAIL`, `SUPPLIER`), so they are declared once, next to each value.

/// Declares an enum with `ALL`, `as_str`, `parse` and `Display` over the given names.
macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order (the proto enum's order).
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value's name as in the proto enum, without its prefix.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Parses a value's name.
            pub fn parse(raw: &str) -> Result<Self, String> {
                Self::ALL.iter().copied().find(|v| v.as_str() == raw).ok_or_else(|| {
                    let names: Vec<_> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    format!("unknown value {raw:?}; one of {}", names.join(", "))
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        serde_as_text!($name);
    };
}

/// Stores a value as its text (`Display`) and reads it back through its `parse`, so a stored
/// document holds the same names as the API and an invalid stored value fails to load instead of
/// slipping past the checks every value passed at the edge.
macro_rules! serde_as_text {
    ($name:ty) => {
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                <$name>::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}
