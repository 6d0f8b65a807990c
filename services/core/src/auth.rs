//! API keys: how they are made, and how a caller is matched to its tenant and scopes. Transports
//! hand over the `authorization` value (`Bearer <key>`) and map [`AuthError`] to their own answers.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use returnbridge_domain::ErrorReason;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::{ApiKeyId, SupplierId, TenantId};
use returnbridge_store::{Store, StoreError};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Why a caller was turned away.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No usable key: missing, malformed, unknown or revoked (`reason` says which).
    #[error("{message}")]
    Unauthenticated {
        /// Which of the key reasons (`API_KEY_MISSING`, `API_KEY_REVOKED`, ...).
        reason: ErrorReason,
        /// What to do about it.
        message: String,
    },
    /// The key lacks the scope the call needs.
    #[error("this API key lacks the {scope} scope")]
    MissingScope {
        /// The scope needed.
        scope: &'static str,
    },
    /// A supplier's key was used for a seller's call.
    #[error("a supplier key cannot use {scope}")]
    SupplierKey {
        /// The scope the call needs.
        scope: &'static str,
    },
    /// The keys could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Prefix of every API key, so leaked keys are easy to recognise and scan for.
pub const API_KEY_PREFIX: &str = "rbk_";

/// A new API key: the secret to show once, and the hash to store.
pub struct GeneratedKey {
    /// The whole key, as the caller sends it after `Bearer `.
    pub secret: String,
    /// SHA-256 of `secret`, the only form that is stored.
    pub hash: [u8; 32],
}

/// Makes a key with 256 random bits. A fast hash suffices for storage: the secret is random, not a
/// password, so there is nothing to brute-force.
pub fn generate_api_key() -> GeneratedKey {
    let secret = format!(
        "{API_KEY_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
    );
    let hash = hash_api_key(&secret);
    GeneratedKey { secret, hash }
}

/// The stored form of a key.
pub fn hash_api_key(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A Standard Webhooks signing secret (`whsec_` + base64 of 24 random bytes).
pub fn generate_webhook_secret() -> String {
    format!("whsec_{}", STANDARD.encode(rand::random::<[u8; 24]>()))
}

/// Who is calling: resolved from the `authorization` value.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The key used.
    pub key_id: ApiKeyId,
    /// The tenant the key acts for; every read and write is scoped to it.
    pub tenant: TenantId,
    /// For a supplier's key, the one supplier it acts for.
    pub supplier: Option<SupplierId>,
    /// What the key may do.
    pub scopes: Vec<Scope>,
    /// The stored hash of the key, to check again that it still holds (long-lived streams).
    key_hash: [u8; 32],
}

/// Resolves callers against the stored keys.
#[derive(Clone)]
pub struct Authenticator {
    store: Arc<dyn Store>,
}

impl Authenticator {
    /// Checks keys against `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The caller behind `authorization: Bearer <key>` (`None`: no such metadata or header), if it
    /// holds `scope`.
    pub async fn authorize(
        &self,
        authorization: Option<&str>,
        scope: Scope,
    ) -> Result<Principal, AuthError> {
        let principal = self.authenticate(authorization).await?;
        // A supplier's key acts for that supplier only: it answers forwarded requests and never
        // reaches the seller's surface, whatever scopes an older key row may still list.
        if principal.supplier.is_some() && scope != Scope::SupplierCallbacks {
            return Err(AuthError::SupplierKey {
                scope: scope.as_str(),
            });
        }
        if !principal.scopes.contains(&scope) {
            return Err(AuthError::MissingScope {
                scope: scope.as_str(),
            });
        }
        Ok(principal)
    }

    /// Checks again that `principal`'s key is still valid and holds `scope`: a long-lived call (an
    /// event stream) ends once its key is revoked.
    pub async fn recheck(&self, principal: &Principal, scope: Scope) -> Result<(), AuthError> {
        let record = self.store.find_api_key(&principal.key_hash).await?;
        match record {
            Some(r) if r.revoked_at.is_none() => {
                if r.scopes.contains(&scope) {
                    Ok(())
                } else {
                    Err(AuthError::MissingScope {
                        scope: scope.as_str(),
                    })
                }
            }
            _ => Err(AuthError::Unauthenticated {
                reason: ErrorReason::ApiKeyRevoked,
                message: "this API key was revoked; use another key".into(),
            }),
        }
    }

    async fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, AuthError> {
        let unauthenticated = |reason, message: &str| AuthError::Unauthenticated {
            reason,
            message: message.to_owned(),
        };
        let header = authorization.ok_or_else(|| {
            unauthenticated(
                ErrorReason::ApiKeyMissing,
                "send an API key as `authorization: Bearer <key>` metadata (create one with `returnbridge keys create`)",
            )
        })?;
        let key = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                unauthenticated(
                    ErrorReason::ApiKeyMalformed,
                    "the authorization metadata must be `Bearer <key>`",
                )
            })?;
        let key_hash = hash_api_key(key);
        let record = self.store.find_api_key(&key_hash).await?.ok_or_else(|| {
            unauthenticated(ErrorReason::ApiKeyInvalid, "this API key is not known")
        })?;
        if record.revoked_at.is_some() {
            return Err(unauthenticated(
                ErrorReason::ApiKeyRevoked,
                "this API key was revoked; use another key",
            ));
        }
        Ok(Principal {
            key_id: record.id,
            tenant: record.tenant,
            supplier: record.supplier,
            scopes: record.scopes,
            key_hash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_distinct_prefixed_and_hash_to_their_stored_form() {
        let a = generate_api_key();
        let b = generate_api_key();
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with(API_KEY_PREFIX));
        assert_eq!(hash_api_key(&a.secret), a.hash);
    }

    #[test]
    fn webhook_secrets_follow_the_standard_webhooks_form() {
        let s = generate_webhook_secret();
        let raw = STANDARD.decode(s.strip_prefix("whsec_").unwrap()).unwrap();
        assert_eq!(raw.len(), 24);
    }
}
