//! Request bodies and query parameters of the orders routes, parsed into domain values
//! with every invalid field reported (422) under its JSON path.

use domain::customer::EmailKey;
use domain::order::{
    DeliveryAddress, IdempotencyKey, Notes, OrderListing, OrderRequest, OrderStatus, PaymentStatus,
    Quantity, RequestedLine, RequestedLines, Viewer,
};
use domain::{CustomerId, PageRequest, PhoneNumber, ProductId, ValidationErrors};
use http_api::extract::not_null;
use http_api::{ApiError, page_request};
use serde::Deserialize;

/// `POST /orders`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceBody {
    items: Option<Vec<ItemBody>>,
    delivery_address: Option<String>,
    notes: Option<String>,
    /// Defaults to `true` when left out; `null` is refused (the schema has no `null`).
    #[serde(default, deserialize_with = "not_null")]
    confirm: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemBody {
    product_id: Option<String>,
    quantity: Option<i64>,
}

impl PlaceBody {
    /// The order request, or every field error.
    pub fn parse(self) -> Result<OrderRequest, ValidationErrors> {
        let mut e = ValidationErrors::default();
        let mut checked = None;
        match self.items {
            None => e.push("items", "is required"),
            Some(items) => {
                let mut lines = Vec::new();
                for (i, item) in items.into_iter().enumerate() {
                    let product_id = match item.product_id {
                        None => {
                            e.push(format!("items[{i}].product_id"), "is required");
                            None
                        }
                        Some(raw) => {
                            e.check(&format!("items[{i}].product_id"), raw.parse::<ProductId>())
                        }
                    };
                    let quantity = match item.quantity {
                        None => {
                            e.push(format!("items[{i}].quantity"), "is required");
                            None
                        }
                        Some(q) => e.check(&format!("items[{i}].quantity"), Quantity::new(q)),
                    };
                    if let (Some(product_id), Some(quantity)) = (product_id, quantity) {
                        lines.push(RequestedLine {
                            product_id,
                            quantity,
                        });
                    }
                }
                // The line rules (count, distinct products), once every line parsed.
                if e.is_empty() {
                    match RequestedLines::new(lines) {
                        Ok(valid) => checked = Some(valid),
                        Err(errors) => e.0.extend(errors.0),
                    }
                }
            }
        }
        let delivery_address = match self.delivery_address {
            None => {
                e.push("delivery_address", "is required");
                None
            }
            Some(a) => e.check("delivery_address", DeliveryAddress::parse(&a)),
        };
        let notes = match self.notes.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(n) => e.check("notes", Notes::parse(n)),
        };
        match (checked, delivery_address) {
            (Some(lines), Some(delivery_address)) if e.is_empty() => Ok(OrderRequest::of(
                lines,
                delivery_address,
                notes,
                self.confirm.unwrap_or(true),
            )),
            _ => Err(e),
        }
    }
}

/// The `Idempotency-Key` header, if present (400 when malformed).
pub fn idempotency_key(
    headers: &axum::http::HeaderMap,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let mut values = headers.get_all("idempotency-key").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let bad = |detail: &str| ApiError::BadRequest(detail.to_owned());
    if values.next().is_some() {
        return Err(bad("send one Idempotency-Key header"));
    }
    let raw = value
        .to_str()
        .map_err(|_| bad("Idempotency-Key must be 1 to 64 visible ASCII characters"))?;
    IdempotencyKey::parse(raw)
        .map(Some)
        .map_err(|e| bad(&e.to_string()))
}

/// `POST /orders/{id}/pay`: `{"phone_number"?}` (none or `null`: the customer's own).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayBody {
    #[serde(default)]
    phone_number: Option<String>,
}

impl PayBody {
    /// The number to prompt, in any Kenyan form `/customer/me` takes.
    pub fn parse(self) -> Result<Option<PhoneNumber>, ApiError> {
        self.phone_number
            .map(|raw| {
                PhoneNumber::parse(&raw).map_err(|_| {
                    ApiError::invalid("phone_number", "must be a Kenyan mobile number")
                })
            })
            .transpose()
    }
}

/// `PATCH /orders/{id}/status`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    status: Option<String>,
}

impl StatusBody {
    pub fn parse(self) -> Result<OrderStatus, ApiError> {
        let raw = self
            .status
            .ok_or_else(|| ApiError::invalid("status", "is required"))?;
        raw.parse()
            .map_err(|e: domain::order::status::InvalidStatus| {
                ApiError::invalid("status", e.to_string())
            })
    }
}

/// `GET /orders` query parameters.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    customer_id: Option<String>,
    customer_email: Option<String>,
    notification_status: Option<String>,
    payment_status: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// What a `GET /orders` asks for: a list of orders, or one customer's by their e-mail
/// (admins' `?customer_email=`, optionally with `status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    Orders(OrderListing),
    ByEmail(EmailKey, Option<OrderStatus>),
}

/// The one value `?notification_status=` takes.
const NOTIFICATION_FAILED: &str = "failed";

impl ListQuery {
    /// The list `viewer` asked for: a customer sees their own orders (optionally in one
    /// status); an admin sees every order, by status and/or customer, or those whose
    /// notification failed (`notification_status=failed`, on its own).
    ///
    /// Malformed values are 400 first; then a customer asking for the admin-only
    /// notification filter is 403; then the filter combined with another is 400 (its list
    /// is its own index, and a failed notification is rare enough to need no narrowing).
    pub fn listing(&self, viewer: Viewer) -> Result<(Wanted, PageRequest), ApiError> {
        let page = page_request(self.limit.as_deref(), self.cursor.as_deref())?;
        if let Some(raw) = self.customer_email.as_deref() {
            let email = EmailKey::lookup(raw)
                .map_err(|e| ApiError::BadRequest(format!("customer_email: {e}")))?;
            let status = self.status()?;
            if !viewer.admin {
                return Err(ApiError::Forbidden(
                    "only admins may list orders by a customer's e-mail".into(),
                ));
            }
            if self.customer_id.is_some()
                || self.notification_status.is_some()
                || self.payment_status.is_some()
            {
                return Err(ApiError::BadRequest(
                    "customer_email can be combined with status only".into(),
                ));
            }
            return Ok((Wanted::ByEmail(email, status), page));
        }
        self.orders_listing(viewer)
            .map(|listing| (Wanted::Orders(listing), page))
    }

    fn status(&self) -> Result<Option<OrderStatus>, ApiError> {
        self.status
            .as_deref()
            .map(|s| {
                s.parse::<OrderStatus>()
                    .map_err(|e| ApiError::BadRequest(format!("status {e}")))
            })
            .transpose()
    }

    fn orders_listing(&self, viewer: Viewer) -> Result<OrderListing, ApiError> {
        let status = self.status()?;
        let customer = self
            .customer_id
            .as_deref()
            .map(|c| {
                c.parse::<CustomerId>()
                    .map_err(|_| ApiError::BadRequest("customer_id is not a valid id".into()))
            })
            .transpose()?;
        let notification_failed = match self.notification_status.as_deref() {
            None => false,
            Some(NOTIFICATION_FAILED) => true,
            Some(_) => {
                return Err(ApiError::BadRequest(
                    "notification_status takes only `failed` (the orders with a failed SMS or email)"
                        .into(),
                ));
            }
        };
        let payment_status = self
            .payment_status
            .as_deref()
            .map(|raw| {
                PaymentStatus::parse(raw).ok_or_else(|| {
                    ApiError::BadRequest(
                        "payment_status must be one of refunded, refund_pending, paid, \
                         partially_paid, pending, unpaid"
                            .into(),
                    )
                })
            })
            .transpose()?;
        if let Some(payment_status) = payment_status {
            if !viewer.admin {
                return Err(ApiError::Forbidden(
                    "only admins may list orders by payment status".into(),
                ));
            }
            if status.is_some() || customer.is_some() || notification_failed {
                return Err(ApiError::BadRequest(
                    "payment_status cannot be combined with status, customer_id or \
                     notification_status"
                        .into(),
                ));
            }
            return Ok(OrderListing::PaymentStatus(payment_status));
        }
        if notification_failed {
            if !viewer.admin {
                return Err(ApiError::Forbidden(
                    "only admins may list orders by notification status".into(),
                ));
            }
            if status.is_some() || customer.is_some() {
                return Err(ApiError::BadRequest(
                    "notification_status cannot be combined with status or customer_id".into(),
                ));
            }
            return Ok(OrderListing::NotificationFailed);
        }
        let listing = match (viewer.admin, customer, status) {
            (false, Some(other), _) if other != viewer.customer_id => {
                return Err(ApiError::Forbidden(
                    "only admins may list other customers' orders".into(),
                ));
            }
            (false, _, status) => OrderListing::Customer(viewer.customer_id, status),
            (true, Some(customer), status) => OrderListing::Customer(customer, status),
            (true, None, Some(status)) => OrderListing::Status(status),
            (true, None, None) => OrderListing::All,
        };
        Ok(listing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<OrderRequest, Vec<String>> {
        serde_json::from_str::<PlaceBody>(json)
            .expect("shape")
            .parse()
            .map_err(|e| e.0.into_iter().map(|f| f.field).collect())
    }

    const P1: &str = "01J00000000000000000000001";
    const P2: &str = "01J00000000000000000000002";

    #[test]
    fn reports_every_invalid_line_by_its_path() {
        let body = format!(
            r#"{{"items":[{{"product_id":"{P1}","quantity":0}},{{"product_id":"nope","quantity":1}},{{"quantity":2}}],"delivery_address":" "}}"#
        );
        assert_eq!(
            parse(&body),
            Err(vec![
                "items[0].quantity".to_owned(),
                "items[1].product_id".to_owned(),
                "items[2].product_id".to_owned(),
                "delivery_address".to_owned(),
            ])
        );
        assert_eq!(
            parse("{}"),
            Err(vec!["items".to_owned(), "delivery_address".to_owned()])
        );
    }

    #[test]
    fn duplicate_products_and_empty_lists_are_refused() {
        let dup = format!(
            r#"{{"items":[{{"product_id":"{P1}","quantity":1}},{{"product_id":"{P1}","quantity":2}}],"delivery_address":"x"}}"#
        );
        assert_eq!(parse(&dup), Err(vec!["items[1].product_id".to_owned()]));
        assert_eq!(
            parse(r#"{"items":[],"delivery_address":"x"}"#),
            Err(vec!["items".to_owned()])
        );
    }

    #[test]
    fn orders_are_confirmed_unless_asked_not_to_be() {
        let body = |confirm: &str| {
            format!(
                r#"{{"items":[{{"product_id":"{P1}","quantity":1}},{{"product_id":"{P2}","quantity":1000}}],"delivery_address":"Moi Ave"{confirm}}}"#
            )
        };
        assert!(parse(&body("")).expect("valid").confirm);
        assert!(!parse(&body(r#","confirm":false"#)).expect("valid").confirm);
    }

    #[test]
    fn only_admins_list_other_customers_orders() {
        let me: CustomerId = P1.parse().expect("id");
        let query = |status: Option<&str>, customer: Option<&str>| ListQuery {
            status: status.map(str::to_owned),
            customer_id: customer.map(str::to_owned),
            ..ListQuery::default()
        };
        let customer = Viewer {
            customer_id: me,
            admin: false,
        };
        let admin = Viewer {
            customer_id: P2.parse().expect("id"),
            admin: true,
        };
        let listing = |q: ListQuery, v| {
            q.listing(v).map(|(wanted, _)| match wanted {
                Wanted::Orders(listing) => listing,
                Wanted::ByEmail(..) => panic!("no e-mail asked for"),
            })
        };
        assert_eq!(
            listing(query(None, None), customer).expect("own"),
            OrderListing::Customer(me, None)
        );
        assert_eq!(
            listing(query(Some("PENDING"), Some(P1)), customer).expect("own"),
            OrderListing::Customer(me, Some(OrderStatus::Pending))
        );
        assert!(matches!(
            listing(query(None, Some(P2)), customer),
            Err(ApiError::Forbidden(_))
        ));
        assert_eq!(
            listing(query(None, None), admin).expect("all"),
            OrderListing::All
        );
        assert_eq!(
            listing(query(Some("SHIPPED"), None), admin).expect("status"),
            OrderListing::Status(OrderStatus::Shipped)
        );
        assert!(matches!(
            listing(query(Some("shipped"), None), admin),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn only_admins_list_failed_notifications_and_only_on_their_own() {
        let query = |notification: &str, status: Option<&str>, customer: Option<&str>| ListQuery {
            notification_status: Some(notification.to_owned()),
            status: status.map(str::to_owned),
            customer_id: customer.map(str::to_owned),
            ..ListQuery::default()
        };
        let customer = Viewer {
            customer_id: P1.parse().expect("id"),
            admin: false,
        };
        let admin = Viewer {
            customer_id: P2.parse().expect("id"),
            admin: true,
        };
        let listing = |q: ListQuery, v| {
            q.listing(v).map(|(wanted, _)| match wanted {
                Wanted::Orders(listing) => listing,
                Wanted::ByEmail(..) => panic!("no e-mail asked for"),
            })
        };
        assert_eq!(
            listing(query("failed", None, None), admin).expect("failed"),
            OrderListing::NotificationFailed
        );
        for bad in ["", "FAILED", "sent", "pending", "failed,sent"] {
            assert!(
                matches!(
                    listing(query(bad, None, None), admin),
                    Err(ApiError::BadRequest(_))
                ),
                "{bad:?}"
            );
            assert!(
                matches!(
                    listing(query(bad, None, None), customer),
                    Err(ApiError::BadRequest(_))
                ),
                "a malformed value is 400 for anyone: {bad:?}"
            );
        }
        assert!(matches!(
            listing(query("failed", None, None), customer),
            Err(ApiError::Forbidden(_))
        ));
        assert!(matches!(
            listing(query("failed", None, Some(P1)), customer),
            Err(ApiError::Forbidden(_))
        ));
        for (status, customer_id) in [
            (Some("CONFIRMED"), None),
            (None, Some(P1)),
            (Some("SHIPPED"), Some(P1)),
        ] {
            assert!(matches!(
                listing(query("failed", status, customer_id), admin),
                Err(ApiError::BadRequest(_))
            ));
        }
    }

    #[test]
    fn only_admins_list_by_email_and_only_with_a_status() {
        let query = |email: &str, other: fn(&mut ListQuery)| {
            let mut q = ListQuery {
                customer_email: Some(email.to_owned()),
                ..ListQuery::default()
            };
            other(&mut q);
            q
        };
        let admin = Viewer {
            customer_id: P2.parse().expect("id"),
            admin: true,
        };
        let customer = Viewer {
            customer_id: P1.parse().expect("id"),
            admin: false,
        };
        let wanted = |q: ListQuery, v| q.listing(v).map(|(w, _)| w);
        assert_eq!(
            wanted(query("Wanjiku@Example.com", |_| {}), admin).expect("by e-mail"),
            Wanted::ByEmail(EmailKey::of("wanjiku@example.com"), None)
        );
        assert_eq!(
            wanted(
                query("w@example.com", |q| q.status = Some("SHIPPED".into())),
                admin
            )
            .expect("with a status"),
            Wanted::ByEmail(EmailKey::of("w@example.com"), Some(OrderStatus::Shipped))
        );
        assert!(matches!(
            wanted(query("w@example.com", |_| {}), customer),
            Err(ApiError::Forbidden(_))
        ));
        for bad in [
            query("", |_| {}),
            query(&"a".repeat(255), |_| {}),
            query("w@example.com", |q| q.status = Some("shipped".into())),
            query("w@example.com", |q| q.customer_id = Some(P1.into())),
            query("w@example.com", |q| {
                q.notification_status = Some("failed".into())
            }),
            query("w@example.com", |q| q.payment_status = Some("paid".into())),
        ] {
            assert!(matches!(wanted(bad, admin), Err(ApiError::BadRequest(_))));
        }
    }
}
