//! One conditional `UpdateItem`, the way every adapter writes a single item.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnValue;

use crate::expr::Expr;
use crate::item::Item;

/// Applies `expr` (its update, under its condition) to the item at `key` and returns the
/// item as written.
pub(crate) async fn update_item(
    client: &Client,
    table: &str,
    key: Item,
    expr: &Expr,
) -> Result<Item, UpdateItemError> {
    client
        .update_item()
        .table_name(table)
        .set_key(Some(key))
        .set_update_expression(expr.update_expression())
        .set_condition_expression(expr.condition_expression())
        .set_expression_attribute_names(expr.names())
        .set_expression_attribute_values(expr.values())
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .map(|output| output.attributes.unwrap_or_default())
        .map_err(|e| e.into_service_error())
}
