//! `index-customers`: the one-off upgrade that files the customers stored before staff's
//! lists existed (`GET /api/v1/customers`, no GSI1/GSI2 keys) in those lists. Run it once
//! per table after deploying the release that added the lists (docs/table-design.md).
//!
//! ```text
//! index-customers --table NAME
//! ```
//!
//! Credentials, region and endpoints come from the environment, as for the functions
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`;
//! `AWS_ENDPOINT_URL_DYNAMODB` for a local table). It needs `dynamodb:Scan` and
//! `dynamodb:UpdateItem` on the table, which no function's role has: the operator runs it
//! with their own. Invariants: it only adds the list keys, never changes a customer's own
//! fields, and leaves a customer a sign-in filed meanwhile as it is; it is idempotent (a
//! second run files nothing) and prints counts only, never a customer's data.

use storage::DynamoCustomers;

const USAGE: &str = "usage: index-customers --table NAME";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let table = match args.as_slice() {
        [flag, table] if flag == "--table" && !table.is_empty() => table.clone(),
        _ => {
            eprintln!("{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    let aws = match bootstrap::Aws::load() {
        Ok(aws) => aws,
        Err(err) => {
            eprintln!("index-customers: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let customers = DynamoCustomers::new(aws.dynamodb(), table.as_str());
    match customers.file_unlisted_customers().await {
        Ok(report) => {
            println!(
                "index-customers: {table}: {} scan pages, {} customers filed, {} changed meanwhile (filed by a sign-in; a second run files any still unfiled)",
                report.scanned_pages, report.filed, report.changed_meanwhile
            );
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("index-customers: {table}: {err} (nothing is lost: run it again)");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            std::process::ExitCode::FAILURE
        }
    }
}
