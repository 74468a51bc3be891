//! Serve a configuration's `output_dir`, `/healthz` and `/metrics` until Ctrl-C; used by
//! `benches/serve_bench.sh` until the CLI grows a `serve` subcommand.
//!
//! Usage: `cargo run --release --example serve -- path/to/config.toml`

use std::path::PathBuf;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let path = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "config.toml".to_owned()),
    );
    let cfg = feedwright::config::Config::load(&path)?;
    let listener = feedwright::server::bind(&cfg).await?;
    eprintln!("listening on {}", listener.local_addr()?);
    feedwright::server::serve(&cfg, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
