//! The `wxmock` command line: parses flags, installs tracing, calls the libraries and maps the
//! result to a documented exit code. No behaviour lives here.

mod ca;
mod check;
#[cfg(test)]
mod env_fallback;
mod exit_code;
mod fixture;
mod manual;
mod profile;
mod serve;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A faithful fake of WeChat's mini-program login API, and a conformance harness that judges
/// any login backend against it.
#[derive(Debug, Parser)]
#[command(name = "wxmock", version, about, after_long_help = exit_code::HELP, after_help = exit_code::HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the fake WeChat API (with its control API) until Ctrl-C.
    Serve(serve::ServeArgs),
    /// Drive a login backend described by a profile through the conformance catalogue.
    Check(check::CheckArgs),
    /// Run the whole catalogue against the bundled reference backend.
    Demo(check::DemoArgs),
    /// Write a starter profile by probing a login backend (`wxmock profile discover`).
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
    /// Print the kept impersonation CA (its path, then its PEM), creating it on first use.
    Ca(ca::CaArgs),
    /// Encrypt and decrypt WeChat open data (WXBizDataCrypt) from the command line.
    #[command(subcommand)]
    Fixture(fixture::FixtureCommand),
    /// Print a shell completion script, e.g. `wxmock completions bash > /etc/bash_completion.d/wxmock`.
    Completions(manual::CompletionsArgs),
    /// Print the man page (roff), or write one page per command with --dir.
    Man(manual::ManArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_filter = match cli.command {
        Command::Serve(_) => "info",
        // The demo runs the reference backend in-process: its own warnings (the upstream errors the
        // catalogue provokes on purpose) are noise next to the case-by-case report.
        Command::Demo(_) => "warn,wxmock_reference_backend=off",
        _ => "warn",
    };
    install_tracing(default_filter);
    let code = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Check(args) => check::run(args),
        Command::Demo(args) => check::demo(args),
        Command::Ca(args) => ca::run(args),
        Command::Profile(command) => profile::run(command),
        Command::Fixture(command) => fixture::run(command),
        Command::Completions(args) => manual::completions(args),
        Command::Man(args) => manual::man(args),
    };
    ExitCode::from(code)
}

/// Logs go to stderr, filtered by `RUST_LOG` (default: `info` for `serve`, `warn` otherwise).
fn install_tracing(default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}
