//! `register-c2b-urls`: the one-time step that tells M-Pesa where the shop's Paybill
//! payments go (Daraja's C2B URL registration): `…/c2b/validation` and
//! `…/c2b/confirmation` below the callback token, with `ResponseType` `Completed` (when our
//! validation does not answer, M-Pesa completes the payment and still confirms it, so no
//! money goes unrecorded). Reads the functions' own configuration (the `MPESA_*`
//! variables, docs/payments.md); run once per environment, and again after the callback
//! token or the domain changes. `make dev` runs it against the local stand-in.

use bootstrap::Env;
use bootstrap::payments::MpesaConfig;
use mpesa::{C2bResponseType, C2bUrls, Daraja};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(err) = run().await {
        eprintln!("register-c2b-urls: {err}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = MpesaConfig::from_env(&Env::process())?;
    let urls = C2bUrls {
        response_type: C2bResponseType::Completed,
        validation_url: config.callback_url(&["c2b", "validation"])?,
        confirmation_url: config.callback_url(&["c2b", "confirmation"])?,
    };
    Daraja::new(config.daraja.clone())?
        .register_c2b_urls(&urls)
        .await?;
    // The URLs hold the token: say where, not what.
    println!(
        "registered the C2B URLs of Paybill {} under {}",
        config.daraja.shortcode, config.callback_base
    );
    Ok(())
}
