//! A seller with a supplier that decides every return itself, and that supplier's own key: what the
//! supplier callback tests (gRPC and JSON) start from.

use crate::fixtures::{authorize, defective, supplier_decides_terms, supplier_with_contract};
use crate::{Auth, TestApp};
use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::SupplierId;
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::supplier_callback_service_client::SupplierCallbackServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// A SupplierCallbackService client holding the supplier's key.
pub type Callbacks = SupplierCallbackServiceClient<InterceptedService<Channel, Auth>>;

/// A seller with a supplier that decides every return first, and that supplier's own key.
pub struct SupplierWorld {
    /// The seller's key.
    pub seller: String,
    /// The supplier's id.
    pub supplier: String,
    /// The supplier's own key (supplier callbacks only).
    pub supplier_key: String,
}

impl SupplierWorld {
    /// Creates them for `tenant`.
    pub async fn new(app: &TestApp, tenant: &str) -> Self {
        let seller = app.seller_key(tenant).await;
        let mut contracts = app.contracts(Auth::key(&seller));
        let supplier = supplier_with_contract(&mut contracts, supplier_decides_terms()).await;
        let id = SupplierId::parse(&supplier).unwrap();
        let (_, supplier_key) = app
            .key_with(tenant, Some(id), &[Scope::SupplierCallbacks])
            .await;
        Self {
            seller,
            supplier,
            supplier_key,
        }
    }

    /// SupplierCallbackService as the supplier.
    pub fn callbacks(&self, app: &TestApp) -> Callbacks {
        SupplierCallbackServiceClient::with_interceptor(
            app.channel.clone(),
            Auth::key(&self.supplier_key),
        )
    }

    /// A covered defect claim, waiting for the supplier: the return and its request id. `customer`
    /// is the customer's jurisdiction.
    pub async fn pending(
        &self,
        app: &TestApp,
        order: &str,
        customer: &str,
    ) -> (pb::Return, String) {
        let mut request = defective(
            &self.supplier,
            order,
            &["https://photos.example/broken.jpg"],
        );
        if let Some(o) = request.order.as_mut() {
            o.customer_jurisdiction = customer.into();
        }
        let r = authorize(app, &self.seller, request).await;
        assert_eq!(r.status, pb::ReturnStatus::PendingSupplier as i32, "{r:#?}");
        let id = r.supplier_requests[0].request_id.clone();
        (r, id)
    }
}
