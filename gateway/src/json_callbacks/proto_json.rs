//! Proto3 JSON both ways over the descriptors the proto crate embeds (plus `google.rpc`'s, for
//! error details), so field and enum names are the API's own, exactly as gRPC transcoding spells
//! them: lowerCamelCase out, either spelling in, enums by name, 64-bit integers as strings.

use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, SerializeOptions};
use returnbridge_convert::error::ApiError;
use returnbridge_domain::DomainError;
use std::sync::OnceLock;
use tonic::Status;

/// `returnbridge.v1` and `google.rpc` in one pool: error details are `Any`s of the latter.
fn pool() -> Result<&'static DescriptorPool, Status> {
    static POOL: OnceLock<Result<DescriptorPool, String>> = OnceLock::new();
    POOL.get_or_init(|| {
        let mut pool = DescriptorPool::decode(returnbridge_proto::FILE_DESCRIPTOR_SET)
            .map_err(|e| e.to_string())?;
        pool.decode_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
            .map_err(|e| e.to_string())?;
        Ok(pool)
    })
    .as_ref()
    .map_err(|e| {
        tracing::error!(error = %e, "the embedded API descriptors do not decode");
        Status::internal("internal error")
    })
}

fn descriptor(full_name: &str) -> Result<MessageDescriptor, Status> {
    pool()?.get_message_by_name(full_name).ok_or_else(|| {
        tracing::error!(
            message = full_name,
            "no such message in the API descriptors"
        );
        Status::internal("internal error")
    })
}

/// The request message `name` (in `returnbridge.v1`) read from a JSON body. Unknown fields are
/// refused, as a typo must not silently drop what the supplier meant; the problem is a field
/// violation on `body`.
pub fn read<M: prost::Message + Default>(name: &str, body: &[u8]) -> Result<M, Status> {
    let desc = descriptor(&format!("returnbridge.v1.{name}"))?;
    let mut de = serde_json::Deserializer::from_slice(body);
    let dynamic = DynamicMessage::deserialize(desc, &mut de)
        .and_then(|m| de.end().map(|()| m))
        .map_err(|e| {
            Status::from(ApiError::from(DomainError::invalid(
                "body",
                format!("is not a returnbridge.v1.{name} in proto3 JSON: {e}"),
            )))
        })?;
    // The same descriptors generated M, so this only fails on a build that mixes versions.
    dynamic.transcode_to::<M>().map_err(|e| {
        tracing::error!(error = %e, message = name, "JSON request does not transcode");
        Status::internal("internal error")
    })
}

/// `msg`, the response message `name` (in `returnbridge.v1`), as proto3 JSON.
pub fn write<M: prost::Message>(name: &str, msg: &M) -> Result<Vec<u8>, Status> {
    let desc = descriptor(&format!("returnbridge.v1.{name}"))?;
    let dynamic = DynamicMessage::decode(desc, msg.encode_to_vec().as_slice()).map_err(|e| {
        tracing::error!(error = %e, message = name, "response does not re-read for JSON");
        Status::internal("internal error")
    })?;
    to_vec(&dynamic)
}

/// The `details` of a status as proto3 JSON: each `google.rpc` detail (`ErrorInfo`, `BadRequest`,
/// `RetryInfo`, ...) with its `@type`. Empty when the status carries none.
pub fn details(status: &Status) -> serde_json::Value {
    let empty = serde_json::Value::Array(Vec::new());
    if status.details().is_empty() {
        return empty;
    }
    let read = descriptor("google.rpc.Status").and_then(|desc| {
        let rpc_status = DynamicMessage::decode(desc, status.details()).map_err(|e| {
            tracing::error!(error = %e, "status details do not decode");
            Status::internal("internal error")
        })?;
        let text = to_vec(&rpc_status)?;
        serde_json::from_slice::<serde_json::Value>(&text)
            .map_err(|_| Status::internal("internal error"))
    });
    match read {
        Ok(mut rpc_status) => rpc_status
            .get_mut("details")
            .map(serde_json::Value::take)
            .unwrap_or(empty),
        Err(_) => empty,
    }
}

fn to_vec(msg: &DynamicMessage) -> Result<Vec<u8>, Status> {
    let mut out = serde_json::Serializer::new(Vec::new());
    msg.serialize_with_options(&mut out, &SerializeOptions::new())
        .map_err(|e| {
            tracing::error!(error = %e, "writing proto3 JSON failed");
            Status::internal("internal error")
        })?;
    Ok(out.into_inner())
}
