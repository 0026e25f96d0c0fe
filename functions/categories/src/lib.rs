//! The `/api/v1/categories` route area: a forest of categories keyed by materialized
//! path, and the products and average price of a subtree.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::{Json, Router};
use domain::catalog::CategoryListing;
use domain::catalog_use_cases::Catalog;
use domain::category::{CategoryChange, CategoryName};
use domain::{CategoryId, CategoryStore, ProductStore, ValidationErrors};
use http_api::catalog::{CategoryView, ProductListQuery, ProductView, category_id_param};
use http_api::extract::nullable;
use http_api::{
    Admin, ApiError, ApiQuery, AppState, Caller, JsonBody, ListBody, RouteTable, page_request,
};
use serde::{Deserialize, Serialize};

/// What the handlers need from storage.
pub trait Store: CategoryStore + ProductStore + Clone + 'static {}
impl<T: CategoryStore + ProductStore + Clone + 'static> Store for T {}

/// Every route of the function.
pub fn routes<S: Store>() -> RouteTable<AppState<S>> {
    RouteTable::new()
        .route(Method::GET, "/api/v1/categories", list::<S>)
        .route(Method::POST, "/api/v1/categories", create::<S>)
        .route(Method::GET, "/api/v1/categories/tree", tree::<S>)
        .route(Method::GET, "/api/v1/categories/{id}", show::<S>)
        .route(Method::PATCH, "/api/v1/categories/{id}", update::<S>)
        .route(Method::DELETE, "/api/v1/categories/{id}", remove::<S>)
        .route(
            Method::GET,
            "/api/v1/categories/{id}/products",
            products::<S>,
        )
        .route(
            Method::GET,
            "/api/v1/categories/{id}/average-price",
            average_price::<S>,
        )
}

/// The function's router, ready for `lambda_http::run` or an in-process test.
pub fn router<S: Store>(state: AppState<S>) -> Router {
    http_api::serve(routes::<S>(), state)
}

/// A category id from the path; a malformed one names no category (404).
fn path_id(raw: &str) -> Result<CategoryId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::NotFound("category not found".into()))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    parent_id: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

async fn list<S: Store>(
    State(state): State<AppState<S>>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ListBody<CategoryView>>, ApiError> {
    let listing = match query.parent_id.as_deref() {
        None => CategoryListing::All,
        Some("root") => CategoryListing::Roots,
        Some(raw) => CategoryListing::ChildrenOf(category_id_param("parent_id", raw)?),
    };
    let page = page_request(query.limit.as_deref(), query.cursor.as_deref())?;
    let page = state.services.list_categories(listing, page).await?;
    Ok(Json(ListBody::from_page(page, CategoryView::from)))
}

#[derive(Debug, Deserialize)]
struct TreeQuery {
    root_id: Option<String>,
}

async fn tree<S: Store>(
    State(state): State<AppState<S>>,
    ApiQuery(query): ApiQuery<TreeQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let root = query
        .root_id
        .as_deref()
        .map(|raw| category_id_param("root_id", raw))
        .transpose()?;
    Ok(Json(Catalog::new(&state.services).tree(root).await?))
}

#[derive(Debug, Serialize)]
struct Ancestor {
    id: CategoryId,
    name: String,
    slug: String,
}

#[derive(Debug, Serialize)]
struct CategoryWithAncestors {
    #[serde(flatten)]
    category: CategoryView,
    ancestors: Vec<Ancestor>,
}

async fn show<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
) -> Result<Json<CategoryWithAncestors>, ApiError> {
    let (category, ancestors) = Catalog::new(&state.services)
        .with_ancestors(path_id(&id)?)
        .await?;
    let ancestors = ancestors
        .into_iter()
        .map(|a| Ancestor {
            id: a.id,
            slug: a.name.slug(),
            name: a.name.as_str().to_owned(),
        })
        .collect();
    Ok(Json(CategoryWithAncestors {
        category: category.into(),
        ancestors,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: Option<String>,
    parent_id: Option<String>,
}

fn parse_parent(raw: Option<&str>, errors: &mut ValidationErrors) -> Option<CategoryId> {
    raw.and_then(|raw| errors.check("parent_id", raw.parse::<CategoryId>()))
}

async fn create<S: Store>(
    State(state): State<AppState<S>>,
    Admin(admin): Admin,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let mut errors = ValidationErrors::default();
    let name = match body.name.as_deref() {
        Some(raw) => errors.check("name", CategoryName::parse(raw)),
        None => {
            errors.push("name", "is required");
            None
        }
    };
    let parent = parse_parent(body.parent_id.as_deref(), &mut errors);
    let name = match (name, errors.is_empty()) {
        (Some(name), true) => name,
        _ => return Err(errors.into()),
    };
    let category = state
        .services
        .create_category(name, parent, &admin.actor()?)
        .await?;
    let location = format!("/api/v1/categories/{}", category.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(CategoryView::from(category)),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    /// `null` is not "leave it": a category always has a name (422, like `/customer/me`).
    #[serde(default, deserialize_with = "nullable")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    parent_id: Option<Option<String>>,
}

async fn update<S: Store>(
    State(state): State<AppState<S>>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Json<CategoryView>, ApiError> {
    let id = path_id(&id)?;
    let mut errors = ValidationErrors::default();
    let name = match body.name {
        None => None,
        Some(None) => {
            errors.push("name", "must not be null");
            None
        }
        Some(Some(raw)) => errors.check("name", CategoryName::parse(&raw)),
    };
    let parent_id = match body.parent_id {
        None => None,
        Some(None) => Some(None),
        Some(Some(raw)) => parse_parent(Some(&raw), &mut errors).map(Some),
    };
    let change = errors.into_result(|| CategoryChange { name, parent_id })?;
    let category = state
        .services
        .update_category(id, change, &admin.actor()?)
        .await?;
    Ok(Json(category.into()))
}

async fn remove<S: Store>(
    State(state): State<AppState<S>>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .delete_category(path_id(&id)?, &admin.actor()?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn products<S: Store>(
    State(state): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ProductListQuery>,
) -> Result<Json<ListBody<ProductView>>, ApiError> {
    let (filter, page) = query.filter_and_page(&caller)?;
    let direct_only = !query.include_descendants()?;
    let page = Catalog::new(&state.services)
        .products(path_id(&id)?, direct_only, filter, page)
        .await?;
    Ok(Json(ListBody::from_page(page, ProductView::from)))
}

#[derive(Debug, Serialize)]
struct AveragePrice {
    category_id: CategoryId,
    product_count: u64,
    average_price: Option<domain::Money>,
}

async fn average_price<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<String>,
) -> Result<Json<AveragePrice>, ApiError> {
    let (category, summary) = Catalog::new(&state.services)
        .price_summary(path_id(&id)?)
        .await?;
    Ok(Json(AveragePrice {
        category_id: category.id,
        product_count: summary.product_count,
        average_price: summary.average(),
    }))
}
