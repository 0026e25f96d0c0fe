//! The table definition, read from the `AWS::DynamoDB::Table` resource of template.yaml so
//! that the local table and the deployed one cannot drift apart.

use std::path::PathBuf;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use serde_yaml::Value;

use crate::KitError;

/// The repository's template.yaml.
pub fn template_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")
}

/// The parts of the table resource that CreateTable needs.
#[derive(Debug, Clone)]
pub struct TableDefinition {
    pub attributes: Vec<AttributeDefinition>,
    pub key_schema: Vec<KeySchemaElement>,
    pub indexes: Vec<GlobalSecondaryIndex>,
    pub ttl_attribute: Option<String>,
}

fn template_err(message: impl Into<String>) -> KitError {
    KitError::Template(message.into())
}

fn str_at<'a>(value: &'a Value, key: &str) -> Result<&'a str, KitError> {
    value
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| template_err(format!("missing string {key}")))
}

fn list_at<'a>(value: &'a Value, key: &str) -> Result<&'a [Value], KitError> {
    value
        .get(key)
        .and_then(Value::as_sequence)
        .map(Vec::as_slice)
        .ok_or_else(|| template_err(format!("missing list {key}")))
}

fn key_schema(elements: &[Value]) -> Result<Vec<KeySchemaElement>, KitError> {
    elements
        .iter()
        .map(|e| {
            KeySchemaElement::builder()
                .attribute_name(str_at(e, "AttributeName")?)
                .key_type(KeyType::from(str_at(e, "KeyType")?))
                .build()
                .map_err(|err| template_err(err.to_string()))
        })
        .collect()
}

impl TableDefinition {
    /// Reads the single `AWS::DynamoDB::Table` resource of a SAM/CloudFormation template.
    pub fn from_template(yaml: &str) -> Result<Self, KitError> {
        let template: Value =
            serde_yaml::from_str(yaml).map_err(|e| template_err(e.to_string()))?;
        let resources = template
            .get("Resources")
            .and_then(Value::as_mapping)
            .ok_or_else(|| template_err("no Resources"))?;
        let mut tables = resources
            .values()
            .filter(|r| r.get("Type").and_then(Value::as_str) == Some("AWS::DynamoDB::Table"));
        let table = tables
            .next()
            .ok_or_else(|| template_err("no AWS::DynamoDB::Table resource"))?;
        if tables.next().is_some() {
            return Err(template_err("more than one table: the design has one"));
        }
        let props = table
            .get("Properties")
            .ok_or_else(|| template_err("table has no Properties"))?;
        let attributes = list_at(props, "AttributeDefinitions")?
            .iter()
            .map(|a| {
                AttributeDefinition::builder()
                    .attribute_name(str_at(a, "AttributeName")?)
                    .attribute_type(ScalarAttributeType::from(str_at(a, "AttributeType")?))
                    .build()
                    .map_err(|err| template_err(err.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let indexes = match props.get("GlobalSecondaryIndexes") {
            None => Vec::new(),
            Some(_) => list_at(props, "GlobalSecondaryIndexes")?
                .iter()
                .map(|index| {
                    let projection = index
                        .get("Projection")
                        .ok_or_else(|| template_err("index without Projection"))?;
                    GlobalSecondaryIndex::builder()
                        .index_name(str_at(index, "IndexName")?)
                        .set_key_schema(Some(key_schema(list_at(index, "KeySchema")?)?))
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::from(str_at(
                                    projection,
                                    "ProjectionType",
                                )?))
                                .build(),
                        )
                        .build()
                        .map_err(|err| template_err(err.to_string()))
                })
                .collect::<Result<_, _>>()?,
        };
        let ttl_attribute = props
            .get("TimeToLiveSpecification")
            .filter(|ttl| ttl.get("Enabled").and_then(Value::as_bool) == Some(true))
            .and_then(|ttl| ttl.get("AttributeName").and_then(Value::as_str))
            .map(str::to_owned);
        Ok(Self {
            attributes,
            key_schema: key_schema(list_at(props, "KeySchema")?)?,
            indexes,
            ttl_attribute,
        })
    }

    /// Reads the repository's template.yaml.
    pub fn from_repository() -> Result<Self, KitError> {
        let path = template_path();
        let yaml = std::fs::read_to_string(&path)
            .map_err(|e| template_err(format!("{}: {e}", path.display())))?;
        Self::from_template(&yaml)
    }

    /// Creates the table `name` with this definition (on-demand billing) and its TTL.
    pub async fn create(&self, client: &Client, name: &str) -> Result<(), KitError> {
        client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(self.attributes.clone()))
            .set_key_schema(Some(self.key_schema.clone()))
            .set_global_secondary_indexes((!self.indexes.is_empty()).then(|| self.indexes.clone()))
            .send()
            .await
            .map_err(KitError::dynamo)?;
        if let Some(attribute) = &self.ttl_attribute {
            let spec = TimeToLiveSpecification::builder()
                .attribute_name(attribute)
                .enabled(true)
                .build()
                .map_err(KitError::dynamo)?;
            client
                .update_time_to_live()
                .table_name(name)
                .time_to_live_specification(spec)
                .send()
                .await
                .map_err(KitError::dynamo)?;
        }
        Ok(())
    }
}

/// True when the table `name` exists.
pub async fn exists(client: &Client, name: &str) -> Result<bool, KitError> {
    match client.describe_table().table_name(name).send().await {
        Ok(_) => Ok(true),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(false)
        }
        Err(err) => Err(KitError::dynamo(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_repository_template() {
        let table = TableDefinition::from_repository().expect("template.yaml defines the table");
        let key_names: Vec<&str> = table
            .key_schema
            .iter()
            .map(|k| k.attribute_name())
            .collect();
        assert_eq!(key_names, [storage::keys::PK, storage::keys::SK]);
        let index_names: Vec<&str> = table.indexes.iter().map(|i| i.index_name()).collect();
        assert!(
            index_names.contains(&storage::keys::GSI1)
                && index_names.contains(&storage::keys::GSI2)
        );
        // Every index the storage crate queries is created for the tests.
        for index in [
            storage::keys::GSI3,
            storage::keys::GSI4,
            storage::keys::GSI5,
            storage::keys::GSI6,
        ] {
            assert!(index_names.contains(&index), "{index}");
        }
        assert!(table.ttl_attribute.is_some());
    }
}
