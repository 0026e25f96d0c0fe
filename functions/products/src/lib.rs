//! The `/api/v1/products` route area: the catalog's products, their prices and stock.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::{Json, Router};
use domain::catalog_use_cases::Catalog;
use domain::product::{
    Description, NewProduct, Product, ProductChange, ProductName, ProductScope, Sku, StockChange,
    parse_stock, parse_stock_delta,
};
use domain::stock_buckets::BucketCount;
use domain::{CategoryId, CategoryStore, Money, ProductId, ProductStore, ValidationErrors};
use http_api::catalog::{ProductListQuery, ProductView, category_id_param};
use http_api::extract::{not_null, nullable};
use http_api::{Admin, ApiError, ApiQuery, AppState, Caller, JsonBody, ListBody, RouteTable};
use serde::Deserialize;
use serde_json::Value;

/// What the handlers need from storage.
pub trait Store: CategoryStore + ProductStore + Clone + 'static {}
impl<T: CategoryStore + ProductStore + Clone + 'static> Store for T {}

/// Every route of the function.
pub fn routes<S: Store>() -> RouteTable<AppState<S>> {
    RouteTable::new()
        .route(Method::GET, "/api/v1/products", list::<S>)
        .route(Method::POST, "/api/v1/products", create::<S>)
        .route(Method::GET, "/api/v1/products/{id}", show::<S>)
        .route(Method::PATCH, "/api/v1/products/{id}", update::<S>)
        .route(Method::DELETE, "/api/v1/products/{id}", remove::<S>)
}

/// The function's router, ready for `lambda_http::run` or an in-process test.
pub fn router<S: Store>(state: AppState<S>) -> Router {
    http_api::serve(routes::<S>(), state)
}

fn not_found() -> ApiError {
    ApiError::NotFound("product not found".into())
}

/// A product id from the path; a malformed one names no product (404).
fn path_id(raw: &str) -> Result<ProductId, ApiError> {
    raw.parse().map_err(|_| not_found())
}

async fn list<S: Store>(
    State(state): State<AppState<S>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ProductListQuery>,
) -> Result<Json<ListBody<ProductView>>, ApiError> {
    let (filter, page) = query.filter_and_page(&caller)?;
    let direct_only = !query.include_descendants()?;
    let scope = match query.category_id.as_deref() {
        None => ProductScope::All,
        Some(raw) => match state
            .services
            .category(category_id_param("category_id", raw)?)
            .await?
        {
            Some(category) => ProductScope::Category {
                path: category.path,
                direct_only,
            },
            // Filtering by a category that does not exist matches nothing.
            None => {
                return Ok(Json(ListBody {
                    items: vec![],
                    next_cursor: None,
                }));
            }
        },
    };
    let page = state.services.list_products(scope, filter, page).await?;
    Ok(Json(ListBody::from_page(page, ProductView::from)))
}

async fn show<S: Store>(
    State(state): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ProductView>, ApiError> {
    let product = state
        .services
        .product(path_id(&id)?)
        .await?
        .ok_or_else(not_found)?;
    // Inactive products are hidden from everyone but admins.
    if !product.is_active && !caller.is_admin() {
        return Err(not_found());
    }
    Ok(Json(product.into()))
}

/// Reads a price given as a decimal string (`"1499.00"`) or a whole JSON number.
fn parse_price(value: &Value) -> Result<Money, String> {
    match value {
        Value::String(s) => Money::parse_price(s).map_err(|e| e.to_string()),
        Value::Number(n) if n.is_u64() => {
            Money::parse_price(&n.to_string()).map_err(|e| e.to_string())
        }
        _ => Err("must be a decimal string such as \"1499.00\"".to_owned()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: Option<String>,
    description: Option<String>,
    sku: Option<String>,
    price: Option<Value>,
    stock_quantity: Option<i64>,
    category_id: Option<String>,
}

fn required<T>(errors: &mut ValidationErrors, field: &str, value: Option<T>) -> Option<T> {
    if value.is_none() {
        errors.push(field, "is required");
    }
    value
}

fn parse_new_product(body: CreateBody) -> Result<NewProduct, ValidationErrors> {
    let mut e = ValidationErrors::default();
    let name =
        required(&mut e, "name", body.name).and_then(|n| e.check("name", ProductName::parse(&n)));
    let description = body
        .description
        .and_then(|d| e.check("description", Description::parse(&d)));
    let sku = body.sku.and_then(|s| e.check("sku", Sku::parse(&s)));
    let price =
        required(&mut e, "price", body.price).and_then(|p| e.check("price", parse_price(&p)));
    let stock = required(&mut e, "stock_quantity", body.stock_quantity)
        .and_then(|s| e.check("stock_quantity", parse_stock(s)));
    let category_id = required(&mut e, "category_id", body.category_id)
        .and_then(|c| e.check("category_id", c.parse::<CategoryId>()));
    match (name, price, stock, category_id) {
        (Some(name), Some(price), Some(stock_quantity), Some(category_id)) if e.is_empty() => {
            Ok(NewProduct {
                name,
                description,
                sku,
                price,
                stock_quantity,
                category_id,
            })
        }
        _ => Err(e),
    }
}

async fn create<S: Store>(
    State(state): State<AppState<S>>,
    Admin(admin): Admin,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let new = parse_new_product(body)?;
    let product: Product = Catalog::new(&state.services)
        .create_product(new, &admin.actor()?)
        .await?;
    let location = format!("/api/v1/products/{}", product.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(ProductView::from(product)),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    #[serde(default, deserialize_with = "not_null")]
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    sku: Option<Option<String>>,
    #[serde(default, deserialize_with = "not_null")]
    price: Option<Value>,
    #[serde(default, deserialize_with = "not_null")]
    stock_quantity: Option<i64>,
    #[serde(default, deserialize_with = "not_null")]
    stock_delta: Option<i64>,
    #[serde(default, deserialize_with = "not_null")]
    stock_buckets: Option<i64>,
    #[serde(default, deserialize_with = "not_null")]
    category_id: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    is_active: Option<bool>,
}

fn parse_change(body: UpdateBody) -> Result<ProductChange, ValidationErrors> {
    let mut e = ValidationErrors::default();
    let name = body
        .name
        .and_then(|n| e.check("name", ProductName::parse(&n)));
    let description = body
        .description
        .map(|d| d.and_then(|d| e.check("description", Description::parse(&d))));
    let sku = body
        .sku
        .map(|s| s.and_then(|s| e.check("sku", Sku::parse(&s))));
    let price = body.price.and_then(|p| e.check("price", parse_price(&p)));
    let stock = match (body.stock_quantity, body.stock_delta) {
        (Some(_), Some(_)) => {
            e.push(
                "stock_delta",
                "give either stock_quantity or stock_delta, not both",
            );
            None
        }
        (Some(level), None) => e
            .check("stock_quantity", parse_stock(level))
            .map(StockChange::Set),
        (None, Some(delta)) => e
            .check("stock_delta", parse_stock_delta(delta))
            .map(StockChange::Adjust),
        (None, None) => None,
    };
    let stock_buckets = body
        .stock_buckets
        .and_then(|k| e.check("stock_buckets", BucketCount::new(k)));
    let category_id = body
        .category_id
        .and_then(|c| e.check("category_id", c.parse::<CategoryId>()));
    e.into_result(|| ProductChange {
        name,
        description,
        sku,
        price,
        stock,
        stock_buckets,
        category_id,
        is_active: body.is_active,
    })
}

async fn update<S: Store>(
    State(state): State<AppState<S>>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Json<ProductView>, ApiError> {
    let id = path_id(&id)?;
    let change = parse_change(body)?;
    let product = Catalog::new(&state.services)
        .update_product(id, change, &admin.actor()?)
        .await?;
    Ok(Json(product.into()))
}

async fn remove<S: Store>(
    State(state): State<AppState<S>>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    Catalog::new(&state.services)
        .remove_product(path_id(&id)?, &admin.actor()?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> CreateBody {
        serde_json::from_str(json).expect("body")
    }

    #[test]
    fn collects_every_invalid_field_of_a_new_product() {
        let errors = parse_new_product(body(
            r#"{"name":" ","price":"1.001","stock_quantity":-1,"category_id":"x"}"#,
        ))
        .expect_err("invalid");
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "price", "stock_quantity", "category_id"]);
        let missing = parse_new_product(body("{}")).expect_err("invalid");
        assert_eq!(
            missing.0.len(),
            4,
            "name, price, stock_quantity and category_id are required"
        );
    }

    #[test]
    fn prices_are_strings_or_whole_numbers_never_floats() {
        assert_eq!(
            parse_price(&Value::from("10.50")).map(|m| m.to_string()),
            Ok("10.50".into())
        );
        assert_eq!(
            parse_price(&Value::from(10)).map(|m| m.to_string()),
            Ok("10.00".into())
        );
        assert!(parse_price(&serde_json::json!(10.5)).is_err());
        assert!(parse_price(&serde_json::json!(-1)).is_err());
    }

    #[test]
    fn stock_is_set_or_adjusted_not_both() {
        let change = |json: &str| parse_change(serde_json::from_str(json).expect("body"));
        assert_eq!(
            change(r#"{"stock_delta":-2}"#).map(|c| c.stock),
            Ok(Some(StockChange::Adjust(-2)))
        );
        assert_eq!(
            change(r#"{"stock_quantity":5}"#).map(|c| c.stock),
            Ok(Some(StockChange::Set(5)))
        );
        assert!(change(r#"{"stock_quantity":5,"stock_delta":1}"#).is_err());
        assert!(change(r#"{"stock_delta":0}"#).is_err());
        assert_eq!(
            change(r#"{"stock_buckets":16}"#).map(|c| c.stock_buckets),
            Ok(BucketCount::new(16).ok())
        );
        for bad in ["0", "33", "-1"] {
            let body = format!(r#"{{"stock_buckets":{bad}}}"#);
            assert!(change(&body).is_err(), "{bad}");
        }
        assert_eq!(change(r#"{"sku":null}"#).map(|c| c.sku), Ok(Some(None)));
    }
}
