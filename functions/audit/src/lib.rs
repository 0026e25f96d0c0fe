//! The `/api/v1/audit` route area: the change history, newest first — the whole shop's, or
//! one category's, product's or order's (`?entity_type=&entity_id=`, both or neither).
//!
//! Invariants: admin only (401 without a token, 403 for a customer, before any parameter
//! is read or any storage request is made); read only — entries are written by the
//! functions whose changes they record, in the same transaction, and never changed here;
//! a malformed parameter is a 400 and reads nothing.

use axum::extract::State;
use axum::http::Method;
use axum::{Json, Router};
use domain::audit::{AuditEntry, AuditListing, AuditLog, EntityType, Value, parse_entity_id};
use http_api::{Admin, ApiError, ApiQuery, AppState, ListBody, RouteTable, page_request};
use serde::{Deserialize, Serialize};
use serde_json::Map;

/// What the handlers need from storage.
pub trait Store: AuditLog + Clone + 'static {}
impl<T: AuditLog + Clone + 'static> Store for T {}

/// Every route of the function.
pub fn routes<S: Store>() -> RouteTable<AppState<S>> {
    RouteTable::new().route(Method::GET, "/api/v1/audit", list::<S>)
}

/// The function's router, ready for `lambda_http::run` or an in-process test.
pub fn router<S: Store>(state: AppState<S>) -> Router {
    http_api::serve(routes::<S>(), state)
}

/// `GET /audit` query parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    entity_type: Option<String>,
    entity_id: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

impl ListQuery {
    /// The history asked for: one entity's when both `entity_type` and `entity_id` are
    /// given, the shop's when neither is.
    fn listing(&self) -> Result<AuditListing, ApiError> {
        match (self.entity_type.as_deref(), self.entity_id.as_deref()) {
            (None, None) => Ok(AuditListing::All),
            (Some(kind), Some(id)) => {
                let kind: EntityType = kind
                    .parse()
                    .map_err(|e| ApiError::BadRequest(format!("entity_type {e}")))?;
                let id = parse_entity_id(kind, id).map_err(|_| {
                    ApiError::BadRequest(format!("entity_id is not a valid {kind} id"))
                })?;
                Ok(AuditListing::Entity(kind, id))
            }
            _ => Err(ApiError::BadRequest(
                "give entity_type and entity_id together (one entity's history), or neither (the whole shop's)".into(),
            )),
        }
    }
}

async fn list<S: Store>(
    State(state): State<AppState<S>>,
    _admin: Admin,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ListBody<EntryView>>, ApiError> {
    let page = page_request(query.limit.as_deref(), query.cursor.as_deref())?;
    let listing = query.listing()?;
    let page = state.services.audit_entries(listing, page).await?;
    Ok(Json(ListBody::from_page(page, EntryView::from)))
}

/// An entry as the API shows it.
#[derive(Debug, Serialize)]
pub struct EntryView {
    id: String,
    at: String,
    actor: ActorView,
    action: &'static str,
    entity_type: &'static str,
    entity_id: String,
    /// The entity's name or order number as it was; absent on entries recorded before.
    #[serde(skip_serializing_if = "Option::is_none")]
    entity_label: Option<String>,
    changes: Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize)]
struct ActorView {
    /// A customer id, or `mpesa`.
    id: String,
    /// `null` for M-Pesa.
    email: Option<String>,
}

fn json(value: Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Text(s) => serde_json::Value::String(s),
        Value::Number(n) => n.into(),
        Value::Bool(b) => b.into(),
    }
}

impl From<AuditEntry> for EntryView {
    fn from(entry: AuditEntry) -> Self {
        let entity_type = entry.entity_type().as_str();
        Self {
            id: entry.id.to_string(),
            at: entry.at.to_string(),
            actor: ActorView {
                id: entry.actor.id.to_string(),
                email: entry.actor.email,
            },
            action: entry.action.as_str(),
            entity_type,
            entity_id: entry.entity_id,
            entity_label: entry.entity_label,
            changes: entry
                .changes
                .into_iter()
                .map(|(field, c)| {
                    let change = serde_json::json!({"from": json(c.from), "to": json(c.to)});
                    (field, change)
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(kind: Option<&str>, id: Option<&str>) -> ListQuery {
        ListQuery {
            entity_type: kind.map(str::to_owned),
            entity_id: id.map(str::to_owned),
            ..ListQuery::default()
        }
    }

    #[test]
    fn an_entity_needs_both_its_type_and_a_valid_id_of_that_type() {
        let id = domain::ProductId::generate().to_string();
        assert_eq!(query(None, None).listing().ok(), Some(AuditListing::All));
        assert_eq!(
            query(Some("product"), Some(&id)).listing().ok(),
            Some(AuditListing::Entity(EntityType::Product, id.clone()))
        );
        for (kind, id) in [
            (Some("product"), None),
            (None, Some(id.as_str())),
            (Some("customer"), Some(id.as_str())),
            (Some("order"), Some("not-an-id")),
            (Some("Product"), Some(id.as_str())),
        ] {
            assert!(
                matches!(query(kind, id).listing(), Err(ApiError::BadRequest(_))),
                "{kind:?} {id:?}"
            );
        }
    }

    #[test]
    fn mpesas_entries_show_its_id_and_a_null_email_on_the_order() {
        use domain::audit::Actor;
        use domain::order::history::payment_assigned;
        use domain::testing::{mpesa_payment_received, paybill_on};
        use domain::{OrderId, Timestamp};

        let at = Timestamp::parse("2026-12-06T10:00:09.000Z").expect("at");
        let order = OrderId::generate();
        let entry = mpesa_payment_received(order, at);
        let shown = serde_json::to_value(EntryView::from(entry)).expect("json");
        assert_eq!(
            shown["actor"],
            serde_json::json!({"id": "mpesa", "email": null})
        );
        assert_eq!(
            (&shown["action"], &shown["entity_type"], &shown["entity_id"]),
            (
                &serde_json::json!("payment.received"),
                &serde_json::json!("order"),
                &serde_json::json!(order.to_string())
            )
        );
        assert_eq!(shown["entity_label"], "ORD-20261206-7KQ2MZ");
        assert_eq!(
            shown["changes"]["amount_paid"],
            serde_json::json!({"from": "0.00", "to": "500.00"})
        );

        let (payment, subject) = paybill_on(order, at);
        let admin = Actor::account(domain::CustomerId::generate(), "admin@example.com");
        let mut entry = payment_assigned(&admin, &subject, &payment, at);
        let shown = serde_json::to_value(EntryView::from(entry.clone())).expect("json");
        assert_eq!(shown["actor"]["email"], "admin@example.com");
        // Recorded before labels existed: no `entity_label` at all.
        entry.entity_label = None;
        let shown = serde_json::to_value(EntryView::from(entry)).expect("json");
        assert!(shown.get("entity_label").is_none(), "{shown}");
    }
}
