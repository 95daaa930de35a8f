use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    hookline::cli::run().await
}
