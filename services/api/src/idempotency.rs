//! The `idempotency-key` metadata of mutating calls.

use crate::error::ApiError;
use prost::Message;
use returnbridge_domain::DomainError;
use returnbridge_store::{Applied, IdempotencyClaim};
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

/// Hash of the RPC and its request: what decides "same request" for a repeated key.
pub fn request_hash(rpc: &str, request: &impl Message) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(rpc.as_bytes());
    h.update([0]);
    h.update(request.encode_to_vec());
    h.finalize().into()
}

/// Builds the claim for a store call from an optional key.
pub fn claim<'a, T>(
    key: Option<&'a str>,
    hash: [u8; 32],
    encode: &'a (dyn Fn(&T) -> Vec<u8> + Send + Sync),
) -> Option<IdempotencyClaim<'a, T>> {
    key.map(|key| IdempotencyClaim {
        key,
        request_hash: hash,
        encode,
    })
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
            ApiError::Store(returnbridge_store::StoreError::Corrupt(format!(
                "stored idempotent answer: {e}"
            )))
        }),
    }
}
