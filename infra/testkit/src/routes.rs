//! The routes each function is reached by, as template.yaml (API Gateway), the local
//! emulator's router (`[workspace.metadata.lambda.watch.router]` in Cargo.toml) and the
//! published contract (openapi.yaml) declare them, so tests can check all three against the
//! function's own route table.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_yaml::Value;

use crate::KitError;
use crate::table::template_path;

/// `(METHOD, path)` pairs.
pub type RouteSet = BTreeSet<(String, String)>;

/// The HTTP API events of the function `logical_id` in template.yaml: its explicit routes,
/// and the paths it also takes `ANY` method on (so a wrong method reaches it for a 405).
pub fn template_routes(logical_id: &str) -> Result<(RouteSet, BTreeSet<String>), KitError> {
    let path = template_path();
    let yaml = std::fs::read_to_string(&path)
        .map_err(|e| KitError::Template(format!("{}: {e}", path.display())))?;
    let template: Value =
        serde_yaml::from_str(&yaml).map_err(|e| KitError::Template(e.to_string()))?;
    let events = template["Resources"][logical_id]["Properties"]["Events"]
        .as_mapping()
        .ok_or_else(|| KitError::Template(format!("{logical_id} has no Events")))?;
    let mut routes = RouteSet::new();
    let mut any = BTreeSet::new();
    for event in events.values() {
        if event["Type"].as_str() != Some("HttpApi") {
            continue;
        }
        let props = &event["Properties"];
        let (Some(method), Some(path)) = (props["Method"].as_str(), props["Path"].as_str()) else {
            return Err(KitError::Template(format!(
                "{logical_id}: HttpApi event without Method and Path"
            )));
        };
        let method = method.to_ascii_uppercase();
        if method == "ANY" {
            any.insert(path.to_owned());
        } else {
            routes.insert((method, path.to_owned()));
        }
    }
    Ok((routes, any))
}

/// The operations of openapi.yaml: `(METHOD, path)` for every method of every path.
pub fn openapi_routes() -> Result<RouteSet, KitError> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let document = openapi_document()?;
    let paths = document["paths"]
        .as_mapping()
        .ok_or_else(|| KitError::Other("openapi.yaml has no paths".into()))?;
    let mut routes = RouteSet::new();
    for (path, item) in paths {
        let path = path
            .as_str()
            .ok_or_else(|| KitError::Other("openapi.yaml: a path that is not a string".into()))?;
        for method in METHODS {
            if item.get(method).is_some() {
                routes.insert((method.to_ascii_uppercase(), path.to_owned()));
            }
        }
    }
    Ok(routes)
}

/// openapi.yaml, parsed.
fn openapi_document() -> Result<Value, KitError> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi.yaml");
    let yaml = std::fs::read_to_string(&path)
        .map_err(|e| KitError::Other(format!("{}: {e}", path.display())))?;
    serde_yaml::from_str(&yaml).map_err(|e| KitError::Other(e.to_string()))
}

/// The local emulator's routing table: `(path template, function)` pairs from
/// `[workspace.metadata.lambda.watch.router]` in Cargo.toml (every method of a path goes to
/// its function, so a wrong method still reaches it and gets a 405).
pub fn watch_router() -> Result<Vec<(String, String)>, KitError> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| KitError::Other(e.to_string()))?;
    let manifest: toml::Table =
        toml::from_str(&text).map_err(|e| KitError::Other(e.to_string()))?;
    let router = manifest
        .get("workspace")
        .and_then(|w| w.get("metadata"))
        .and_then(|m| m.get("lambda"))
        .and_then(|l| l.get("watch"))
        .and_then(|w| w.get("router"))
        .and_then(toml::Value::as_table)
        .ok_or_else(|| {
            KitError::Other("Cargo.toml has no [workspace.metadata.lambda.watch.router]".into())
        })?;
    router
        .iter()
        .map(|(path, target)| match target.as_str() {
            Some(name) => Ok((path.clone(), name.to_owned())),
            None => Err(KitError::Other(format!(
                "watch router entry {path:?} must be a plain function name"
            ))),
        })
        .collect()
}

/// The paths the local emulator routes to `function` (for every method).
pub fn watch_paths(function: &str) -> Result<BTreeSet<String>, KitError> {
    Ok(watch_router()?
        .into_iter()
        .filter(|(_, name)| name == function)
        .map(|(path, _)| path)
        .collect())
}

/// Panics unless `routes` (a function's own route table) are exactly the routes
/// template.yaml gives the function `logical_id`, every path also has an `ANY` event (so a
/// wrong method reaches the function and gets a 405), the local emulator routes exactly
/// those paths to `function`, and openapi.yaml documents exactly those operations on them.
#[track_caller]
pub fn assert_declared(logical_id: &str, function: &str, routes: &[(axum::http::Method, &str)]) {
    let ours: RouteSet = routes
        .iter()
        .map(|(m, p)| (m.to_string(), (*p).to_owned()))
        .collect();
    let paths: BTreeSet<String> = ours.iter().map(|(_, p)| p.clone()).collect();
    let (template, any) = template_routes(logical_id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ours, template,
        "routes of {function} vs the HttpApi events of {logical_id} in template.yaml"
    );
    assert_eq!(
        any, paths,
        "every path of {logical_id} needs an ANY event in template.yaml"
    );
    let watched = watch_paths(function).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        watched, paths,
        "paths of {function} vs [workspace.metadata.lambda.watch.router]"
    );
    let documented: RouteSet = openapi_routes()
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter(|(_, path)| paths.contains(path))
        .collect();
    assert_eq!(
        documented, ours,
        "routes of {function} vs the operations openapi.yaml documents on its paths"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    // The JSON API's functions. ConsoleFunction (HTML at /console, outside /api/v1) is left
    // out on purpose: openapi.yaml documents the JSON API (functions/console/tests).
    const FUNCTIONS: [&str; 8] = [
        "CategoriesFunction",
        "ProductsFunction",
        "AuthFunction",
        "CustomersFunction",
        "AuditFunction",
        "OrdersFunction",
        "PaymentsFunction",
        "SmsDeliveryFunction",
    ];

    #[test]
    fn openapi_documents_exactly_the_routes_of_template_yaml() {
        let mut deployed = RouteSet::new();
        for function in FUNCTIONS {
            let (routes, _) = template_routes(function).expect("template routes");
            deployed.extend(routes);
        }
        let documented = openapi_routes().expect("openapi routes");
        assert_eq!(
            documented, deployed,
            "openapi.yaml vs template.yaml's HttpApi events"
        );
        assert_eq!(
            documented.len(),
            37,
            "29 paths, 37 operations (the template adds 29 ANY routes)"
        );
    }

    /// Every operation that reads or writes the table can answer 503 (the table
    /// unreachable, timing out or throttling) and says so; only the public keys, served
    /// from memory, cannot.
    #[test]
    fn every_operation_that_reaches_the_table_documents_its_503() {
        let document = openapi_document().expect("openapi.yaml");
        let mut missing = Vec::new();
        for (method, path) in openapi_routes().expect("openapi routes") {
            let operation = &document["paths"][path.as_str()][method.to_ascii_lowercase().as_str()];
            let documented = operation["responses"]["503"]["$ref"].as_str()
                == Some("#/components/responses/ServiceUnavailable");
            let from_memory = (method.as_str(), path.as_str()) == ("GET", "/api/v1/auth/jwks.json");
            if documented == from_memory {
                missing.push(format!("{method} {path}"));
            }
        }
        assert!(
            missing.is_empty(),
            "503 documented wrongly (missing, or on the in-memory key set): {missing:?}"
        );
    }
}
