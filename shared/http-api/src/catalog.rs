//! JSON views of catalog resources and the product-list query, shared by the
//! `categories` and `products` functions.

use domain::category::Category;
use domain::product::{Product, ProductFilter};
use domain::{CategoryId, Money, PageRequest, Timestamp};
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::extract::parse_bool_param;
use crate::pagination::page_request;
use crate::problem::ApiError;

/// A category as the API shows it.
#[derive(Debug, Serialize)]
pub struct CategoryView {
    pub id: CategoryId,
    pub name: String,
    pub slug: String,
    pub parent_id: Option<CategoryId>,
    pub level: usize,
    pub path: Vec<CategoryId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Category> for CategoryView {
    fn from(c: Category) -> Self {
        Self {
            id: c.id,
            slug: c.name.slug(),
            parent_id: c.parent_id(),
            level: c.level(),
            path: c.path.ids().to_vec(),
            name: c.name.as_str().to_owned(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A product as the API shows it.
#[derive(Debug, Serialize)]
pub struct ProductView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub sku: Option<String>,
    pub price: Money,
    pub stock_quantity: u32,
    /// How many items the stock is split over.
    pub stock_buckets: u8,
    pub category_id: CategoryId,
    pub category_path: Vec<CategoryId>,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Product> for ProductView {
    fn from(p: Product) -> Self {
        Self {
            id: p.id.to_string(),
            category_id: p.category_id(),
            category_path: p.category_path.ids().to_vec(),
            name: p.name.as_str().to_owned(),
            description: p.description.map(|d| d.as_str().to_owned()),
            sku: p.sku.map(|s| s.as_str().to_owned()),
            price: p.price,
            stock_quantity: p.stock_quantity,
            stock_buckets: p.stock_buckets.as_u8(),
            is_active: p.is_active,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// Longest `?q=` accepted.
const MAX_SEARCH_CHARS: usize = 100;

/// The query parameters of product listings (`/products`, `/categories/{id}/products`).
#[derive(Debug, Default, Deserialize)]
pub struct ProductListQuery {
    pub category_id: Option<String>,
    pub include_descendants: Option<String>,
    pub min_price: Option<String>,
    pub max_price: Option<String>,
    pub q: Option<String>,
    pub in_stock: Option<String>,
    pub include_inactive: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

impl ProductListQuery {
    /// The filter and page these parameters ask for. Inactive products are only for
    /// admins: `include_inactive=true` needs an admin token (401 without one, 403 for a
    /// customer).
    pub fn filter_and_page(
        &self,
        caller: &Caller,
    ) -> Result<(ProductFilter, PageRequest), ApiError> {
        let price = |name: &str, raw: &Option<String>| -> Result<Option<Money>, ApiError> {
            raw.as_deref()
                .map(|v| {
                    Money::parse_bound(v).map_err(|e| ApiError::BadRequest(format!("{name} {e}")))
                })
                .transpose()
        };
        let min_price = price("min_price", &self.min_price)?;
        let max_price = price("max_price", &self.max_price)?;
        if let (Some(min), Some(max)) = (min_price, max_price)
            && min > max
        {
            return Err(ApiError::BadRequest(
                "min_price must not exceed max_price".into(),
            ));
        }
        let name_contains = match self.q.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(q) if q.chars().count() > MAX_SEARCH_CHARS => {
                return Err(ApiError::BadRequest(format!(
                    "q must be at most {MAX_SEARCH_CHARS} characters"
                )));
            }
            Some(q) => Some(q.to_lowercase()),
        };
        let include_inactive =
            parse_bool_param("include_inactive", self.include_inactive.as_deref())?;
        if include_inactive {
            match &caller.0 {
                None => {
                    return Err(ApiError::Unauthorized(
                        "include_inactive=true needs an admin token".into(),
                    ));
                }
                Some(claims) if !claims.admin => {
                    return Err(ApiError::Forbidden(
                        "only admins may list inactive products".into(),
                    ));
                }
                Some(_) => {}
            }
        }
        let filter = ProductFilter {
            min_price,
            max_price,
            name_contains,
            in_stock_only: parse_bool_param("in_stock", self.in_stock.as_deref())?,
            include_inactive,
        };
        Ok((
            filter,
            page_request(self.limit.as_deref(), self.cursor.as_deref())?,
        ))
    }

    /// Whether descendants' products are included (default true).
    pub fn include_descendants(&self) -> Result<bool, ApiError> {
        match self.include_descendants.as_deref() {
            None => Ok(true),
            value => parse_bool_param("include_descendants", value),
        }
    }
}

/// Parses a category id given in a query parameter (400 when malformed).
pub fn category_id_param(name: &str, raw: &str) -> Result<CategoryId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::BadRequest(format!("{name} is not a valid category id")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Claims;

    fn claims(admin: bool) -> Claims {
        Claims {
            sub: "c".into(),
            email: "e@example.com".into(),
            name: "n".into(),
            admin,
            iss: "i".into(),
            aud: "a".into(),
            iat: 0,
            exp: 1,
        }
    }

    #[test]
    fn parses_filters() {
        let query = ProductListQuery {
            min_price: Some("10".into()),
            max_price: Some("99.50".into()),
            q: Some("  PhOne ".into()),
            in_stock: Some("true".into()),
            limit: Some("5".into()),
            ..Default::default()
        };
        let (filter, page) = query.filter_and_page(&Caller(None)).expect("valid");
        assert_eq!(
            filter.min_price.map(|m| m.to_string()).as_deref(),
            Some("10.00")
        );
        assert_eq!(filter.name_contains.as_deref(), Some("phone"));
        assert!(filter.in_stock_only && !filter.include_inactive);
        assert_eq!(page.limit.get(), 5);
    }

    #[test]
    fn refuses_bad_filters_with_400() {
        let bad = [
            ProductListQuery {
                min_price: Some("cheap".into()),
                ..Default::default()
            },
            ProductListQuery {
                min_price: Some("5".into()),
                max_price: Some("4".into()),
                ..Default::default()
            },
            ProductListQuery {
                in_stock: Some("1".into()),
                ..Default::default()
            },
            ProductListQuery {
                q: Some("x".repeat(101)),
                ..Default::default()
            },
        ];
        for query in bad {
            let status = query
                .filter_and_page(&Caller(None))
                .map(|_| 200)
                .unwrap_or_else(|e| e.status().as_u16());
            assert_eq!(status, 400, "{query:?}");
        }
    }

    #[test]
    fn inactive_products_are_for_admins_only() {
        let query = ProductListQuery {
            include_inactive: Some("true".into()),
            ..Default::default()
        };
        let status = |caller: Caller| {
            query
                .filter_and_page(&caller)
                .map(|_| 200)
                .unwrap_or_else(|e| e.status().as_u16())
        };
        assert_eq!(status(Caller(None)), 401);
        assert_eq!(status(Caller(Some(claims(false)))), 403);
        assert_eq!(status(Caller(Some(claims(true)))), 200);
    }
}
