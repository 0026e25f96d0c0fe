//! `devkit`: sets up the local stack for `make dev` and runs its dev-only servers (the
//! SMS sandbox, the queue bridge).
//!
//! ```text
//! devkit bootstrap --table NAME --out DIR [--template FILE] [--issuer I] [--audience A]
//!                  [--oidc-issuer URL] [--oidc-client-id ID] [--oidc-client-secret S]
//!                  [--redirect-uri URI[,URI...]] [--admin-emails LIST]
//!                  [--sms-url URL] [--email-from ADDRESS] [--email-to ADDRESS]
//!     create the table from template.yaml (if missing), the notifications queue and its
//!     dead-letter queue, the SES sender identity, a local ES256 key pair (if missing),
//!     the demo catalog (if the table is empty); write DIR/dev.env for `cargo lambda
//!     watch` (every function: the local OpenID provider, the signing key, the admin
//!     list, the queue, VAT, the SMS stand-in and the email addresses) and print an admin
//!     and a customer token.
//! devkit create-table --table NAME [--template FILE]
//! devkit sms-sandbox --port P [--username sandbox] [--api-key KEY]
//!     serve the local stand-in for Africa's Talking's SMS API on 127.0.0.1:P
//!     (POST /version1/messaging; GET and DELETE /messages list and clear what it
//!     accepted) until stopped.
//! devkit queue-bridge --queue-url URL --invoke-url URL [--batch-size 10] [--wait-seconds 0]
//!     feed the queue at URL to the function at --invoke-url (cargo lambda watch:
//!     http://127.0.0.1:9000/2015-03-31/functions/<name>/invocations) as Lambda's SQS
//!     event source mapping with ReportBatchItemFailures would, until stopped.
//! devkit gateway --port P --invoke-url URL
//!     serve a local stand-in for API Gateway on 127.0.0.1:P that sends each request as a
//!     real API Gateway v2 event (non-UTF-8 bodies base64-encoded) to the function owning
//!     its path through the invoke API at URL (cargo lambda watch: http://127.0.0.1:9000),
//!     until stopped (make fuzz).
//! ```
//! `--template` defaults to the repository's template.yaml.
//! Every command but `sms-sandbox` and `gateway` only ever talks to the endpoint in `AWS_ENDPOINT_URL`,
//! and refuses to run without one, so it cannot touch a real AWS account. The two servers
//! log plain text lines to stderr (`RUST_LOG` filters, `info` by default).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use devkit::DevkitError;
use devkit::bridge::{Bridge, BridgeOptions, DEFAULT_BATCH_SIZE, DEFAULT_WAIT_SECONDS};
use devkit::keys::{self, KeyPair};
use devkit::sms_sandbox::{self, MESSAGING_PATH, SandboxConfig};
use devkit::table::{self, TableDefinition};
use devkit::testing::{admin_identity, customer_identity, local_client};
use storage::DynamoCatalog;

const DEFAULT_ISSUER: &str = "order-system-local";
const DEFAULT_AUDIENCE: &str = "order-system-api";
const LOCAL_KID: &str = "local-1";
const DEFAULT_OIDC_ISSUER: &str = "http://127.0.0.1:9400";
const DEFAULT_OIDC_CLIENT_ID: &str = "order-system-local";
/// The local provider accepts any secret; this one only exercises the code path.
const DEFAULT_OIDC_CLIENT_SECRET: &str = "local-secret";
/// The API's own callback (the default) and the back-office console's.
const DEFAULT_REDIRECT_URI: &str =
    "http://127.0.0.1:9000/api/v1/auth/google/callback,http://127.0.0.1:9000/console/callback";
const DEFAULT_ADMIN_EMAILS: &str = "admin@example.com";
/// The SMS sandbox's account (Africa's Talking's own sandbox username is `sandbox`).
const DEFAULT_SMS_USERNAME: &str = "sandbox";
const DEFAULT_SMS_API_KEY: &str = "local-sandbox-key";
const DEFAULT_SMS_URL: &str = "http://127.0.0.1:9500";
const DEFAULT_EMAIL_FROM: &str = "orders@shop.example.com";
const DEFAULT_EMAIL_TO: &str = "admin@example.com";

fn usage() -> DevkitError {
    DevkitError::Other(
        "usage: devkit bootstrap --table NAME --out DIR [--template FILE] [--issuer I] [--audience A] | devkit create-table --table NAME [--template FILE] | devkit sms-sandbox --port P [--username sandbox] [--api-key KEY] | devkit queue-bridge --queue-url URL --invoke-url URL [--batch-size 10] [--wait-seconds 0] | devkit gateway --port P --invoke-url URL".into(),
    )
}

fn options(args: &[String]) -> Result<HashMap<String, String>, DevkitError> {
    let mut options = HashMap::new();
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let name = flag.strip_prefix("--").ok_or_else(usage)?;
        let value = iter.next().ok_or_else(usage)?;
        options.insert(name.to_owned(), value.clone());
    }
    Ok(options)
}

fn write(path: &Path, contents: &str) -> Result<(), DevkitError> {
    std::fs::write(path, contents)
        .map_err(|e| DevkitError::Other(format!("{}: {e}", path.display())))
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The local key pair in `dir`, made on first use.
fn local_keys(dir: &Path) -> Result<KeyPair, DevkitError> {
    let (pem_path, jwks_path) = (dir.join("jwt-private.pem"), dir.join("jwks.json"));
    if let (Some(private_pem), Some(jwks)) = (read(&pem_path), read(&jwks_path)) {
        return Ok(KeyPair {
            kid: LOCAL_KID.into(),
            private_pem,
            jwks,
        });
    }
    let pair = keys::generate(LOCAL_KID)?;
    write(&pem_path, &pair.private_pem)?;
    write(&jwks_path, &pair.jwks)?;
    Ok(pair)
}

async fn ensure_table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    template: Option<&String>,
) -> Result<bool, DevkitError> {
    if table::exists(client, name).await? {
        return Ok(false);
    }
    let definition = match template {
        Some(path) => {
            let yaml = std::fs::read_to_string(path)
                .map_err(|e| DevkitError::Template(format!("{path}: {e}")))?;
            TableDefinition::from_template(&yaml)?
        }
        None => TableDefinition::from_repository()?,
    };
    definition.create(client, name).await?;
    Ok(true)
}

/// Plain text log lines on stderr, filtered by `RUST_LOG` (`info` by default).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

async fn serve_sms_sandbox(options: &HashMap<String, String>) -> Result<(), DevkitError> {
    let port = options.get("port").ok_or_else(usage)?;
    let port: u16 = port
        .parse()
        .map_err(|_| DevkitError::Other(format!("--port {port}: not a port number")))?;
    let option =
        |name: &str, default: &str| options.get(name).map_or(default, String::as_str).to_owned();
    let config = SandboxConfig {
        username: option("username", DEFAULT_SMS_USERNAME),
        api_key: option("api-key", DEFAULT_SMS_API_KEY),
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| DevkitError::Other(format!("127.0.0.1:{port}: {e}")))?;
    init_logging();
    tracing::info!(
        url = %format!("http://127.0.0.1:{port}{MESSAGING_PATH}"),
        username = %config.username,
        "sms sandbox: listening"
    );
    sms_sandbox::serve(listener, config)
        .await
        .map_err(|e| DevkitError::Other(format!("sms sandbox: {e}")))
}

async fn run_queue_bridge(
    endpoint: &str,
    options: &HashMap<String, String>,
) -> Result<(), DevkitError> {
    let queue_url = options.get("queue-url").ok_or_else(usage)?;
    let invoke_url = options.get("invoke-url").ok_or_else(usage)?;
    let number = |name: &str, default: i32| match options.get(name) {
        None => Ok(default),
        Some(value) => value
            .parse()
            .map_err(|_| DevkitError::Other(format!("--{name} {value}: not a number"))),
    };
    let bridge = Bridge::new(
        devkit::queues::local_sqs_client(endpoint),
        queue_url.as_str(),
        invoke_url.as_str(),
        BridgeOptions {
            batch_size: number("batch-size", DEFAULT_BATCH_SIZE)?,
            wait_seconds: number("wait-seconds", DEFAULT_WAIT_SECONDS)?,
        },
    )?;
    init_logging();
    bridge.run().await;
    Ok(())
}

async fn run(args: Vec<String>) -> Result<(), DevkitError> {
    let (command, rest) = args.split_first().ok_or_else(usage)?;
    let options = options(rest)?;
    // The SMS sandbox talks to no AWS service.
    if command == "sms-sandbox" {
        return serve_sms_sandbox(&options).await;
    }
    // Neither does the gateway: it only invokes local functions.
    if command == "gateway" {
        let port = options.get("port").ok_or_else(usage)?;
        let port: u16 = port
            .parse()
            .map_err(|_| DevkitError::Other(format!("--port {port}: not a port number")))?;
        let invoke = options.get("invoke-url").ok_or_else(usage)?;
        return devkit::gateway::serve(port, invoke).await;
    }
    let endpoint = std::env::var("AWS_ENDPOINT_URL").map_err(|_| {
        DevkitError::Other(
            "AWS_ENDPOINT_URL is not set: devkit only talks to the local stack".into(),
        )
    })?;
    // The table may have an emulator of its own (DynamoDB Local), as the SDK reads it.
    let dynamodb = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_else(|_| endpoint.clone());
    let client = local_client(&dynamodb);
    match command.as_str() {
        "create-table" => {
            let table = options.get("table").ok_or_else(usage)?;
            let created = ensure_table(&client, table, options.get("template")).await?;
            println!(
                "table {table}: {}",
                if created { "created" } else { "already there" }
            );
            Ok(())
        }
        "bootstrap" => {
            let table = options.get("table").ok_or_else(usage)?;
            let out = PathBuf::from(options.get("out").ok_or_else(usage)?);
            std::fs::create_dir_all(&out).map_err(|e| DevkitError::Other(e.to_string()))?;
            let issuer = options.get("issuer").map_or(DEFAULT_ISSUER, String::as_str);
            let audience = options
                .get("audience")
                .map_or(DEFAULT_AUDIENCE, String::as_str);
            let created = ensure_table(&client, table, options.get("template")).await?;
            let seeded =
                devkit::seed::demo_catalog(&DynamoCatalog::new(client.clone(), table.as_str()))
                    .await?;
            let pair = local_keys(&out)?;
            let queues = devkit::queues::ensure_queues(
                &devkit::queues::local_sqs_client(&endpoint),
                &format!("{table}-notifications"),
                devkit::queues::QueueSettings::from_repository()?,
            )
            .await?;
            let option = |name: &str, default: &'static str| {
                options.get(name).map_or(default, String::as_str).to_owned()
            };
            let mut env = format!(
                "TABLE_NAME={table}\nJWT_ISSUER={issuer}\nJWT_AUDIENCE={audience}\nJWT_PUBLIC_JWKS='{}'\nAWS_ENDPOINT_URL={endpoint}\nAWS_ENDPOINT_URL_DYNAMODB={dynamodb}\nAWS_REGION=us-east-1\nAWS_ACCESS_KEY_ID=test\nAWS_SECRET_ACCESS_KEY=test\nRUST_LOG=info\nVAT_RATE=0.16\nNOTIFICATIONS_QUEUE_URL={}\nNOTIFICATIONS_DLQ_URL={}\nHAND_OFF_GRACE_SECONDS=60\n",
                pair.jwks, queues.notifications, queues.dead_letters
            );
            // The auth function: our signing key (PEM with \n escapes on one line), the
            // local OpenID provider standing in for Google, and the admin list.
            env.push_str(&format!(
                "JWT_KEY_ID={}\nJWT_PRIVATE_KEY='{}'\nOIDC_ISSUER_URL={}\nOIDC_CLIENT_ID={}\nOIDC_CLIENT_SECRET={}\nOIDC_REDIRECT_URIS={}\nADMIN_EMAILS={}\n",
                pair.kid,
                pair.private_pem.trim().replace('\n', "\\n"),
                option("oidc-issuer", DEFAULT_OIDC_ISSUER),
                option("oidc-client-id", DEFAULT_OIDC_CLIENT_ID),
                option("oidc-client-secret", DEFAULT_OIDC_CLIENT_SECRET),
                option("redirect-uri", DEFAULT_REDIRECT_URI),
                option("admin-emails", DEFAULT_ADMIN_EMAILS),
            ));
            // The notifier: the local Africa's Talking stand-in, the SES sender (made a
            // verified identity here) and the admin address; quicker retries than in AWS.
            let sms_url = option("sms-url", DEFAULT_SMS_URL);
            let email_from = option("email-from", DEFAULT_EMAIL_FROM);
            let email_to = option("email-to", DEFAULT_EMAIL_TO);
            devkit::email::ensure_identity(
                &devkit::email::local_ses_client(&endpoint),
                &email_from,
            )
            .await?;
            env.push_str(&format!(
                "AT_BASE_URL={sms_url}\nAT_USERNAME={DEFAULT_SMS_USERNAME}\nAT_API_KEY={DEFAULT_SMS_API_KEY}\nAT_SENDER_ID=\nORDER_EMAIL_FROM={email_from}\nORDER_EMAIL_TO={email_to}\nRETRY_BASE_SECONDS=10\nRETRY_MAX_SECONDS=120\n",
            ));
            write(&out.join("dev.env"), &env)?;
            let signer = pair.signer(issuer, audience)?;
            let admin = keys::token(&signer, &admin_identity())?;
            let customer = keys::token(&signer, &customer_identity())?;
            write(&out.join("admin.token"), &admin)?;
            write(&out.join("customer.token"), &customer)?;
            println!(
                "table {table}: {}",
                if created { "created" } else { "already there" }
            );
            println!("demo catalog: {seeded} products loaded");
            println!("notifications queue: {}", queues.notifications);
            println!("dead-letter queue:   {}", queues.dead_letters);
            println!("order emails:        {email_from} -> {email_to} (SES on the emulator)");
            println!("\nADMIN_TOKEN={admin}\n\nCUSTOMER_TOKEN={customer}\n");
            println!(
                "(also in {0}/admin.token and {0}/customer.token; valid 24 h)",
                out.display()
            );
            Ok(())
        }
        "queue-bridge" => run_queue_bridge(&endpoint, &options).await,
        _ => Err(usage()),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(err) = run(args).await {
        eprintln!("devkit: {err}");
        std::process::exit(1);
    }
}
