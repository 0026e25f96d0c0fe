//! The routes each function is reached by, as template.yaml (API Gateway) and the local
//! emulator's router (`[workspace.metadata.lambda.watch.router]` in Cargo.toml) declare
//! them, so tests can check both against the function's own route table.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_yaml::Value;

use crate::DevkitError;
use crate::table::template_path;

/// `(METHOD, path)` pairs.
pub type RouteSet = BTreeSet<(String, String)>;

/// The HTTP API events of the function `logical_id` in template.yaml: its explicit routes,
/// and the paths it also takes `ANY` method on (so a wrong method reaches it for a 405).
pub fn template_routes(logical_id: &str) -> Result<(RouteSet, BTreeSet<String>), DevkitError> {
    let path = template_path();
    let yaml = std::fs::read_to_string(&path)
        .map_err(|e| DevkitError::Template(format!("{}: {e}", path.display())))?;
    let template: Value =
        serde_yaml::from_str(&yaml).map_err(|e| DevkitError::Template(e.to_string()))?;
    let events = template["Resources"][logical_id]["Properties"]["Events"]
        .as_mapping()
        .ok_or_else(|| DevkitError::Template(format!("{logical_id} has no Events")))?;
    let mut routes = RouteSet::new();
    let mut any = BTreeSet::new();
    for event in events.values() {
        if event["Type"].as_str() != Some("HttpApi") {
            continue;
        }
        let props = &event["Properties"];
        let (Some(method), Some(path)) = (props["Method"].as_str(), props["Path"].as_str()) else {
            return Err(DevkitError::Template(format!(
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

/// The paths the local emulator routes to `function`, each with the methods it routes
/// (`None`: every method).
pub fn watch_routes(
    function: &str,
) -> Result<Vec<(String, Option<BTreeSet<String>>)>, DevkitError> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| DevkitError::Other(e.to_string()))?;
    let manifest: toml::Value = text
        .parse()
        .map_err(|e: toml::de::Error| DevkitError::Other(e.to_string()))?;
    let router = manifest
        .get("workspace")
        .and_then(|w| w.get("metadata"))
        .and_then(|m| m.get("lambda"))
        .and_then(|l| l.get("watch"))
        .and_then(|w| w.get("router"))
        .and_then(toml::Value::as_table)
        .ok_or_else(|| {
            DevkitError::Other("Cargo.toml has no [workspace.metadata.lambda.watch.router]".into())
        })?;
    let mut routes = Vec::new();
    for (path, target) in router {
        match target {
            toml::Value::String(name) if name == function => routes.push((path.clone(), None)),
            toml::Value::Array(entries) => {
                for entry in entries {
                    if entry.get("function").and_then(toml::Value::as_str) != Some(function) {
                        continue;
                    }
                    let methods = entry
                        .get("methods")
                        .and_then(toml::Value::as_array)
                        .map(|ms| {
                            ms.iter()
                                .filter_map(toml::Value::as_str)
                                .map(str::to_ascii_uppercase)
                                .collect()
                        });
                    routes.push((path.clone(), methods));
                }
            }
            toml::Value::Table(entry)
                if entry.get("function").and_then(toml::Value::as_str) == Some(function) =>
            {
                let methods = entry
                    .get("methods")
                    .and_then(toml::Value::as_array)
                    .map(|ms| {
                        ms.iter()
                            .filter_map(toml::Value::as_str)
                            .map(str::to_ascii_uppercase)
                            .collect()
                    });
                routes.push((path.clone(), methods));
            }
            _ => {}
        }
    }
    Ok(routes)
}
