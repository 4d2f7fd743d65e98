//! Proof that every flag of every command has a working, documented `WXMOCK_*` fallback: the
//! clap tree is walked, each flag is given through its environment variable alone, and the parse
//! must take it from there. Then the variable must be named in the README or `docs/`.

use std::collections::BTreeSet;

use clap::parser::ValueSource;
use clap::{Command, CommandFactory};

/// Values tried in turn until the flag's own parser accepts one (addresses, numbers, words).
const CANDIDATES: &[&str] = &[
    "127.0.0.1:7070",
    "7",
    "valid",
    "userInfo",
    "masked",
    "x",
    "KEY=value",
];

struct Flag {
    command_path: Vec<String>,
    id: String,
    long: String,
    env: Option<String>,
    takes_value: bool,
    required: bool,
}

fn leaves(command: &Command, path: Vec<String>, out: &mut Vec<(Vec<String>, Command)>) {
    let subcommands: Vec<&Command> = command
        .get_subcommands()
        .filter(|c| c.get_name() != "help")
        .collect();
    if subcommands.is_empty() {
        out.push((path.clone(), command.clone()));
    }
    for sub in subcommands {
        let mut sub_path = path.clone();
        sub_path.push(sub.get_name().to_owned());
        leaves(sub, sub_path, out);
    }
}

fn flags() -> Vec<Flag> {
    let mut root = crate::Cli::command();
    root.build();
    let mut commands = Vec::new();
    leaves(&root, Vec::new(), &mut commands);
    let mut flags = Vec::new();
    for (path, command) in commands {
        for arg in command.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if matches!(long, "help" | "version") {
                continue;
            }
            flags.push(Flag {
                command_path: path.clone(),
                id: arg.get_id().to_string(),
                long: long.to_owned(),
                env: arg.get_env().map(|e| e.to_string_lossy().into_owned()),
                takes_value: arg.get_action().takes_values(),
                required: arg.is_required_set(),
            });
        }
    }
    flags
}

/// A value the flag accepts, found by parsing `--flag value` with the other required flags set.
fn accepted_value(flag: &Flag, required: &[(String, String)]) -> Option<String> {
    if !flag.takes_value {
        return Some("true".to_owned());
    }
    CANDIDATES.iter().find_map(|candidate| {
        let mut argv = vec!["wxmock".to_owned()];
        argv.extend(flag.command_path.iter().cloned());
        for (long, value) in required.iter().filter(|(long, _)| *long != flag.long) {
            argv.push(format!("--{long}={value}"));
        }
        argv.push(format!("--{}={candidate}", flag.long));
        crate::Cli::command()
            .try_get_matches_from(argv)
            .is_ok()
            .then(|| (*candidate).to_owned())
    })
}

fn documentation() -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut text = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    for entry in std::fs::read_dir(format!("{root}/docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            text.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    text
}

#[test]
fn every_flag_falls_back_to_a_documented_wxmock_variable() {
    let flags = flags();
    assert!(
        flags.len() > 20,
        "the walk found only {} flags",
        flags.len()
    );
    let docs = documentation();
    let mut problems = Vec::new();
    for flag in &flags {
        let name = format!("wxmock {} --{}", flag.command_path.join(" "), flag.long);
        let Some(env) = &flag.env else {
            problems.push(format!("{name} has no environment fallback"));
            continue;
        };
        if !env.starts_with("WXMOCK_") {
            problems.push(format!(
                "{name} falls back to {env}, not a WXMOCK_* variable"
            ));
        }
        if !docs.contains(env.as_str()) {
            problems.push(format!(
                "{name}: {env} is named in neither README.md nor docs/"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_flag_is_read_from_its_environment_variable() {
    let flags = flags();
    let mut problems = Vec::new();
    let mut tried = BTreeSet::new();
    for flag in flags.iter().filter(|f| f.env.is_some()) {
        let siblings: Vec<&Flag> = flags
            .iter()
            .filter(|f| f.command_path == flag.command_path)
            .collect();
        let required: Vec<(String, String)> = siblings
            .iter()
            .filter(|f| f.required)
            .map(|f| {
                let value = accepted_value(f, &[]).unwrap_or_else(|| "x".to_owned());
                (f.long.clone(), value)
            })
            .collect();
        let name = format!("wxmock {} --{}", flag.command_path.join(" "), flag.long);
        let Some(value) = accepted_value(flag, &required) else {
            problems.push(format!(
                "{name}: no sample value is accepted; add one to CANDIDATES"
            ));
            continue;
        };
        let env = flag.env.clone().unwrap_or_default();
        let mut argv = vec!["wxmock".to_owned()];
        argv.extend(flag.command_path.iter().cloned());
        for (long, value) in required.iter().filter(|(long, _)| *long != flag.long) {
            argv.push(format!("--{long}={value}"));
        }
        let matches = with_variable(&env, &value, || {
            crate::Cli::command().try_get_matches_from(&argv)
        });
        match matches {
            Err(err) => problems.push(format!("{name}: {env}={value} does not parse: {err}")),
            Ok(matches) => {
                let mut leaf = &matches;
                for part in &flag.command_path {
                    leaf = leaf.subcommand_matches(part).unwrap();
                }
                if leaf.value_source(&flag.id) != Some(ValueSource::EnvVariable) {
                    problems.push(format!("{name}: {env}={value} is not what the parse used"));
                }
            }
        }
        tried.insert(name);
    }
    assert!(tried.len() > 20, "only {} flags were tried", tried.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Sets one variable for the duration of `f`. Only this test sets wxmock's variables, and the
/// other parses of this binary's tests pass every flag explicitly; the lock keeps each
/// set-parse-unset sequence whole should another test here ever set one too.
fn with_variable<T>(env: &str, value: &str, f: impl FnOnce() -> T) -> T {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    std::env::set_var(env, value);
    let result = f();
    std::env::remove_var(env);
    result
}
