//! The clap definitions of `portcullis init` and `portcullis up` (implemented in `crate::up`).

use clap::Args;
use std::net::SocketAddr;

#[derive(Args)]
pub struct UpArgs {
    /// Address to listen on. [default: 127.0.0.1:8080]
    #[arg(long, env = "PORTCULLIS_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Public base URL (default: http://LISTEN).
    #[arg(long, env = "PORTCULLIS_BASE_URL")]
    pub base_url: Option<String>,
}

#[derive(Args)]
pub struct InitArgs {
    /// The public base URL the server will run at, recorded so that the CLI writes the same
    /// entity IDs and URLs before the first `up` (`up --base-url` records it again).
    /// [default: http://127.0.0.1:8080]
    #[arg(long, env = "PORTCULLIS_BASE_URL")]
    pub base_url: Option<String>,
}
