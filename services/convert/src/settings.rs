//! Seller settings: the stored document (the encoded v1 `SellerSettings`, without its output-only
//! fields) <-> the API and the domain, and UpdateSellerSettings' field mask.

use super::contract::{delta, duration};
use super::timestamp;
use prost::Message;
use returnbridge_domain::contract::SellerSettings;
use returnbridge_domain::contract_input::SellerSettingsInput;
use returnbridge_domain::supplier::EndpointUrl;
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;
use returnbridge_store::{StoreError, StoredSettings};

/// The settings of a tenant that never changed them.
pub fn default_document() -> pb::SellerSettings {
    document(&SellerSettings::default(), String::new())
}

fn document(s: &SellerSettings, event_webhook_url: String) -> pb::SellerSettings {
    pb::SellerSettings {
        customer_restocking_fee_bps: i32::from(s.customer_restocking_fee_bps.value()),
        ship_by_period: Some(duration(s.ship_by)),
        return_window_days: s.return_window_days.map_or(0, |d| d as i32),
        event_webhook_url,
        version: 0,
        update_time: None,
    }
}

/// The stored settings as the API shows them: the defaults with version 0 while never written.
pub fn to_proto(stored: Option<&StoredSettings>) -> Result<pb::SellerSettings, StoreError> {
    let Some(s) = stored else {
        return Ok(default_document());
    };
    let mut doc = pb::SellerSettings::decode(s.document.as_slice())
        .map_err(|e| StoreError::Corrupt(format!("seller_settings.settings: {e}")))?;
    doc.version = s.version;
    doc.update_time = Some(timestamp(s.updated_at));
    Ok(doc)
}

fn input(doc: &pb::SellerSettings) -> SellerSettingsInput {
    SellerSettingsInput {
        customer_restocking_fee_bps: i64::from(doc.customer_restocking_fee_bps),
        ship_by: doc.ship_by_period.as_ref().map(delta),
        return_window_days: Some(i64::from(doc.return_window_days)),
    }
}

/// The stored settings as the domain's. The document was checked before it was stored, so a
/// failure here is corrupt data.
pub fn to_domain(stored: Option<&StoredSettings>) -> Result<(SellerSettings, i64), StoreError> {
    let Some(s) = stored else {
        return Ok((SellerSettings::default(), 0));
    };
    let doc = to_proto(Some(s))?;
    let settings = input(&doc)
        .parse()
        .map_err(|e| StoreError::Corrupt(format!("seller_settings.settings: {e}")))?;
    Ok((settings, s.version))
}

/// The fields an update names, each already checked on its own (no setting depends on another, so
/// any mix of checked fields over stored ones is valid).
#[derive(Debug, Clone)]
pub struct SettingsPatch {
    /// New values of the named fields, in the stored document's normal form.
    values: pb::SellerSettings,
    /// Which fields to take from `values`.
    paths: Vec<&'static str>,
    /// Issue a new event webhook secret.
    pub rotate_secret: bool,
    /// Refuse unless the stored version is this.
    pub expected_version: Option<i64>,
}

const PATHS: [&str; 4] = [
    "customer_restocking_fee_bps",
    "ship_by_period",
    "return_window_days",
    "event_webhook_url",
];

/// Checks an UpdateSellerSettings request into a patch; violations name `settings.<field>`.
pub fn patch(req: &pb::UpdateSellerSettingsRequest) -> Result<SettingsPatch, DomainError> {
    let mut v = Violations::default();
    let sent = req.settings.clone().unwrap_or_default();
    let raw_paths = req
        .update_mask
        .as_ref()
        .map(|m| m.paths.as_slice())
        .unwrap_or_default();
    let mut paths = Vec::new();
    for (i, p) in raw_paths.iter().enumerate() {
        match PATHS.iter().find(|k| **k == p) {
            Some(k) if !paths.contains(k) => paths.push(*k),
            Some(_) => {}
            None => v.add(
                format!("update_mask.paths[{i}]"),
                format!("unknown path {p:?}; updatable: {}", PATHS.join(", ")),
            ),
        }
    }
    if raw_paths.is_empty() && !req.rotate_event_webhook_secret {
        v.add(
            "update_mask",
            format!(
                "list the fields to change ({}), or set rotate_event_webhook_secret",
                PATHS.join(", ")
            ),
        );
    }
    // The domain checks the three policy settings together; unnamed ones are given their (valid)
    // defaults so that only the named fields can be reported.
    let named = |k: &str| paths.contains(&k);
    let defaults = default_document();
    let checked = SellerSettingsInput {
        customer_restocking_fee_bps: i64::from(if named("customer_restocking_fee_bps") {
            sent.customer_restocking_fee_bps
        } else {
            defaults.customer_restocking_fee_bps
        }),
        ship_by: if named("ship_by_period") {
            sent.ship_by_period.as_ref().map(delta)
        } else {
            None
        },
        return_window_days: named("return_window_days")
            .then_some(i64::from(sent.return_window_days)),
    }
    .parse()
    .map_err(|e| match e {
        DomainError::InvalidArgument(own) => {
            v.append(own);
        }
        other => v.add("settings", other.to_string()),
    })
    .ok();
    let url = sent.event_webhook_url.trim().to_owned();
    if named("event_webhook_url") && !url.is_empty() {
        v.take("settings.event_webhook_url", EndpointUrl::parse(&url));
    }
    let expected_version = match req.expected_version {
        0 => None,
        n if n > 0 => Some(n),
        _ => {
            v.add(
                "expected_version",
                "must be positive, or 0 to skip the version check",
            );
            None
        }
    };
    let checked = v.finish_with(checked, "settings")?;
    let normalized = document(&checked, url);
    Ok(SettingsPatch {
        values: normalized,
        paths,
        rotate_secret: req.rotate_event_webhook_secret,
        expected_version,
    })
}

impl SettingsPatch {
    /// The new document: the named fields over `current`.
    pub fn apply(&self, current: &pb::SellerSettings) -> pb::SellerSettings {
        let mut next = current.clone();
        for p in &self.paths {
            match *p {
                "customer_restocking_fee_bps" => {
                    next.customer_restocking_fee_bps = self.values.customer_restocking_fee_bps
                }
                "ship_by_period" => next.ship_by_period = self.values.ship_by_period,
                "return_window_days" => next.return_window_days = self.values.return_window_days,
                _ => next.event_webhook_url = self.values.event_webhook_url.clone(),
            }
        }
        // Output-only fields live in columns, never in the document.
        next.version = 0;
        next.update_time = None;
        next
    }
}
