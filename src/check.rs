//! Scaffold for `wxmock check` and `wxmock demo`; the harness helper replaces it.
use crate::exit_code;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

pub fn run(_args: CheckArgs) -> u8 {
    eprintln!("wxmock: check is not built yet");
    exit_code::INTERNAL
}

pub fn demo(_args: DemoArgs) -> u8 {
    eprintln!("wxmock: demo is not built yet");
    exit_code::INTERNAL
}
