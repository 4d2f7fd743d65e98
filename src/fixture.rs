//! Scaffold for `wxmock fixture`; the forge helper replaces it.
use crate::exit_code;

#[derive(Debug, clap::Subcommand)]
pub enum FixtureCommand {
    /// Decrypt encryptedData.
    Decrypt,
}

pub fn run(_command: FixtureCommand) -> u8 {
    eprintln!("wxmock: fixture is not built yet");
    exit_code::INTERNAL
}
