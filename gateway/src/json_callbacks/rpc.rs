//! Each operation as the JSON endpoint calls it: its messages' names, the id field its path fills,
//! and the SupplierCallbackService method behind it (the gRPC service's own, so both transports
//! run one code path).

use crate::SupplierCallbacks;
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::supplier_callback_service_server::SupplierCallbackService;
use std::future::Future;
use std::pin::Pin;
use tonic::{Request, Response, Status};

/// What a call of the service returns (tonic's async-trait methods box their futures).
pub type Answer<'a, T> = Pin<Box<dyn Future<Output = Result<Response<T>, Status>> + Send + 'a>>;

/// One SupplierCallbackService RPC, keyed by its request message.
pub trait CallbackRpc: prost::Message + Default + Sized + 'static {
    /// The response message.
    type Response: prost::Message;
    /// The gRPC method, for the call's log line.
    const METHOD: &'static str;
    /// The request and response messages' names in `returnbridge.v1`.
    const REQUEST: &'static str;
    const RESPONSE: &'static str;
    /// The field the path's id fills.
    const ID_FIELD: &'static str;
    /// That field.
    fn id(&mut self) -> &mut String;
    /// Calls the service.
    fn call(callbacks: &SupplierCallbacks, request: Request<Self>) -> Answer<'_, Self::Response>;
}

macro_rules! callback_rpc {
    ($request:ident, $response:ident, $method:ident, $rpc:literal, $id:ident) => {
        impl CallbackRpc for pb::$request {
            type Response = pb::$response;
            const METHOD: &'static str = concat!("/returnbridge.v1.SupplierCallbackService/", $rpc);
            const REQUEST: &'static str = stringify!($request);
            const RESPONSE: &'static str = stringify!($response);
            const ID_FIELD: &'static str = stringify!($id);
            fn id(&mut self) -> &mut String {
                &mut self.$id
            }
            fn call(
                callbacks: &SupplierCallbacks,
                request: Request<Self>,
            ) -> Answer<'_, Self::Response> {
                callbacks.$method(request)
            }
        }
    };
}

callback_rpc!(
    AcknowledgeRequestRequest,
    AcknowledgeRequestResponse,
    acknowledge_request,
    "AcknowledgeRequest",
    request_id
);
callback_rpc!(
    SubmitDecisionRequest,
    SubmitDecisionResponse,
    submit_decision,
    "SubmitDecision",
    request_id
);
callback_rpc!(
    ReportReceiptRequest,
    ReportReceiptResponse,
    report_receipt,
    "ReportReceipt",
    return_id
);
callback_rpc!(
    ReportInspectionRequest,
    ReportInspectionResponse,
    report_inspection,
    "ReportInspection",
    return_id
);
callback_rpc!(
    ConfirmCreditRequest,
    ConfirmCreditResponse,
    confirm_credit,
    "ConfirmCredit",
    return_id
);
