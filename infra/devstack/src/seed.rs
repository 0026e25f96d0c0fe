//! The demo data of `make dev`: a small catalog (three levels of categories and a dozen
//! products) and the customers behind the printed tokens, each with a phone number.
//!
//! Invariant: seeding only adds what is missing, so it runs on every `make dev` and never
//! overwrites what someone changed through the API.

use domain::catalog_use_cases::Catalog;
use domain::category::CategoryName;
use domain::customer::{Customer, CustomerName, Registration};
use domain::product::{Description, NewProduct, ProductName, Sku};
use domain::{CategoryId, CategoryStore, CustomerId, CustomerStore, Money, PhoneNumber, Timestamp};
use storage::{DynamoCatalog, DynamoCustomers};

use crate::StackError;

/// `(path of category names, product name, SKU, price, stock)`.
const PRODUCTS: &[(&[&str], &str, &str, &str, u32)] = &[
    (
        &["Electronics", "Phones", "Smartphones"],
        "Tecno Spark 20",
        "TEC-SPARK20",
        "15999.00",
        40,
    ),
    (
        &["Electronics", "Phones", "Smartphones"],
        "Samsung Galaxy A15",
        "SAM-A15",
        "21499.00",
        25,
    ),
    (
        &["Electronics", "Phones", "Feature Phones"],
        "Nokia 105",
        "NOK-105",
        "2299.00",
        120,
    ),
    (
        &["Electronics", "Computers", "Laptops"],
        "HP 250 G9",
        "HP-250G9",
        "54999.00",
        8,
    ),
    (
        &["Electronics", "Computers", "Laptops"],
        "Lenovo IdeaPad 3",
        "LEN-IP3",
        "62999.00",
        5,
    ),
    (
        &["Electronics", "Computers"],
        "Logitech M185 Mouse",
        "LOG-M185",
        "1499.00",
        60,
    ),
    (
        &["Home & Kitchen", "Appliances"],
        "Ramtons Electric Kettle",
        "RAM-KET17",
        "2499.00",
        30,
    ),
    (
        &["Home & Kitchen", "Appliances"],
        "Mika Blender 1.5L",
        "MIKA-BL15",
        "4299.00",
        0,
    ),
    (
        &["Home & Kitchen", "Cookware"],
        "Sufuria Set (5 pcs)",
        "SUF-SET5",
        "3850.00",
        22,
    ),
    (
        &["Groceries", "Beverages"],
        "Kericho Gold Tea 500g",
        "KG-TEA500",
        "385.50",
        200,
    ),
    (
        &["Groceries", "Beverages"],
        "Dormans Coffee 250g",
        "DOR-COF250",
        "720.00",
        75,
    ),
    (
        &["Groceries", "Staples"],
        "Pembe Maize Flour 2kg",
        "PEM-MF2",
        "189.99",
        300,
    ),
];

/// Loads the demo catalog unless the table already holds categories. Returns how many
/// products it created.
pub async fn demo_catalog(store: &DynamoCatalog) -> Result<usize, StackError> {
    let fail = |e: domain::CatalogError| StackError::Other(format!("seeding: {e}"));
    if !store.subtree(None).await.map_err(fail)?.is_empty() {
        return Ok(0);
    }
    let actor = testkit::env::admin_actor();
    let mut created: Vec<(Vec<&str>, CategoryId)> = Vec::new();
    for (path, name, sku, price, stock) in PRODUCTS {
        let mut parent: Option<CategoryId> = None;
        for depth in 1..=path.len() {
            let prefix = &path[..depth];
            let existing = created
                .iter()
                .find(|(p, _)| p.as_slice() == prefix)
                .map(|(_, id)| *id);
            let id = match existing {
                Some(id) => id,
                None => {
                    let name = CategoryName::parse(prefix[depth - 1])
                        .map_err(|e| StackError::Other(e.to_string()))?;
                    let id = store
                        .create_category(name, parent, &actor)
                        .await
                        .map_err(fail)?
                        .id;
                    created.push((prefix.to_vec(), id));
                    id
                }
            };
            parent = Some(id);
        }
        let invalid = |e: &dyn std::fmt::Display| StackError::Other(format!("demo data: {e}"));
        let product = NewProduct {
            name: ProductName::parse(name).map_err(|e| invalid(&e))?,
            description: Some(
                Description::parse(&format!("{name}, in stock at our Nairobi warehouse."))
                    .map_err(|e| invalid(&e))?,
            ),
            sku: Some(Sku::parse(sku).map_err(|e| invalid(&e))?),
            price: Money::parse_price(price).map_err(|e| invalid(&e))?,
            stock_quantity: *stock,
            category_id: parent.ok_or_else(|| StackError::Other("empty category path".into()))?,
        };
        Catalog::new(store)
            .create_product(product, &actor)
            .await
            .map_err(fail)?;
    }
    Ok(PRODUCTS.len())
}

/// The demo customer's phone number: any number the M-Pesa stand-in does not script pays
/// successfully (its last four digits, 5678, are not one of the scripted outcomes).
pub const DEMO_CUSTOMER_PHONE: &str = "+254712345678";
/// The local admin's phone number (also pays successfully at the stand-in).
pub const DEMO_ADMIN_PHONE: &str = "+254722000111";

/// Stores the customers behind `make dev`'s printed tokens (the local admin and the demo
/// customer: [`testkit::env::admin_identity`], [`testkit::env::customer_identity`]) with
/// a phone number each, unless they are already stored, as the customers of the local
/// OpenID provider's users `admin` and `customer`. Returns how many it stored.
pub async fn demo_customers(store: &DynamoCustomers) -> Result<usize, StackError> {
    let fail = |e: &dyn std::fmt::Display| StackError::Other(format!("demo customers: {e}"));
    let mut stored = 0;
    for (identity, subject, phone) in [
        (testkit::env::admin_identity(), "admin", DEMO_ADMIN_PHONE),
        (
            testkit::env::customer_identity(),
            "customer",
            DEMO_CUSTOMER_PHONE,
        ),
    ] {
        let id: CustomerId = identity.customer_id.parse().map_err(|e| fail(&e))?;
        if store.customer(id).await.map_err(|e| fail(&e))?.is_some() {
            continue;
        }
        let now = Timestamp::now();
        let customer = Customer {
            id,
            email: identity.email.clone(),
            name: CustomerName::parse(&identity.name).map_err(|e| fail(&e))?,
            phone_number: Some(PhoneNumber::parse(phone).map_err(|e| fail(&e))?),
            is_admin: identity.admin,
            created_at: now,
            updated_at: now,
        };
        // The local OpenID provider's users `admin` and `customer` (infra/scripts/dev.sh):
        // signing in as them reaches these customers, so a printed token and a sign-in
        // are one and the same customer.
        match store
            .register(&customer, subject)
            .await
            .map_err(|e| fail(&e))?
        {
            Registration::Registered => stored += 1,
            Registration::SubjectTaken => {}
        }
    }
    Ok(stored)
}
