//! `wxmock completions SHELL` and `wxmock man`: shell completion scripts and roff man pages,
//! generated from the same clap definitions that parse the flags, so they cannot drift from
//! `--help`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::exit_code;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for: bash, zsh, fish (also elvish, powershell).
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write one page per command (wxmock.1, wxmock-serve.1, wxmock-fixture-decrypt.1, …) into
    /// this directory instead of printing wxmock.1 to stdout.
    #[arg(long, env = "WXMOCK_MAN_DIR")]
    dir: Option<PathBuf>,
}

/// Prints the completion script for `args.shell` on stdout.
pub fn completions(args: CompletionsArgs) -> u8 {
    let mut command = crate::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "wxmock", &mut out);
    write_stdout(&out)
}

/// Prints the top-level man page, or writes every command's page into `--dir`.
pub fn man(args: ManArgs) -> u8 {
    let command = crate::Cli::command();
    match args.dir {
        None => {
            let mut out = Vec::new();
            if let Err(err) = clap_mangen::Man::new(command).render(&mut out) {
                eprintln!("wxmock: cannot render the man page: {err}");
                return exit_code::INTERNAL;
            }
            write_stdout(&out)
        }
        Some(dir) => match write_pages(command, &dir) {
            Ok(written) => {
                for path in written {
                    println!("{}", path.display());
                }
                exit_code::OK
            }
            Err(err) => {
                eprintln!("wxmock: {err}");
                exit_code::INTERNAL
            }
        },
    }
}

/// One page per command and subcommand, named `wxmock-<path>.1` the way git and cargo name
/// theirs, so `man wxmock-serve` works once the directory is on `MANPATH`.
fn write_pages(command: clap::Command, dir: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir)
        .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    let mut written = Vec::new();
    let mut pending = vec![(command.get_name().to_owned(), command)];
    while let Some((name, command)) = pending.pop() {
        for sub in command.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let sub_name = format!("{name}-{}", sub.get_name());
            pending.push((sub_name.clone(), sub.clone().name(sub_name)));
        }
        let path = dir.join(format!("{name}.1"));
        let mut out = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut out)
            .map_err(|err| format!("cannot render {name}.1: {err}"))?;
        std::fs::write(&path, out)
            .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
        written.push(path);
    }
    written.sort();
    Ok(written)
}

fn write_stdout(bytes: &[u8]) -> u8 {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => exit_code::OK,
        // A closed pipe (`wxmock man | head`) is the reader's choice, not a failure of ours.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => exit_code::OK,
        Err(err) => {
            eprintln!("wxmock: cannot write to stdout: {err}");
            exit_code::INTERNAL
        }
    }
}
