//! Proto3 JSON for client commands (`--json` output, `--from-json` input) and enum flags, both read
//! from the descriptor set the proto crate embeds, so field and value names are the API's own.

use anyhow::Context;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor};
use std::io::Read;
use std::sync::OnceLock;

fn pool() -> anyhow::Result<&'static DescriptorPool> {
    static POOL: OnceLock<Result<DescriptorPool, String>> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(returnbridge_proto::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| anyhow::anyhow!("the embedded API descriptors do not decode: {e}"))
}

fn message(name: &str) -> anyhow::Result<MessageDescriptor> {
    pool()?
        .get_message_by_name(&format!("returnbridge.v1.{name}"))
        .with_context(|| format!("no message returnbridge.v1.{name} in the API descriptors"))
}

/// `msg` (the API message `name`, such as `Return`) as pretty proto3 JSON.
pub fn to_json<M: prost::Message>(name: &str, msg: &M) -> anyhow::Result<String> {
    let dynamic = DynamicMessage::decode(message(name)?, msg.encode_to_vec().as_slice())
        .with_context(|| format!("re-reading a {name} for JSON"))?;
    let mut out = serde_json::Serializer::pretty(Vec::new());
    dynamic
        .serialize_with_options(&mut out, &prost_reflect::SerializeOptions::new())
        .with_context(|| format!("writing a {name} as JSON"))?;
    String::from_utf8(out.into_inner()).context("JSON output is not UTF-8")
}

/// Prints `msg` as proto3 JSON on stdout.
pub fn print_json<M: prost::Message>(name: &str, msg: &M) -> anyhow::Result<()> {
    println!("{}", to_json(name, msg)?);
    Ok(())
}

/// Reads the API message `name` from proto3 JSON text. Unknown fields are refused (a typo must not
/// silently drop a term); enum values take their full names (`"RETURN_REASON_CHANGED_MIND"`).
pub fn from_json<M: prost::Message + Default>(name: &str, text: &str) -> anyhow::Result<M> {
    let mut de = serde_json::Deserializer::from_str(text);
    let dynamic = DynamicMessage::deserialize(message(name)?, &mut de)
        .map_err(|e| anyhow::anyhow!("not a returnbridge.v1.{name} in proto3 JSON: {e}"))?;
    de.end()
        .map_err(|e| anyhow::anyhow!("trailing text after the JSON object: {e}"))?;
    dynamic
        .transcode_to::<M>()
        .with_context(|| format!("converting the {name}"))
}

/// Reads the API message `name` from proto3 JSON another program wrote (the gateway's webhook
/// bodies): fields this build does not know are skipped, as proto3 JSON readers do for a newer
/// writer.
pub fn from_foreign_json<M: prost::Message + Default>(
    name: &str,
    value: &serde_json::Value,
) -> anyhow::Result<M> {
    let options = prost_reflect::DeserializeOptions::new().deny_unknown_fields(false);
    let dynamic = DynamicMessage::deserialize_with_options(message(name)?, value, &options)
        .map_err(|e| anyhow::anyhow!("not a returnbridge.v1.{name} in proto3 JSON: {e}"))?;
    dynamic
        .transcode_to::<M>()
        .with_context(|| format!("converting the {name}"))
}

/// The text of `--from-json FILE`, or of stdin for `-`.
pub fn read_source(path: &str) -> anyhow::Result<String> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading JSON from stdin")?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {path}"))
    }
}

/// The values of an API enum (`ReturnStatus`) as flags take them, lower case with dashes and without
/// the enum's prefix (`in-transit`), leaving out the `_UNSPECIFIED` zero.
pub fn enum_choices(enum_name: &str, prefix: &str) -> Vec<String> {
    let Ok(pool) = pool() else {
        return Vec::new();
    };
    pool.get_enum_by_name(&format!("returnbridge.v1.{enum_name}"))
        .map(|e| {
            e.values()
                .filter(|v| v.number() != 0)
                .map(|v| {
                    v.name()
                        .trim_start_matches(prefix)
                        .to_ascii_lowercase()
                        .replace('_', "-")
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Reads an enum flag: `in-transit`, `IN_TRANSIT` or `RETURN_STATUS_IN_TRANSIT`. An unknown value's
/// error lists every valid one.
pub fn parse_enum(enum_name: &str, prefix: &str, raw: &str) -> Result<i32, String> {
    let wanted = raw.trim().to_ascii_uppercase().replace('-', "_");
    let wanted = wanted.strip_prefix(prefix).unwrap_or(&wanted);
    let found = pool().ok().and_then(|p| {
        p.get_enum_by_name(&format!("returnbridge.v1.{enum_name}"))
            .and_then(|e| e.get_value_by_name(&format!("{prefix}{wanted}")))
            .filter(|v| v.number() != 0)
            .map(|v| v.number())
    });
    found.ok_or_else(|| {
        format!(
            "{raw:?} is not one of: {}",
            enum_choices(enum_name, prefix).join(", ")
        )
    })
}

/// The short name of an enum number for tables (`IN_TRANSIT`); `?` for a number this build does not
/// know.
pub fn enum_name(enum_name: &str, prefix: &str, number: i32) -> String {
    pool()
        .ok()
        .and_then(|p| p.get_enum_by_name(&format!("returnbridge.v1.{enum_name}")))
        .and_then(|e| e.get_value(number))
        .map(|v| v.name().trim_start_matches(prefix).to_owned())
        .unwrap_or_else(|| format!("?{number}"))
}

/// clap value parsers for the enum flags.
pub mod flags {
    use super::parse_enum;

    /// `--status`.
    pub fn status(raw: &str) -> Result<i32, String> {
        parse_enum("ReturnStatus", "RETURN_STATUS_", raw)
    }
    /// `--reason`.
    pub fn reason(raw: &str) -> Result<i32, String> {
        parse_enum("ReturnReason", "RETURN_REASON_", raw)
    }
    /// `--resolution`.
    pub fn resolution(raw: &str) -> Result<i32, String> {
        parse_enum("Resolution", "RESOLUTION_", raw)
    }
    /// `--outcome`.
    pub fn inspection(raw: &str) -> Result<i32, String> {
        parse_enum("InspectionOutcome", "INSPECTION_OUTCOME_", raw)
    }
    /// Party flags.
    pub fn party(raw: &str) -> Result<i32, String> {
        parse_enum("Party", "PARTY_", raw)
    }
    /// `--defect-coverage`.
    pub fn defect_coverage(raw: &str) -> Result<i32, String> {
        parse_enum("DefectCoverage", "DEFECT_COVERAGE_", raw)
    }
    /// `--breach-action`.
    pub fn breach_action(raw: &str) -> Result<i32, String> {
        parse_enum("SlaBreachAction", "SLA_BREACH_ACTION_", raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use returnbridge_proto::v1 as pb;

    #[test]
    fn enum_flags_take_short_kebab_or_full_names() {
        let transit = pb::ReturnStatus::InTransit as i32;
        assert_eq!(flags::status("in-transit"), Ok(transit));
        assert_eq!(flags::status("IN_TRANSIT"), Ok(transit));
        assert_eq!(flags::status("RETURN_STATUS_IN_TRANSIT"), Ok(transit));
        assert_eq!(
            flags::reason("changed-mind"),
            Ok(pb::ReturnReason::ChangedMind as i32)
        );
    }

    #[test]
    fn an_unknown_enum_value_lists_the_valid_ones() {
        let err = flags::status("shipped").err().unwrap_or_default();
        assert!(
            err.contains("authorized") && err.contains("in-transit"),
            "{err}"
        );
        assert!(!err.contains("unspecified"), "{err}");
        assert!(flags::status("unspecified").is_err());
    }

    #[test]
    fn messages_round_trip_through_proto3_json() -> anyhow::Result<()> {
        let money = pb::Money {
            currency_code: "EUR".into(),
            amount_minor: 5400,
        };
        let text = to_json("Money", &money)?;
        assert!(text.contains("\"amountMinor\": \"5400\""), "{text}");
        let back: pb::Money = from_json("Money", &text)?;
        assert_eq!(back, money);
        Ok(())
    }

    #[test]
    fn json_with_an_unknown_field_is_refused() {
        let err = from_json::<pb::Money>("Money", r#"{"currency": "EUR"}"#)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("currency"), "{err}");
    }
}
