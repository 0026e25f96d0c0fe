//! `devstack bootstrap`: everything the functions need before `cargo lambda watch` starts
//! them. Creates what is missing and keeps what is there, so it can run on every
//! `make dev`:
//! - the table, from template.yaml's `Table` resource (the one definition);
//! - the demo catalog, when the table has no category yet, and the customers behind the
//!   printed tokens, when they are not stored yet ([`crate::seed`]);
//! - the notifications queue and its dead-letter queue, configured like template.yaml's;
//! - the SES sender identity on the emulator;
//! - an ES256 key pair in `out` (`jwt-private.pem`, `jwks.json`), made on first use;
//! - `out/dev.env`: every function's configuration for the local stack (the M-Pesa
//!   stand-in's account and a callback token made on first use, `out/mpesa-callback.token`,
//!   and the token in the path of the SMS delivery reports, made on first use,
//!   `out/sms-delivery.token`, included), and an admin's and a customer's token in
//!   `out/admin.token` and `out/customer.token` (valid 24 h).
//!
//! Invariant: every client talks to the local endpoints in [`Bootstrap`]; the caller checks
//! that there is one (`AWS_ENDPOINT_URL`), so a real AWS account is never touched.

use std::path::{Path, PathBuf};

use storage::{DynamoCatalog, DynamoCustomers};
use testkit::env::{admin_identity, customer_identity, local_client};
use testkit::keys::{self, KeyPair};
use testkit::table::{self, TableDefinition};

use crate::StackError;
use crate::mpesa::MpesaSandboxConfig;

/// The key id of the local signing key.
const LOCAL_KID: &str = "local-1";

/// What to set up, and where (the CLI's defaults are the local stack's ports).
#[derive(Debug, Clone)]
pub struct Bootstrap {
    /// The local emulator of SQS and SES (moto).
    pub endpoint: String,
    /// The local DynamoDB (DynamoDB Local).
    pub dynamodb_endpoint: String,
    pub table: String,
    /// Where the key pair, `dev.env` and the tokens are written.
    pub out: PathBuf,
    /// template.yaml; `None`: the repository's.
    pub template: Option<PathBuf>,
    /// Our tokens' issuer and audience.
    pub issuer: String,
    pub audience: String,
    /// The OpenID provider standing in for Google, and our client at it.
    pub oidc_issuer: String,
    pub oidc_client_id: String,
    pub oidc_client_secret: String,
    /// The allowed redirect URIs, comma-separated.
    pub redirect_uris: String,
    /// The admins' e-mail addresses, comma-separated.
    pub admin_emails: String,
    /// The Africa's Talking stand-in and its account.
    pub sms_url: String,
    pub sms_username: String,
    pub sms_api_key: String,
    /// The order e-mails' sender (made an SES identity) and recipient.
    pub email_from: String,
    pub email_to: String,
    /// The M-Pesa stand-in (`devstack mpesa-sandbox`) and the account it serves.
    pub mpesa_url: String,
    pub mpesa: MpesaSandboxConfig,
    /// Where M-Pesa reaches our public payment routes (`…/api/v1`), for callback URLs.
    pub api_base_url: String,
}

/// What [`Bootstrap::run`] did.
#[derive(Debug, Clone)]
pub struct Report {
    pub table_created: bool,
    /// Products loaded by the demo catalog (0: the table had a catalog).
    pub products_seeded: usize,
    /// Demo customers stored (0: they were there).
    pub customers_seeded: usize,
    pub notifications_queue: String,
    pub dead_letter_queue: String,
    pub admin_token: String,
    pub customer_token: String,
}

impl Bootstrap {
    /// Sets up the local stack (see the module's documentation).
    pub async fn run(&self) -> Result<Report, StackError> {
        std::fs::create_dir_all(&self.out).map_err(|e| file_err(&self.out, e))?;
        let client = local_client(&self.dynamodb_endpoint);
        let table_created = self.ensure_table(&client).await?;
        let products_seeded =
            crate::seed::demo_catalog(&DynamoCatalog::new(client.clone(), self.table.as_str()))
                .await?;
        let customers_seeded =
            crate::seed::demo_customers(&DynamoCustomers::new(client, self.table.as_str())).await?;
        let pair = local_keys(&self.out)?;
        let queues = testkit::queues::ensure_queues(
            &testkit::queues::local_sqs_client(&self.endpoint),
            &format!("{}-notifications", self.table),
            testkit::queues::QueueSettings::from_repository()?,
        )
        .await?;
        testkit::email::ensure_identity(
            &testkit::email::local_ses_client(&self.endpoint),
            &self.email_from,
        )
        .await?;
        let callback_token = secret_token(&self.out, MPESA_CALLBACK_TOKEN_FILE)?;
        let sms_delivery_token = secret_token(&self.out, SMS_DELIVERY_TOKEN_FILE)?;
        write(
            &self.out.join("dev.env"),
            &self.dev_env(
                &pair,
                &queues.notifications,
                &queues.dead_letters,
                &callback_token,
                &sms_delivery_token,
            ),
        )?;
        let signer = pair.signer(&self.issuer, &self.audience)?;
        let admin_token = keys::token(&signer, &admin_identity())?;
        let customer_token = keys::token(&signer, &customer_identity())?;
        write(&self.out.join("admin.token"), &admin_token)?;
        write(&self.out.join("customer.token"), &customer_token)?;
        Ok(Report {
            table_created,
            products_seeded,
            customers_seeded,
            notifications_queue: queues.notifications,
            dead_letter_queue: queues.dead_letters,
            admin_token,
            customer_token,
        })
    }

    async fn ensure_table(&self, client: &aws_sdk_dynamodb::Client) -> Result<bool, StackError> {
        if table::exists(client, &self.table).await? {
            return Ok(false);
        }
        let definition = match &self.template {
            Some(path) => {
                let yaml = std::fs::read_to_string(path).map_err(|e| file_err(path, e))?;
                TableDefinition::from_template(&yaml)?
            }
            None => TableDefinition::from_repository()?,
        };
        definition.create(client, &self.table).await?;
        Ok(true)
    }

    /// Every function's environment under `cargo lambda watch`.
    fn dev_env(
        &self,
        pair: &KeyPair,
        queue: &str,
        dead_letters: &str,
        mpesa_callback_token: &str,
        sms_delivery_token: &str,
    ) -> String {
        let Self {
            endpoint,
            dynamodb_endpoint,
            table,
            issuer,
            audience,
            ..
        } = self;
        let mut env = format!(
            "TABLE_NAME={table}\nJWT_ISSUER={issuer}\nJWT_AUDIENCE={audience}\nJWT_PUBLIC_JWKS='{}'\nAWS_ENDPOINT_URL={endpoint}\nAWS_ENDPOINT_URL_DYNAMODB={dynamodb_endpoint}\nAWS_REGION=us-east-1\nAWS_ACCESS_KEY_ID=test\nAWS_SECRET_ACCESS_KEY=test\nRUST_LOG=info\nVAT_RATE=0.16\nNOTIFICATIONS_QUEUE_URL={queue}\nNOTIFICATIONS_DLQ_URL={dead_letters}\nHAND_OFF_GRACE_SECONDS=60\n",
            pair.jwks
        );
        // The auth function: our signing key (PEM with \n escapes on one line), the local
        // OpenID provider standing in for Google, and the admin list.
        env.push_str(&format!(
            "JWT_KEY_ID={}\nJWT_PRIVATE_KEY='{}'\nOIDC_ISSUER_URL={}\nOIDC_CLIENT_ID={}\nOIDC_CLIENT_SECRET={}\nOIDC_REDIRECT_URIS={}\nADMIN_EMAILS={}\n",
            pair.kid,
            pair.private_pem.trim().replace('\n', "\\n"),
            self.oidc_issuer,
            self.oidc_client_id,
            self.oidc_client_secret,
            self.redirect_uris,
            self.admin_emails,
        ));
        // The notifier: the Africa's Talking stand-in, the SES sender and the admin's
        // address; quicker retries than in AWS.
        env.push_str(&format!(
            "AT_BASE_URL={}\nAT_USERNAME={}\nAT_API_KEY={}\nAT_SENDER_ID=\nORDER_EMAIL_FROM={}\nORDER_EMAIL_TO={}\nRETRY_BASE_SECONDS=10\nRETRY_MAX_SECONDS=120\n",
            self.sms_url, self.sms_username, self.sms_api_key, self.email_from, self.email_to,
        ));
        // The SMS delivery reports' route: the secret in its path, where the stand-in
        // posts them (`devstack sms-sandbox --delivery-report-url`).
        env.push_str(&format!("SMS_DELIVERY_TOKEN={sms_delivery_token}\n"));
        // M-Pesa: the stand-in answers Daraja's paths at MPESA_BASE_URL with the account
        // below; it posts callbacks to MPESA_CALLBACK_BASE_URL/<token>/...
        let mpesa = &self.mpesa;
        env.push_str(&format!(
            "MPESA_BASE_URL={}\nMPESA_SHORTCODE={}\nMPESA_CONSUMER_KEY={}\nMPESA_CONSUMER_SECRET={}\nMPESA_PASSKEY={}\nMPESA_INITIATOR_NAME={}\nMPESA_SECURITY_CREDENTIAL={}\nMPESA_CALLBACK_TOKEN={mpesa_callback_token}\nMPESA_CALLBACK_BASE_URL={}/payments/callbacks\nMPESA_ALLOWED_SOURCE_IPS=\n",
            self.mpesa_url,
            mpesa.shortcode,
            mpesa.consumer_key,
            mpesa.consumer_secret,
            mpesa.passkey,
            mpesa.initiator_name,
            mpesa.security_credential,
            self.api_base_url.trim_end_matches('/'),
        ));
        env
    }
}

fn file_err(path: &Path, err: std::io::Error) -> StackError {
    StackError::Other(format!("{}: {err}", path.display()))
}

fn write(path: &Path, contents: &str) -> Result<(), StackError> {
    std::fs::write(path, contents).map_err(|e| file_err(path, e))
}

/// The secret in the path of M-Pesa's callbacks to the local stack.
const MPESA_CALLBACK_TOKEN_FILE: &str = "mpesa-callback.token";
/// The secret in the path of Africa's Talking's SMS delivery reports to the local stack.
const SMS_DELIVERY_TOKEN_FILE: &str = "sms-delivery.token";

/// A secret in the path of a provider's callbacks to the local stack, made on first use
/// (32 hex digits) and kept in `dir/file`, so a restart keeps the URLs the stand-ins were
/// given.
fn secret_token(dir: &Path, file: &str) -> Result<String, StackError> {
    let path = dir.join(file);
    if let Ok(token) = std::fs::read_to_string(&path)
        && token.trim().len() == 32
    {
        return Ok(token.trim().to_owned());
    }
    let mut bytes = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write(&path, &token)?;
    Ok(token)
}

/// The local key pair in `dir`, made on first use.
fn local_keys(dir: &Path) -> Result<KeyPair, StackError> {
    let (pem_path, jwks_path) = (dir.join("jwt-private.pem"), dir.join("jwks.json"));
    if let (Ok(private_pem), Ok(jwks)) = (
        std::fs::read_to_string(&pem_path),
        std::fs::read_to_string(&jwks_path),
    ) {
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
