//! The liability vocabulary: parties, components, the table's rows and the stable rule codes.

use crate::decision::FaultClass;

named_enum!(
    /// Who can bear a cost. The declaration order is the fixed tie order of every remainder.
    Party {
        /// The supplier that shipped the goods.
        Supplier => "SUPPLIER",
        /// The seller, who sold to the customer.
        Seller => "SELLER",
        /// The end customer.
        Customer => "CUSTOMER",
        /// The carrier, through a claim.
        Carrier => "CARRIER",
    }
);

named_enum!(
    /// A cost component of a return.
    Component {
        /// Retail price paid for the resolved units.
        ItemPrice => "ITEM_PRICE",
        /// The original outbound delivery, pro rata for a partial return.
        OutboundShipping => "OUTBOUND_SHIPPING",
        /// The return label.
        ReturnShipping => "RETURN_SHIPPING",
        /// Goodwill, keep-with-allowance, or late-delivery compensation.
        Compensation => "COMPENSATION",
    }
);

impl Party {
    /// Position in the fixed order.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl Component {
    /// Position in [`Component::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

named_enum!(
    /// The row of docs/design.md's table a split applied: the decision's fault class, changed by
    /// inspection (customer damage, or a defect not found).
    LiabilityFault {
        /// The supplier.
        Supplier => "SUPPLIER",
        /// The carrier.
        Carrier => "CARRIER",
        /// The seller (listing, or transit damage it took on).
        Seller => "SELLER",
        /// The customer damaged the goods (found at inspection).
        Customer => "CUSTOMER",
        /// Nobody.
        NoFault => "NO_FAULT",
        /// A late-delivery compensation claim.
        LateDelivery => "LATE_DELIVERY",
    }
);

impl From<FaultClass> for LiabilityFault {
    fn from(f: FaultClass) -> Self {
        match f {
            FaultClass::Supplier => Self::Supplier,
            FaultClass::Carrier => Self::Carrier,
            FaultClass::Seller => Self::Seller,
            FaultClass::NoFault => Self::NoFault,
            FaultClass::LateDelivery => Self::LateDelivery,
        }
    }
}

named_enum!(
    /// Why a party bears an allocation: a stable code, never renamed or reused.
    Rule {
        /// Supplier fault under `defect_coverage=FULL_RETAIL`: the supplier funds everything.
        SupplierFaultFullRetail => "SUPPLIER_FAULT_FULL_RETAIL",
        /// Supplier fault under `WHOLESALE`: the supplier funds the unit cost of the units.
        WholesaleUnitCost => "WHOLESALE_UNIT_COST",
        /// Supplier fault under `WHOLESALE`: the supplier funds the label.
        SupplierFaultReturnShipping => "SUPPLIER_FAULT_RETURN_SHIPPING",
        /// The seller funds its margin: the price less what others fund.
        SellerMargin => "SELLER_MARGIN",
        /// The seller funds the outbound refund of a fault return (WHOLESALE, carrier).
        SellerOutboundRefund => "SELLER_OUTBOUND_REFUND",
        /// The carrier bears transit damage (`transit_damage_party=CARRIER`): a claim.
        CarrierClaim => "CARRIER_CLAIM",
        /// The seller's fault (its listing, or transit damage it took on).
        SellerFault => "SELLER_FAULT",
        /// The supplier takes the units back and credits their unit cost less its restocking fee.
        SupplierUnitCostLessRestocking => "SUPPLIER_UNIT_COST_LESS_RESTOCKING",
        /// The seller bears the restocking fee the supplier keeps.
        SupplierRestockingFee => "SUPPLIER_RESTOCKING_FEE",
        /// The customer pays the seller's restocking fee in full.
        CustomerRestockingFee => "CUSTOMER_RESTOCKING_FEE",
        /// The customer pays the seller's restocking fee, reduced by the statutory cap (or so that
        /// the seller gains nothing from the return).
        CustomerRestockingFeeCapped => "CUSTOMER_RESTOCKING_FEE_CAPPED",
        /// The seller refunds the outbound delivery because the statute makes it refundable.
        StatutoryOutboundRefund => "STATUTORY_OUTBOUND_REFUND",
        /// No rule makes the outbound delivery refundable: the customer keeps having paid it.
        OutboundNotRefunded => "OUTBOUND_NOT_REFUNDED",
        /// A no-fault label, borne by `no_fault_return_shipping_payer`.
        ReturnShippingPayer => "RETURN_SHIPPING_PAYER",
        /// The customer is entitled by law or seller policy only: the seller bears what the contract
        /// does not cover.
        PolicyGapSeller => "POLICY_GAP_SELLER",
        /// The original packaging the contract requires is missing: the supplier's credit lapses.
        MissingOriginalPackagingSeller => "MISSING_ORIGINAL_PACKAGING_SELLER",
        /// The customer damaged the goods: no refund of the damaged value.
        CustomerDamage => "CUSTOMER_DAMAGE",
        /// The seller refunds the price above the damage deduction.
        CustomerDamageRemainder => "CUSTOMER_DAMAGE_REMAINDER",
        /// Goodwill compensation is the seller's gesture.
        GoodwillSeller => "GOODWILL_SELLER",
        /// A keep-with-allowance the table puts on nobody else.
        AllowanceSeller => "ALLOWANCE_SELLER",
        /// Late-delivery compensation, a claim under the contract against the supplier.
        LateDeliverySupplier => "LATE_DELIVERY_SUPPLIER",
    }
);
