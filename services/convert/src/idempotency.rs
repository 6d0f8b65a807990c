//! The `idempotency-key` metadata of mutating calls.

use crate::error::ApiError;
use prost::Message;
use returnbridge_domain::DomainError;
use returnbridge_store::{Applied, IdempotencyClaim, StoreError};
use sha2::{Digest, Sha256};
use tonic::metadata::MetadataMap;

/// Metadata key carrying the caller's idempotency key.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// As return_service.proto documents: 1 to 200 printable ASCII characters.
const MAX_LEN: usize = 200;

/// Reads the key; `required` makes its absence an INVALID_ARGUMENT.
pub fn idempotency_key(metadata: &MetadataMap, required: bool) -> Result<Option<String>, ApiError> {
    let Some(value) = metadata.get(IDEMPOTENCY_KEY) else {
        return if required {
            Err(DomainError::invalid(
                IDEMPOTENCY_KEY,
                "this call requires `idempotency-key` metadata: a unique value (a UUID, say) per logical request, \
                 repeated unchanged on every retry",
            )
            .into())
        } else {
            Ok(None)
        };
    };
    let key = value.to_str().unwrap_or_default();
    let printable = key.bytes().all(|b| b.is_ascii_graphic());
    if key.is_empty() || key.len() > MAX_LEN || !printable {
        return Err(DomainError::invalid(
            IDEMPOTENCY_KEY,
            format!("must be 1 to {MAX_LEN} printable ASCII characters without spaces"),
        )
        .into());
    }
    Ok(Some(key.to_owned()))
}

/// One mutating call's idempotency: the caller's key, when it sent one, and the hash of the RPC and
/// its request (what decides "the same request" for a repeated key).
pub struct Idempotency {
    key: Option<String>,
    hash: [u8; 32],
}

impl Idempotency {
    /// Reads the key from `metadata` (`required`: its absence is INVALID_ARGUMENT) and hashes
    /// `request` under `rpc`.
    pub fn of(
        metadata: &MetadataMap,
        rpc: &str,
        request: &impl Message,
        required: bool,
    ) -> Result<Self, ApiError> {
        Ok(Self::new(
            idempotency_key(metadata, required)?,
            rpc,
            request,
        ))
    }

    /// `key` (already read) for `request` under `rpc`.
    pub fn new(key: Option<String>, rpc: &str, request: &impl Message) -> Self {
        let mut h = Sha256::new();
        h.update(rpc.as_bytes());
        h.update([0]);
        h.update(request.encode_to_vec());
        Self {
            key,
            hash: h.finalize().into(),
        }
    }

    /// No key: a change the system makes on its own.
    pub fn none() -> Self {
        Self {
            key: None,
            hash: [0; 32],
        }
    }

    /// The claim for the store, keeping the answer `encode` renders; `None` without a key.
    pub fn claim<'a, T>(&'a self, encode: &'a Encoder<'a, T>) -> Option<IdempotencyClaim<'a, T>> {
        self.key.as_deref().map(|key| IdempotencyClaim {
            key,
            request_hash: self.hash,
            encode,
        })
    }
}

/// Renders the answer the store keeps for replays.
pub type Encoder<'a, T> = dyn Fn(&T) -> Result<Vec<u8>, StoreError> + Send + Sync + 'a;

/// An [`Encoder`] for an answer that renders without failing.
pub fn keep<T, R: Message>(
    render: &(impl Fn(&T) -> R + Send + Sync),
) -> impl Fn(&T) -> Result<Vec<u8>, StoreError> + Send + Sync {
    move |value| Ok(render(value).encode_to_vec())
}

/// The answer to send: freshly rendered, or exactly the one stored by the first call.
pub fn answer<T, R: Message + Default>(
    applied: Applied<T>,
    render: impl Fn(&T) -> R,
) -> Result<R, ApiError> {
    try_answer(applied, |value| Ok(render(value)))
}

/// [`answer`] for a rendering that can fail (decoding a stored document).
pub fn try_answer<T, R: Message + Default>(
    applied: Applied<T>,
    render: impl Fn(&T) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    match applied {
        Applied::New(value) => render(&value),
        Applied::Replayed(bytes) => R::decode(bytes.as_slice()).map_err(|e| {
            ApiError::Store(StoreError::Corrupt(format!(
                "stored idempotent answer: {e}"
            )))
        }),
    }
}
