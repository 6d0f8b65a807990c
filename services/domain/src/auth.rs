//! Who may call what: API key scopes.

use std::fmt;

/// What an API key allows. A seller key usually holds every seller scope; a supplier key holds
/// [`Scope::SupplierCallbacks`] only and is bound to one supplier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read suppliers, contracts and seller settings.
    ContractsRead,
    /// Create and change suppliers, contracts and seller settings.
    ContractsWrite,
    /// Read returns, their events and the event stream.
    ReturnsRead,
    /// Authorize returns and record their progress.
    ReturnsWrite,
    /// Read liability quotes, splits and settlement statements.
    LiabilityRead,
    /// Read SLA reports, breaches and return analytics.
    SlaRead,
    /// Answer forwarded requests as a supplier (SupplierCallbackService).
    SupplierCallbacks,
}

impl Scope {
    /// Every scope, in display order.
    pub const ALL: [Scope; 7] = [
        Scope::ContractsRead,
        Scope::ContractsWrite,
        Scope::ReturnsRead,
        Scope::ReturnsWrite,
        Scope::LiabilityRead,
        Scope::SlaRead,
        Scope::SupplierCallbacks,
    ];

    /// What a seller backend key gets when no scopes are named.
    pub const SELLER_DEFAULT: [Scope; 6] = [
        Scope::ContractsRead,
        Scope::ContractsWrite,
        Scope::ReturnsRead,
        Scope::ReturnsWrite,
        Scope::LiabilityRead,
        Scope::SlaRead,
    ];

    /// The scope's name as stored and typed (`returns:write`).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ContractsRead => "contracts:read",
            Scope::ContractsWrite => "contracts:write",
            Scope::ReturnsRead => "returns:read",
            Scope::ReturnsWrite => "returns:write",
            Scope::LiabilityRead => "liability:read",
            Scope::SlaRead => "sla:read",
            Scope::SupplierCallbacks => "supplier:callbacks",
        }
    }

    /// Parses a scope name.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Scope::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                let names: Vec<_> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown scope {raw:?}; known scopes: {}", names.join(", "))
            })
    }

    /// Parses a comma-separated list, as stored and as typed on the command line.
    pub fn parse_list(raw: &str) -> Result<Vec<Self>, String> {
        let mut scopes = raw
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Scope::parse)
            .collect::<Result<Vec<_>, _>>()?;
        scopes.sort();
        scopes.dedup();
        Ok(scopes)
    }

    /// Joins scopes into the stored comma-separated form.
    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Checks the scopes a new key would hold: a supplier's key holds [`Scope::SupplierCallbacks`]
/// only (a seller scope would let one supplier read and change what belongs to the seller and to
/// other suppliers), and that scope needs a supplier to act for.
pub fn check_key_scopes(supplier_bound: bool, scopes: &[Scope]) -> Result<(), String> {
    if scopes.is_empty() {
        return Err("name at least one scope".into());
    }
    let callbacks = scopes.contains(&Scope::SupplierCallbacks);
    match (supplier_bound, callbacks) {
        (true, _) if scopes.len() > 1 || !callbacks => Err(format!(
            "a supplier's key may hold {} only; seller scopes need a key without a supplier",
            Scope::SupplierCallbacks
        )),
        (false, true) => Err(format!(
            "{} acts for one supplier: create the key with a supplier",
            Scope::SupplierCallbacks
        )),
        _ => Ok(()),
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_lists_round_trip_sorted_and_deduplicated() {
        let parsed = Scope::parse_list("returns:write, contracts:read,returns:write").unwrap();
        assert_eq!(parsed, vec![Scope::ContractsRead, Scope::ReturnsWrite]);
        assert_eq!(Scope::parse_list(&Scope::join(&parsed)).unwrap(), parsed);
    }

    #[test]
    fn a_supplier_key_holds_the_callback_scope_only() {
        assert!(check_key_scopes(true, &[Scope::SupplierCallbacks]).is_ok());
        assert!(check_key_scopes(true, &[Scope::ReturnsRead]).is_err());
        assert!(check_key_scopes(true, &[Scope::SupplierCallbacks, Scope::ReturnsWrite]).is_err());
        assert!(check_key_scopes(true, &[]).is_err());
    }

    #[test]
    fn a_seller_key_cannot_hold_the_callback_scope() {
        assert!(check_key_scopes(false, &Scope::SELLER_DEFAULT).is_ok());
        assert!(check_key_scopes(false, &[Scope::SupplierCallbacks]).is_err());
    }

    #[test]
    fn unknown_scope_names_the_known_ones() {
        let err = Scope::parse("returns:delete").unwrap_err();
        assert!(err.contains("returns:write"));
    }
}
