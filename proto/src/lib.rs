//! Generated types and clients/servers for `returnbridge.v1`. Never edit generated code: change the
//! `.proto` files under `returnbridge/v1` instead.

/// The `returnbridge.v1` package.
#[allow(clippy::all, missing_docs)]
pub mod v1 {
    tonic::include_proto!("returnbridge.v1");
}

/// Encoded `FileDescriptorSet` of every `returnbridge.v1` file, served by gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/returnbridge_descriptor.bin"));
