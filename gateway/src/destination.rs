//! Where deliveries may go. A supplier's URL is the seller's input, so without this guard a seller
//! could make the gateway POST into our own network (the cloud metadata service, the database,
//! admin ports). The check runs at delivery time on the addresses the name resolves to now, and the
//! connection goes to exactly those checked addresses, so re-pointing DNS after the check gains
//! nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Why a target was not connected to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    /// The name did not resolve (a connection error: worth a retry).
    #[error("{host} does not resolve: {why}")]
    Unresolved {
        /// The host.
        host: String,
        /// The resolver's answer.
        why: String,
    },
    /// It resolves to an address deliveries may not go to.
    #[error(
        "{host} resolves to {addr}, a {class} address; deliveries go to public addresses only (gateway.allow_private_destinations)"
    )]
    Refused {
        /// The host.
        host: String,
        /// The refused address.
        addr: IpAddr,
        /// loopback, private, ...
        class: &'static str,
    },
}

/// Decides which addresses deliveries may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DestinationGuard {
    /// Also allow loopback, private, link-local and metadata addresses (tests, the simulator).
    pub allow_private: bool,
}

impl DestinationGuard {
    /// The addresses of `host:port`, every one of them allowed, or why not. One refused address
    /// refuses the host: a name that mixes public and internal addresses is not trusted.
    pub async fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> Result<Vec<SocketAddr>, DestinationError> {
        // `url` keeps the brackets of an IPv6 literal; the resolver wants them off.
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((bare, port))
                .await
                .map_err(|e| DestinationError::Unresolved {
                    host: host.to_owned(),
                    why: e.to_string(),
                })?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(DestinationError::Unresolved {
                host: host.to_owned(),
                why: "no addresses".into(),
            });
        }
        if !self.allow_private {
            for addr in &addrs {
                if let Some(class) = internal(addr.ip()) {
                    return Err(DestinationError::Refused {
                        host: host.to_owned(),
                        addr: addr.ip(),
                        class,
                    });
                }
            }
        }
        Ok(addrs)
    }
}

/// The class of an address deliveries may not go to, or `None` for a public one.
pub fn internal(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => internal_v4(v4),
            None => internal_v6(v6),
        },
    }
}

fn internal_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_link_local() {
        // 169.254.169.254 is the cloud metadata service.
        Some("link-local or metadata")
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        // RFC 1918, and the carrier-grade NAT range some clouds use inside their networks.
        Some("private")
    } else if ip.is_unspecified() || a == 0 || ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("reserved")
    } else {
        None
    }
}

fn internal_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("loopback")
    } else if (first & 0xffc0) == 0xfe80 {
        Some("link-local or metadata")
    } else if (first & 0xfe00) == 0xfc00 {
        // Unique local addresses, including AWS's fd00:ec2::254 metadata service.
        Some("private")
    } else if ip.is_unspecified() || ip.is_multicast() {
        Some("reserved")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_private_link_local_and_metadata_addresses_are_internal() {
        for (ip, class) in [
            ("127.0.0.1", "loopback"),
            ("::1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("100.64.0.1", "private"),
            ("169.254.169.254", "link-local or metadata"),
            ("fe80::1", "link-local or metadata"),
            ("fd00:ec2::254", "private"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("0.0.0.0", "reserved"),
            ("::", "reserved"),
        ] {
            assert_eq!(internal(ip.parse().unwrap()), Some(class), "{ip}");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ip in ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "100.128.0.1"] {
            assert_eq!(internal(ip.parse().unwrap()), None, "{ip}");
        }
    }

    #[tokio::test]
    async fn a_loopback_target_is_refused_unless_private_destinations_are_allowed() {
        let strict = DestinationGuard {
            allow_private: false,
        };
        let refused = strict.resolve("127.0.0.1", 8080).await;
        assert!(
            matches!(
                refused,
                Err(DestinationError::Refused {
                    class: "loopback",
                    ..
                })
            ),
            "{refused:?}"
        );
        let localhost = strict.resolve("localhost", 8080).await;
        assert!(
            matches!(localhost, Err(DestinationError::Refused { .. })),
            "{localhost:?}"
        );
        let lenient = DestinationGuard {
            allow_private: true,
        };
        assert_eq!(
            lenient.resolve("[::1]", 8080).await.unwrap(),
            vec!["[::1]:8080".parse().unwrap()]
        );
    }
}
