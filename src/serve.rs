//! Scaffold for `wxmock serve`; the server-core helper replaces it.
use crate::exit_code;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {}

pub fn run(_args: ServeArgs) -> u8 {
    eprintln!("wxmock: serve is not built yet");
    exit_code::INTERNAL
}
