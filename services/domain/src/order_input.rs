//! The edge of a return request: raw values as they arrive (signed integers, free strings, optional
//! messages) turned into a [`ReturnRequest`], with every problem reported under its proto field path.

use crate::currency::Currency;
use crate::error::{DomainError, Violations};
use crate::ids::SupplierId;
use crate::money::Money;
use crate::order::{
    Category, EvidenceUri, OrderFacts, OrderLine, OrderRef, ReturnItem, ReturnReason,
    ReturnRequest, Sku,
};
use crate::period::parse_time_zone;
use crate::statute::Jurisdiction;
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::BTreeSet;

/// Most items one return may list.
pub const MAX_ITEMS: usize = 100;
/// Most lines an order may carry.
pub const MAX_ORDER_LINES: usize = 500;
/// Most units of one line, bought or returned.
pub const MAX_QUANTITY: i64 = 10_000;
/// Most evidence links on one request.
pub const MAX_EVIDENCE: usize = 20;
/// Longest customer comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;
/// How far in the future an instant may lie before it is refused: clocks drift, orders do not come
/// from the future.
pub const MAX_CLOCK_SKEW: TimeDelta = TimeDelta::minutes(5);

/// An amount as sent: a currency code and signed minor units.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MoneyInput {
    /// ISO 4217 code.
    pub currency: String,
    /// Minor units.
    pub amount_minor: i64,
}

/// An order line as sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderLineInput {
    /// SKU.
    pub sku: String,
    /// Category slug path.
    pub category: String,
    /// Units bought.
    pub quantity: i64,
    /// Retail price per unit.
    pub unit_price: Option<MoneyInput>,
    /// Supplier cost per unit.
    pub unit_cost: Option<MoneyInput>,
}

/// The order facts as sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderFactsInput {
    /// The seller's order id.
    pub order_id: String,
    /// The supplier's UUID.
    pub supplier_id: String,
    /// When the order was placed.
    pub ordered_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// `EU`, `GB`, `IL`, `US`, `NONE`, or an EEA country code.
    pub customer_jurisdiction: String,
    /// The customer's IANA time zone name; empty means not given.
    pub customer_time_zone: String,
    /// The customer qualifies for an extended statutory cancellation period.
    pub customer_extended_cancellation_right: bool,
    /// The order's ISO 4217 currency.
    pub currency: String,
    /// Outbound delivery paid; absent means none.
    pub outbound_shipping: Option<MoneyInput>,
    /// Every order line.
    pub lines: Vec<OrderLineInput>,
}

/// One returned line as sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReturnItemInput {
    /// SKU of an order line.
    pub sku: String,
    /// Units returned.
    pub quantity: i64,
}

/// A return request as sent. `reason` is `None` when the wire value was unspecified or unknown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReturnRequestInput {
    /// The order facts.
    pub order: Option<OrderFactsInput>,
    /// Returned lines.
    pub items: Vec<ReturnItemInput>,
    /// Why.
    pub reason: Option<ReturnReason>,
    /// Evidence links.
    pub evidence_uris: Vec<String>,
    /// Expected label cost.
    pub label_cost_estimate: Option<MoneyInput>,
    /// The customer's words; empty means none.
    pub customer_comment: String,
}

impl ReturnRequestInput {
    /// Checks everything and builds the request, or lists every problem by field path
    /// (`items[2].quantity`, `order.lines[0].unit_price.amount_minor`). `now` bounds future instants.
    pub fn parse(self, now: DateTime<Utc>) -> Result<ReturnRequest, DomainError> {
        let mut v = Violations::default();
        let order = match self.order {
            Some(o) => parse_order(o, now, &mut v),
            None => {
                v.add(
                    "order",
                    "is required: send the facts of the order being returned",
                );
                None
            }
        };
        let items = parse_items(&self.items, order.as_ref(), &mut v);
        if self.reason.is_none() {
            let names: Vec<_> = ReturnReason::ALL.iter().map(|r| r.as_str()).collect();
            v.add(
                "reason",
                format!("is required; one of {}", names.join(", ")),
            );
        }
        v.check(
            self.evidence_uris.len() <= MAX_EVIDENCE,
            "evidence_uris",
            format!("at most {MAX_EVIDENCE} links"),
        );
        let evidence: Vec<_> = (self.evidence_uris.iter().enumerate())
            .filter_map(|(i, raw)| v.take(&format!("evidence_uris[{i}]"), EvidenceUri::parse(raw)))
            .collect();
        let currency = order.as_ref().map(|o| o.currency);
        let label = (self.label_cost_estimate.as_ref())
            .and_then(|m| parse_money("label_cost_estimate", m, currency, &mut v));
        if let (Some(o), Some(l)) = (&order, label) {
            let total = order_total(o).and_then(|t| t.checked_add(l).ok());
            v.check(
                total.is_some(),
                "label_cost_estimate.amount_minor",
                "is too large: the order total plus the label would overflow",
            );
        }
        v.text(
            "customer_comment",
            &self.customer_comment,
            MAX_COMMENT_CHARS,
        );
        v.finish()?;
        let (Some(order), Some(reason)) = (order, self.reason) else {
            return Err(DomainError::invalid("order", "is incomplete"));
        };
        Ok(ReturnRequest {
            order,
            items,
            reason,
            evidence,
            label_cost_estimate: label,
            customer_comment: Some(self.customer_comment).filter(|c| !c.is_empty()),
        })
    }
}

/// Every amount of the order summed: price x quantity per line plus outbound delivery. `None` on
/// overflow, which validation refuses, so later arithmetic on any part of an order cannot overflow.
fn order_total(o: &OrderFacts) -> Option<Money> {
    let mut total = o.outbound_shipping;
    for l in &o.lines {
        let q = i64::from(l.quantity);
        total = total.checked_add(l.unit_price.checked_mul(q).ok()?).ok()?;
        total = total.checked_add(l.unit_cost.checked_mul(q).ok()?).ok()?;
    }
    Some(total)
}

fn parse_money(
    field: &str,
    m: &MoneyInput,
    expected: Option<Currency>,
    v: &mut Violations,
) -> Option<Money> {
    let currency = v.take(
        &format!("{field}.currency_code"),
        Currency::parse(&m.currency),
    )?;
    if let Some(order_currency) = expected
        && currency != order_currency
    {
        v.add(
            format!("{field}.currency_code"),
            format!("must be {order_currency}, the order's currency: one request has one currency"),
        );
        return None;
    }
    if m.amount_minor < 0 {
        v.add(format!("{field}.amount_minor"), "must not be negative");
        return None;
    }
    Some(Money::new(currency, m.amount_minor))
}

fn parse_order(o: OrderFactsInput, now: DateTime<Utc>, v: &mut Violations) -> Option<OrderFacts> {
    let order_id = v.take("order.order_id", OrderRef::parse(&o.order_id));
    let supplier = v.take("order.supplier_id", SupplierId::parse(&o.supplier_id));
    let jurisdiction = v.take(
        "order.customer_jurisdiction",
        Jurisdiction::parse(&o.customer_jurisdiction),
    );
    let currency = v.take("order.currency_code", Currency::parse(&o.currency));
    // Empty is "not given"; a name the database does not know is refused rather than ignored, so a
    // typo never silently widens or narrows a period.
    let customer_time_zone = match o.customer_time_zone.as_str() {
        "" => Some(None),
        raw => v
            .take("order.customer_time_zone", parse_time_zone(raw))
            .map(Some),
    };
    let latest = now + MAX_CLOCK_SKEW;
    let mut instant = |field: &str, at: Option<DateTime<Utc>>| match at {
        None => {
            v.add(field, "is required");
            None
        }
        Some(t) if t > latest => {
            v.add(field, "lies in the future; send the instant it happened");
            None
        }
        Some(t) => Some(t),
    };
    let ordered_at = instant("order.order_time", o.ordered_at);
    let delivered_at = instant("order.delivery_time", o.delivered_at);
    if let (Some(ordered), Some(delivered)) = (ordered_at, delivered_at) {
        v.check(
            delivered >= ordered,
            "order.delivery_time",
            "must not be before order.order_time",
        );
    }
    let outbound = match (&o.outbound_shipping, currency) {
        (Some(m), Some(c)) => parse_money("order.outbound_shipping", m, Some(c), v),
        (None, Some(c)) => Some(Money::zero(c)),
        (_, None) => None,
    };
    let lines = parse_lines(&o.lines, currency, v);
    let order = OrderFacts {
        order_id: order_id?,
        supplier: supplier?,
        ordered_at: ordered_at?,
        delivered_at: delivered_at?,
        jurisdiction: jurisdiction?,
        customer_time_zone: customer_time_zone?,
        extended_cancellation_right: o.customer_extended_cancellation_right,
        currency: currency?,
        outbound_shipping: outbound?,
        lines: lines?,
    };
    if order_total(&order).is_none() {
        v.add(
            "order.lines",
            "the order's amounts are too large: their total would overflow",
        );
        return None;
    }
    Some(order)
}

fn parse_lines(
    lines: &[OrderLineInput],
    currency: Option<Currency>,
    v: &mut Violations,
) -> Option<Vec<OrderLine>> {
    if lines.is_empty() {
        v.add("order.lines", "must list every line of the order");
    }
    if lines.len() > MAX_ORDER_LINES {
        v.add("order.lines", format!("at most {MAX_ORDER_LINES} lines"));
        return None;
    }
    let mut seen = BTreeSet::new();
    let mut parsed = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let at = |f: &str| format!("order.lines[{i}].{f}");
        let sku = v.take(&at("sku"), Sku::parse(&l.sku));
        if let Some(s) = &sku
            && !seen.insert(s.clone())
        {
            v.add(at("sku"), "appears on two lines; merge them into one line");
        }
        let category = v.take(&at("category"), Category::parse(&l.category));
        let quantity = parse_quantity(&at("quantity"), l.quantity, v);
        let mut money = |name: &str, m: &Option<MoneyInput>| match m {
            None => {
                v.add(at(name), "is required");
                None
            }
            Some(m) => {
                let parsed = parse_money(&at(name), m, currency, v)?;
                let fits = quantity.is_none_or(|q| parsed.checked_mul(i64::from(q)).is_ok());
                if !fits {
                    v.add(
                        format!("{}.amount_minor", at(name)),
                        "times the quantity overflows",
                    );
                    return None;
                }
                Some(parsed)
            }
        };
        let unit_price = money("unit_price", &l.unit_price);
        let unit_cost = money("unit_cost", &l.unit_cost);
        if let (Some(sku), Some(category), Some(quantity), Some(unit_price), Some(unit_cost)) =
            (sku, category, quantity, unit_price, unit_cost)
        {
            parsed.push(OrderLine {
                sku,
                category,
                quantity,
                unit_price,
                unit_cost,
            });
        }
    }
    (parsed.len() == lines.len() && !lines.is_empty()).then_some(parsed)
}

fn parse_quantity(field: &str, q: i64, v: &mut Violations) -> Option<u32> {
    if (1..=MAX_QUANTITY).contains(&q) {
        u32::try_from(q).ok()
    } else {
        v.add(field, format!("must be between 1 and {MAX_QUANTITY}"));
        None
    }
}

fn parse_items(
    items: &[ReturnItemInput],
    order: Option<&OrderFacts>,
    v: &mut Violations,
) -> Vec<ReturnItem> {
    if items.is_empty() {
        v.add("items", "must list at least one returned line");
    }
    if items.len() > MAX_ITEMS {
        v.add("items", format!("at most {MAX_ITEMS} lines per return"));
        return Vec::new();
    }
    let mut seen = BTreeSet::new();
    let mut parsed = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let sku = v.take(&format!("items[{i}].sku"), Sku::parse(&item.sku));
        let quantity = parse_quantity(&format!("items[{i}].quantity"), item.quantity, v);
        let (Some(sku), Some(quantity)) = (sku, quantity) else {
            continue;
        };
        if !seen.insert(sku.clone()) {
            v.add(
                format!("items[{i}].sku"),
                "is listed twice; send one item per SKU",
            );
            continue;
        }
        if let Some(order) = order {
            match order.line(&sku) {
                None => v.add(format!("items[{i}].sku"), "is not a line of the order"),
                Some(line) if quantity > line.quantity => v.add(
                    format!("items[{i}].quantity"),
                    format!("exceeds the {} units bought", line.quantity),
                ),
                Some(_) => {}
            }
        }
        parsed.push(ReturnItem { sku, quantity });
    }
    parsed
}

#[cfg(test)]
#[path = "order_input_tests.rs"]
mod tests;
