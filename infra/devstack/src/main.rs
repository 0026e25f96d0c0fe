//! `devstack`: sets up the local stack for `make dev` and runs its local stand-ins (the
//! Africa's Talking stand-in, the M-Pesa Daraja stand-in, the queue bridge, the API
//! Gateway stand-in). Wiring only: the work is in the library's modules. `devstack --help`
//! lists the commands and their options with their defaults.
//!
//! Invariants: `bootstrap` and `queue-bridge` talk only to the endpoint in
//! `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_DYNAMODB` for the table) and refuse to run
//! without one, so they cannot touch a real AWS account; `sms-sandbox`, `mpesa-sandbox`
//! and `gateway` talk to no AWS service. The servers log plain text lines to stderr
//! (`RUST_LOG` filters, `info` by default).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use devstack::StackError;
use devstack::bootstrap::Bootstrap;
use devstack::bridge::{Bridge, BridgeOptions, DEFAULT_BATCH_SIZE, DEFAULT_WAIT_SECONDS};
use devstack::mpesa::{self, MpesaSandboxConfig};
use devstack::sms::{self, DeliveryReportConfig, MESSAGING_PATH, SandboxConfig};

/// The local stack of `make dev`: never deployed.
#[derive(Debug, Parser)]
#[command(name = "devstack", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the table from template.yaml (if missing), the notifications queue and its
    /// dead-letter queue, the SES sender identity, a local key pair (if missing) and the
    /// demo catalog (if the table is empty); write OUT/dev.env for `cargo lambda watch`
    /// and print an admin's and a customer's token.
    Bootstrap(Box<BootstrapArgs>),
    /// Serve the Africa's Talking stand-in on 127.0.0.1:PORT (POST /version1/messaging;
    /// GET /messages lists what it accepted) until stopped. With --delivery-report-url it
    /// POSTs each accepted SMS's delivery report there, as Africa's Talking posts to the
    /// account's delivery reports callback; GET /delivery-reports lists the reports it
    /// posted.
    SmsSandbox(Box<SmsSandboxArgs>),
    /// Serve the M-Pesa Daraja stand-in on 127.0.0.1:PORT (Daraja's OAuth, STK push and
    /// query, C2B register and simulate, reversal paths; GET /deliveries lists the
    /// callbacks it POSTed) until stopped.
    MpesaSandbox(Box<MpesaSandboxArgs>),
    /// Feed the queue at QUEUE_URL to the function at INVOKE_URL (cargo lambda watch:
    /// http://127.0.0.1:9000/2015-03-31/functions/<name>/invocations) as Lambda's SQS event
    /// source mapping with ReportBatchItemFailures would, until stopped.
    QueueBridge {
        #[arg(long)]
        queue_url: String,
        #[arg(long)]
        invoke_url: String,
        /// Most messages per batch, 1 to 10.
        #[arg(long, default_value_t = DEFAULT_BATCH_SIZE)]
        batch_size: i32,
        /// Long-poll wait of each receive, 0 to 20 seconds.
        #[arg(long, default_value_t = DEFAULT_WAIT_SECONDS)]
        wait_seconds: i32,
    },
    /// Serve a stand-in for API Gateway on 127.0.0.1:PORT that sends each request as a
    /// real API Gateway v2 event to the function owning its path, through the invoke API
    /// at INVOKE_URL (cargo lambda watch: http://127.0.0.1:9000), until stopped.
    Gateway {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        invoke_url: String,
    },
}

#[derive(Debug, clap::Args)]
struct SmsSandboxArgs {
    #[arg(long)]
    port: u16,
    #[arg(long, default_value = "sandbox")]
    username: String,
    #[arg(long, default_value = "local-sandbox-key")]
    api_key: String,
    /// Where delivery reports go, the receiver's secret token included (none: no reports).
    #[arg(long)]
    delivery_report_url: Option<String>,
    /// From an accepted SMS to its delivery report.
    #[arg(long, default_value_t = 1000)]
    report_delay_ms: u64,
}

impl SmsSandboxArgs {
    fn config(self) -> SandboxConfig {
        SandboxConfig {
            username: self.username,
            api_key: self.api_key,
            delivery_reports: self.delivery_report_url.map(|url| DeliveryReportConfig {
                url,
                delay: Duration::from_millis(self.report_delay_ms),
                retry_spacing: sms::DEFAULT_RETRY_SPACING,
            }),
        }
    }
}

#[derive(Debug, clap::Args)]
struct MpesaSandboxArgs {
    #[arg(long)]
    port: u16,
    #[arg(long, default_value = mpesa::LOCAL_CONSUMER_KEY)]
    consumer_key: String,
    #[arg(long, default_value = mpesa::LOCAL_CONSUMER_SECRET)]
    consumer_secret: String,
    /// The Paybill it serves (Daraja's sandbox one by default).
    #[arg(long, default_value = mpesa::SANDBOX_SHORTCODE)]
    shortcode: String,
    /// The Lipa na M-Pesa Online passkey (Daraja's public sandbox one by default).
    #[arg(long, default_value = mpesa::SANDBOX_PASSKEY)]
    passkey: String,
    /// The reversal's Initiator.
    #[arg(long, default_value = mpesa::SANDBOX_INITIATOR)]
    initiator_name: String,
    /// The reversal's SecurityCredential, compared as given.
    #[arg(long, default_value = mpesa::LOCAL_SECURITY_CREDENTIAL)]
    security_credential: String,
    /// From an STK push or a reversal request to its outcome and callback.
    #[arg(long, default_value_t = 1000)]
    decision_delay_ms: u64,
}

impl MpesaSandboxArgs {
    fn config(self) -> MpesaSandboxConfig {
        MpesaSandboxConfig {
            consumer_key: self.consumer_key,
            consumer_secret: self.consumer_secret,
            shortcode: self.shortcode,
            passkey: self.passkey,
            initiator_name: self.initiator_name,
            security_credential: self.security_credential,
            token_lifetime: mpesa::DEFAULT_TOKEN_LIFETIME,
            decision_delay: Duration::from_millis(self.decision_delay_ms),
        }
    }
}

#[derive(Debug, clap::Args)]
struct BootstrapArgs {
    #[arg(long)]
    table: String,
    /// Where the key pair, dev.env and the tokens go.
    #[arg(long)]
    out: PathBuf,
    /// The template whose Table resource is created (default: the repository's).
    #[arg(long)]
    template: Option<PathBuf>,
    #[arg(long, default_value = "order-system-local")]
    issuer: String,
    #[arg(long, default_value = "order-system-api")]
    audience: String,
    #[arg(long, default_value = "http://127.0.0.1:9400")]
    oidc_issuer: String,
    #[arg(long, default_value = "order-system-local")]
    oidc_client_id: String,
    /// The local provider accepts any secret; this one only exercises the code path.
    #[arg(long, default_value = "local-secret")]
    oidc_client_secret: String,
    /// Allowed redirect URIs, comma-separated: the API's callback and the console's.
    #[arg(
        long = "redirect-uri",
        default_value = "http://127.0.0.1:9000/api/v1/auth/google/callback,http://127.0.0.1:9000/console/callback"
    )]
    redirect_uris: String,
    /// The admins' e-mail addresses, comma-separated.
    #[arg(long, default_value = "admin@example.com")]
    admin_emails: String,
    /// The Africa's Talking stand-in (`devstack sms-sandbox`).
    #[arg(long, default_value = "http://127.0.0.1:9500")]
    sms_url: String,
    #[arg(long, default_value = "orders@shop.example.com")]
    email_from: String,
    #[arg(long, default_value = "admin@example.com")]
    email_to: String,
    /// The M-Pesa stand-in (`devstack mpesa-sandbox`, with its default account).
    #[arg(long, default_value = "http://127.0.0.1:9600")]
    mpesa_url: String,
    /// The API's base URL as M-Pesa reaches it (callback URLs are built under it).
    #[arg(long, default_value = "http://127.0.0.1:9000/api/v1")]
    api_url: String,
}

/// The SMS stand-in's account, as `dev.env` gives it to the notifier (Africa's Talking's
/// own sandbox username is `sandbox`).
const SMS_USERNAME: &str = "sandbox";
const SMS_API_KEY: &str = "local-sandbox-key";

/// The local emulator's endpoint: required, so nothing reaches a real AWS account.
fn local_endpoint() -> Result<String, StackError> {
    std::env::var("AWS_ENDPOINT_URL").map_err(|_| {
        StackError::Other(
            "AWS_ENDPOINT_URL is not set: devstack only talks to the local stack".into(),
        )
    })
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

async fn bootstrap(args: BootstrapArgs) -> Result<(), StackError> {
    let endpoint = local_endpoint()?;
    // The table may have an emulator of its own (DynamoDB Local), as the SDK reads it.
    let dynamodb_endpoint =
        std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_else(|_| endpoint.clone());
    let out = args.out.clone();
    let report = Bootstrap {
        endpoint,
        dynamodb_endpoint,
        table: args.table.clone(),
        out: args.out,
        template: args.template,
        issuer: args.issuer,
        audience: args.audience,
        oidc_issuer: args.oidc_issuer,
        oidc_client_id: args.oidc_client_id,
        oidc_client_secret: args.oidc_client_secret,
        redirect_uris: args.redirect_uris,
        admin_emails: args.admin_emails,
        sms_url: args.sms_url,
        sms_username: SMS_USERNAME.into(),
        sms_api_key: SMS_API_KEY.into(),
        email_from: args.email_from.clone(),
        email_to: args.email_to.clone(),
        mpesa_url: args.mpesa_url.clone(),
        mpesa: MpesaSandboxConfig::default(),
        api_base_url: args.api_url,
    }
    .run()
    .await?;
    let created = if report.table_created {
        "created"
    } else {
        "already there"
    };
    println!("table {}: {created}", args.table);
    println!("demo catalog: {} products loaded", report.products_seeded);
    println!(
        "demo customers: {} stored (the printed tokens' own, each with a phone number)",
        report.customers_seeded
    );
    println!(
        "M-Pesa stand-in:     {} (Paybill {})",
        args.mpesa_url,
        MpesaSandboxConfig::default().shortcode
    );
    println!("notifications queue: {}", report.notifications_queue);
    println!("dead-letter queue:   {}", report.dead_letter_queue);
    println!(
        "order emails:        {} -> {} (SES on the emulator)",
        args.email_from, args.email_to
    );
    println!(
        "\nADMIN_TOKEN={}\n\nCUSTOMER_TOKEN={}\n",
        report.admin_token, report.customer_token
    );
    println!(
        "(also in {0}/admin.token and {0}/customer.token; valid 24 h)",
        out.display()
    );
    Ok(())
}

async fn run(command: Command) -> Result<(), StackError> {
    match command {
        Command::Bootstrap(args) => bootstrap(*args).await,
        Command::SmsSandbox(args) => {
            let port = args.port;
            let config = args.config();
            // Whether reports are on and when, never where (the URL holds a secret).
            let report_delay_ms = config
                .delivery_reports
                .as_ref()
                .map(|reports| reports.delay.as_millis());
            let sandbox = sms::start(config, port)
                .await
                .map_err(|e| StackError::Other(format!("127.0.0.1:{port}: {e}")))?;
            init_logging();
            tracing::info!(
                url = %format!("{}{MESSAGING_PATH}", sandbox.base_url),
                delivery_reports = report_delay_ms.is_some(),
                report_delay_ms,
                "sms sandbox: listening"
            );
            sandbox.wait().await;
            Ok(())
        }
        Command::MpesaSandbox(args) => {
            let port = args.port;
            let sandbox = mpesa::start(args.config(), port)
                .await
                .map_err(|e| StackError::Other(format!("127.0.0.1:{port}: {e}")))?;
            init_logging();
            tracing::info!(url = %sandbox.base_url, "mpesa sandbox: listening");
            sandbox.wait().await;
            Ok(())
        }
        Command::QueueBridge {
            queue_url,
            invoke_url,
            batch_size,
            wait_seconds,
        } => {
            let bridge = Bridge::new(
                testkit::queues::local_sqs_client(&local_endpoint()?),
                queue_url,
                invoke_url,
                BridgeOptions {
                    batch_size,
                    wait_seconds,
                },
            )?;
            init_logging();
            bridge.run().await;
            Ok(())
        }
        Command::Gateway { port, invoke_url } => devstack::gateway::serve(port, &invoke_url).await,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(err) = run(Cli::parse().command).await {
        eprintln!("devstack: {err}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bootstrap_takes_the_flags_the_scripts_pass() {
        let cli = Cli::try_parse_from([
            "devstack",
            "bootstrap",
            "--template",
            "template.yaml",
            "--table",
            "dev",
            "--out",
            ".local",
            "--oidc-issuer",
            "http://127.0.0.1:9401",
            "--admin-emails",
            "a@example.com",
            "--redirect-uri",
            "http://127.0.0.1:9001/api/v1/auth/google/callback",
            "--sms-url",
            "http://127.0.0.1:9501",
            "--email-to",
            "b@example.com",
            "--mpesa-url",
            "http://127.0.0.1:9601",
            "--api-url",
            "http://127.0.0.1:9001/api/v1",
        ])
        .expect("parses");
        let Command::Bootstrap(args) = cli.command else {
            panic!("not bootstrap: {cli:?}");
        };
        assert_eq!(args.table, "dev");
        assert_eq!(args.sms_url, "http://127.0.0.1:9501");
        assert_eq!(args.mpesa_url, "http://127.0.0.1:9601");
        assert_eq!(args.api_url, "http://127.0.0.1:9001/api/v1");
        assert_eq!(args.issuer, "order-system-local");
    }

    #[test]
    fn mpesa_sandbox_defaults_to_darajas_sandbox_account() {
        let cli =
            Cli::try_parse_from(["devstack", "mpesa-sandbox", "--port", "9600"]).expect("parses");
        let Command::MpesaSandbox(args) = cli.command else {
            panic!("not mpesa-sandbox: {cli:?}");
        };
        assert_eq!(args.port, 9600);
        let config = args.config();
        assert_eq!(config, MpesaSandboxConfig::default());
        assert_eq!(config.shortcode, "174379");
        assert_eq!(
            config.passkey,
            "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
        );
        assert_eq!(config.decision_delay, Duration::from_secs(1));
    }

    #[test]
    fn mpesa_sandbox_takes_its_account_and_delay() {
        let cli = Cli::try_parse_from([
            "devstack",
            "mpesa-sandbox",
            "--port",
            "9601",
            "--consumer-key",
            "k",
            "--consumer-secret",
            "s",
            "--shortcode",
            "600000",
            "--passkey",
            "p",
            "--initiator-name",
            "ops",
            "--security-credential",
            "c",
            "--decision-delay-ms",
            "25",
        ])
        .expect("parses");
        let Command::MpesaSandbox(args) = cli.command else {
            panic!("not mpesa-sandbox: {cli:?}");
        };
        let config = args.config();
        assert_eq!(
            (
                config.consumer_key.as_str(),
                config.consumer_secret.as_str(),
                config.shortcode.as_str(),
                config.passkey.as_str(),
                config.initiator_name.as_str(),
                config.security_credential.as_str(),
            ),
            ("k", "s", "600000", "p", "ops", "c")
        );
        assert_eq!(config.decision_delay, Duration::from_millis(25));
        assert_eq!(config.token_lifetime, Duration::from_secs(3599));
    }

    #[test]
    fn sms_sandbox_posts_no_reports_unless_given_a_url() {
        let cli =
            Cli::try_parse_from(["devstack", "sms-sandbox", "--port", "9500"]).expect("parses");
        let Command::SmsSandbox(args) = cli.command else {
            panic!("not sms-sandbox: {cli:?}");
        };
        assert_eq!(args.port, 9500);
        let config = args.config();
        assert_eq!(
            (config.username.as_str(), config.api_key.as_str()),
            (SMS_USERNAME, SMS_API_KEY)
        );
        assert_eq!(config.delivery_reports, None);
    }

    #[test]
    fn sms_sandbox_takes_the_report_url_and_delay() {
        let url = "http://127.0.0.1:9000/api/v1/notifications/sms/delivery/tok";
        let reports = |extra: &[&str]| {
            let mut args = vec![
                "devstack",
                "sms-sandbox",
                "--port",
                "9501",
                "--delivery-report-url",
                url,
            ];
            args.extend_from_slice(extra);
            let cli = Cli::try_parse_from(args).expect("parses");
            let Command::SmsSandbox(args) = cli.command else {
                panic!("not sms-sandbox: {cli:?}");
            };
            args.config().delivery_reports.expect("reports")
        };
        assert_eq!(
            reports(&[]),
            DeliveryReportConfig {
                url: url.into(),
                delay: Duration::from_secs(1),
                retry_spacing: Duration::from_secs(1),
            }
        );
        assert_eq!(
            reports(&["--report-delay-ms", "25"]).delay,
            Duration::from_millis(25)
        );
    }

    #[test]
    fn a_missing_required_flag_or_a_bad_number_is_refused() {
        for args in [
            &["devstack", "bootstrap", "--table", "dev"][..],
            &["devstack", "sms-sandbox"],
            &["devstack", "sms-sandbox", "--port", "ninety"],
            &[
                "devstack",
                "sms-sandbox",
                "--port",
                "9500",
                "--report-delay-ms",
                "-1",
            ],
            &["devstack", "mpesa-sandbox"],
            &[
                "devstack",
                "mpesa-sandbox",
                "--port",
                "9600",
                "--decision-delay-ms",
                "-1",
            ],
            &["devstack", "queue-bridge", "--queue-url", "q"],
            &["devstack", "frobnicate"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }
}
