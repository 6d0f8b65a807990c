//! Suppliers: who ships for a seller, and how the gateway reaches them.

use crate::error::{DomainError, Violations};
use crate::ids::{SupplierId, TenantId};
use chrono::{DateTime, Utc};
use url::{Host, Url};

/// Request path of the backup reference, named by violations found in the domain and in the store.
pub const BACKUP_FIELD: &str = "supplier.backup_supplier_id";

/// The violation for a backup that is not another supplier of the same seller.
pub fn unknown_backup(id: SupplierId) -> DomainError {
    DomainError::invalid(
        BACKUP_FIELD,
        format!("no supplier {id} exists for this seller; create the backup supplier first"),
    )
}

/// A supplier's name as the seller knows it: 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Longest accepted name, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Parses a name; surrounding whitespace is trimmed first.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("must not be empty".into());
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        if trimmed.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An endpoint the gateway calls: `https://`, or `http://` on a loopback host only (local development
/// and tests). At most 2048 characters, no user info, no fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl(Url);

impl EndpointUrl {
    /// Longest accepted URL.
    pub const MAX_LEN: usize = 2048;

    /// Parses and checks an endpoint URL.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        let url = Url::parse(raw).map_err(|e| format!("is not a valid absolute URL ({e})"))?;
        let loopback = match url.host() {
            Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => return Err("must name a host".into()),
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(
                    "must use https (plain http is accepted for loopback hosts only)".into(),
                );
            }
            other => return Err(format!("must use https, not {other:?}")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(
                "must not carry credentials; the gateway signs its requests instead".into(),
            );
        }
        if url.fragment().is_some() {
            return Err("must not have a fragment".into());
        }
        Ok(Self(url))
    }

    /// The URL as stored and shown.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// How the gateway forwards requests to a supplier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connector {
    /// Standard Webhooks: signed JSON POSTs to this URL.
    Webhook {
        /// Where requests are POSTed.
        url: EndpointUrl,
    },
    /// The supplier implements the `SupplierInbox` gRPC service at this endpoint.
    Grpc {
        /// The gRPC server's URI (`https://supplier.example:443`).
        endpoint: EndpointUrl,
    },
}

/// How the gateway paces and retries deliveries to one supplier; `None` takes the gateway's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// The waits before each retry, replacing the default schedule.
    pub retry_delays: Option<Vec<std::time::Duration>>,
    /// Most requests started per second (per gateway replica).
    pub max_per_second: Option<u32>,
}

impl DeliveryPolicy {
    /// Most retry delays a policy lists.
    pub const MAX_RETRIES: usize = 20;
    /// The shortest and longest retry delay.
    pub const RETRY_DELAY_RANGE: std::ops::RangeInclusive<std::time::Duration> =
        std::time::Duration::from_secs(1)..=std::time::Duration::from_secs(24 * 3600);
    /// The highest rate limit.
    pub const MAX_PER_SECOND: u32 = 10_000;

    /// A policy, checked: `field` prefixes the violations (`supplier.delivery`).
    pub fn new(
        retry_delays: Vec<std::time::Duration>,
        max_per_second: u32,
        field: &str,
        v: &mut Violations,
    ) -> Self {
        v.check(
            retry_delays.len() <= Self::MAX_RETRIES,
            format!("{field}.retry_delays"),
            format!("lists at most {} delays", Self::MAX_RETRIES),
        );
        for (i, d) in retry_delays.iter().enumerate() {
            v.check(
                Self::RETRY_DELAY_RANGE.contains(d) && d.subsec_nanos() == 0,
                format!("{field}.retry_delays[{i}]"),
                "must be whole seconds from 1 s to 24 h",
            );
        }
        v.check(
            max_per_second <= Self::MAX_PER_SECOND,
            format!("{field}.max_requests_per_second"),
            format!("must be 0 (no limit) to {}", Self::MAX_PER_SECOND),
        );
        Self {
            retry_delays: (!retry_delays.is_empty()).then_some(retry_delays),
            max_per_second: (max_per_second > 0).then_some(max_per_second),
        }
    }
}

/// A supplier as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supplier {
    /// Its id.
    pub id: SupplierId,
    /// The seller it belongs to.
    pub tenant: TenantId,
    /// Its name.
    pub display_name: DisplayName,
    /// How to reach it.
    pub connector: Connector,
    /// Who takes over when its SLA breach action is FAILOVER.
    pub backup: Option<SupplierId>,
    /// How deliveries to it are paced and retried.
    pub delivery: DeliveryPolicy,
    /// Starts at 1, grows by one with each update; the optimistic-concurrency token.
    pub version: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// What a seller gives to create a supplier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSupplier {
    /// Its name.
    pub display_name: DisplayName,
    /// How to reach it.
    pub connector: Connector,
    /// An existing supplier of the same tenant to fail over to.
    pub backup: Option<SupplierId>,
    /// How deliveries to it are paced and retried.
    pub delivery: DeliveryPolicy,
}

/// A partial update: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupplierChanges {
    /// New name.
    pub display_name: Option<DisplayName>,
    /// New connector.
    pub connector: Option<Connector>,
    /// New backup: `Some(None)` removes it.
    pub backup: Option<Option<SupplierId>>,
    /// New delivery policy.
    pub delivery: Option<DeliveryPolicy>,
    /// Refuse the update unless the stored version is this one.
    pub expected_version: Option<i64>,
}

impl SupplierChanges {
    /// Rules that need the supplier's own id: a supplier cannot back itself up.
    pub fn check_for(&self, id: SupplierId) -> Result<(), DomainError> {
        let mut v = Violations::default();
        v.check(
            self.backup != Some(Some(id)),
            BACKUP_FIELD,
            "a supplier cannot be its own backup; name another supplier of the same seller",
        );
        v.finish()
    }

    /// Applies the changes to `current`, bumping its version. Fails on a stale `expected_version`.
    pub fn apply(self, current: &Supplier, now: DateTime<Utc>) -> Result<Supplier, DomainError> {
        if let Some(expected) = self.expected_version
            && expected != current.version
        {
            return Err(DomainError::VersionConflict {
                expected,
                current: current.version,
            });
        }
        Ok(Supplier {
            id: current.id,
            tenant: current.tenant.clone(),
            display_name: self
                .display_name
                .unwrap_or_else(|| current.display_name.clone()),
            connector: self.connector.unwrap_or_else(|| current.connector.clone()),
            backup: self.backup.unwrap_or(current.backup),
            delivery: self.delivery.unwrap_or_else(|| current.delivery.clone()),
            version: current.version + 1,
            created_at: current.created_at,
            updated_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Acme  ").unwrap().as_str(), "Acme");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"é".repeat(200)).is_ok());
        assert!(DisplayName::parse(&"é".repeat(201)).is_err());
        assert!(DisplayName::parse("Acme\u{0}").is_err());
    }

    #[test]
    fn endpoints_need_https_except_on_loopback() {
        assert!(EndpointUrl::parse("https://supplier.example/hooks").is_ok());
        assert!(EndpointUrl::parse("http://127.0.0.1:8080/hooks").is_ok());
        assert!(EndpointUrl::parse("http://localhost/hooks").is_ok());
        assert!(EndpointUrl::parse("http://[::1]:9/x").is_ok());
        for bad in [
            "http://supplier.example/hooks",
            "ftp://supplier.example",
            "supplier.example/hooks",
            "https://user:pw@supplier.example",
            "https://supplier.example/#frag",
            "",
        ] {
            assert!(
                EndpointUrl::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        let long = format!("https://supplier.example/{}", "a".repeat(2048));
        assert!(EndpointUrl::parse(&long).is_err());
    }

    fn supplier() -> Supplier {
        Supplier {
            id: SupplierId::generate(),
            tenant: TenantId::parse("acme").unwrap(),
            display_name: DisplayName::parse("Acme").unwrap(),
            connector: Connector::Webhook {
                url: EndpointUrl::parse("https://acme.example/hook").unwrap(),
            },
            backup: None,
            delivery: DeliveryPolicy::default(),
            version: 3,
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_supplier_cannot_be_its_own_backup() {
        let s = supplier();
        let changes = SupplierChanges {
            backup: Some(Some(s.id)),
            ..Default::default()
        };
        assert!(matches!(
            changes.check_for(s.id),
            Err(DomainError::InvalidArgument(_))
        ));
    }

    #[test]
    fn a_stale_expected_version_is_a_conflict_naming_the_current_one() {
        let s = supplier();
        let changes = SupplierChanges {
            expected_version: Some(2),
            ..Default::default()
        };
        assert_eq!(
            changes.apply(&s, Utc::now()),
            Err(DomainError::VersionConflict {
                expected: 2,
                current: 3
            })
        );
    }

    #[test]
    fn applying_changes_keeps_unnamed_fields_and_bumps_the_version() {
        let s = supplier();
        let changes = SupplierChanges {
            display_name: Some(DisplayName::parse("Acme GmbH").unwrap()),
            ..Default::default()
        };
        let updated = changes.apply(&s, Utc::now()).unwrap();
        assert_eq!(updated.display_name.as_str(), "Acme GmbH");
        assert_eq!(updated.connector, s.connector);
        assert_eq!(updated.version, 4);
    }
}
