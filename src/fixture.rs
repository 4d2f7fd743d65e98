//! `wxmock fixture …`: WXBizDataCrypt and WeChat's signatures from the command line. Flags are
//! parsed here; the work is `wxmock_fixtures`'. Invalid input (a key that is not base64 of 16
//! bytes, data that does not decrypt, a payload that is not a JSON object) prints one line on
//! stderr and exits 3; bad usage (a missing flag, an unknown --kind or --variant) exits 2.

use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use wxmock_fixtures::crypt;
use wxmock_fixtures::forge::{self, ForgeInput, Variant};
use wxmock_fixtures::payload::{self, Kind, Watermark};
use wxmock_fixtures::seed::SplitMix64;
use wxmock_fixtures::signature;

use crate::exit_code;

#[derive(Debug, clap::Subcommand)]
pub enum FixtureCommand {
    /// Decrypt encryptedData and print the plaintext JSON exactly as decrypted.
    ///
    /// With --appid, also check that watermark.appid is that appid (what a backend must do).
    /// Exit 3 when the data does not decrypt to JSON or the watermark is wrong.
    Decrypt(DecryptArgs),
    /// Encrypt a JSON payload as WeChat does and print {"encryptedData","iv"}.
    ///
    /// A "watermark" with --appid and the current time is appended unless the payload has one.
    Encrypt(EncryptArgs),
    /// Forge open data of a kind, valid or broken on purpose, and print it as JSON
    /// ({"encryptedData","iv","plaintext","variant","rawData"?,"signature"?}).
    Forge(ForgeArgs),
    /// Print the rawData signature: lowercase hex SHA1(rawData + session_key).
    SignRawData(SignRawDataArgs),
    /// Print the login-state signature /wxa/checksession expects: lowercase hex
    /// HMAC-SHA256(key = session_key text, message; empty by default).
    ChecksessionSignature(ChecksessionArgs),
    /// List the broken variants the forge produces and what a correct backend does with each.
    Variants(VariantsArgs),
}

#[derive(Debug, clap::Args)]
pub struct DecryptArgs {
    /// The user's session_key (base64 of 16 bytes).
    #[arg(long, env = "WXMOCK_SESSION_KEY", hide_env_values = true)]
    session_key: String,
    /// The iv sent with the data (base64 of 16 bytes).
    #[arg(long, env = "WXMOCK_FIXTURE_IV")]
    iv: String,
    /// The encryptedData (standard base64).
    #[arg(long, env = "WXMOCK_FIXTURE_ENCRYPTED_DATA")]
    encrypted_data: String,
    /// Also require watermark.appid to be this appid.
    #[arg(long, env = "WXMOCK_APPID")]
    appid: Option<String>,
    /// Also require the payload's openId (when it has one) to be this logged-in user's openid.
    #[arg(long, env = "WXMOCK_FIXTURE_OPENID")]
    openid: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct EncryptArgs {
    /// The user's session_key (base64 of 16 bytes).
    #[arg(long, env = "WXMOCK_SESSION_KEY", hide_env_values = true)]
    session_key: String,
    /// The appid put in the watermark.
    #[arg(long, env = "WXMOCK_APPID")]
    appid: String,
    /// The IV (base64 of 16 bytes); random when absent.
    #[arg(long, env = "WXMOCK_FIXTURE_IV")]
    iv: Option<String>,
    /// The payload, a JSON object, e.g. '{"openId":"o…","nickName":"微信用户"}'.
    #[arg(long, env = "WXMOCK_FIXTURE_JSON")]
    json: String,
    /// The watermark timestamp (Unix seconds); now when absent.
    #[arg(long, env = "WXMOCK_FIXTURE_TIMESTAMP")]
    timestamp: Option<i64>,
}

#[derive(Debug, clap::Args)]
pub struct ForgeArgs {
    /// userInfo | phoneNumber | weRun | shareInfo.
    #[arg(long, env = "WXMOCK_FIXTURE_KIND", default_value = "userInfo")]
    kind: String,
    /// valid, or a broken variant (see `wxmock fixture variants`).
    #[arg(long, env = "WXMOCK_FIXTURE_VARIANT", default_value = "valid")]
    variant: String,
    /// The user's current session_key (base64 of 16 bytes).
    #[arg(long, env = "WXMOCK_SESSION_KEY", hide_env_values = true)]
    session_key: String,
    /// The previous session_key, used by stale-session-key (random when absent).
    #[arg(
        long,
        env = "WXMOCK_FIXTURE_PREVIOUS_SESSION_KEY",
        hide_env_values = true
    )]
    previous_session_key: Option<String>,
    /// The appid the data is for.
    #[arg(long, env = "WXMOCK_APPID")]
    appid: String,
    /// The user's fields / overrides as a JSON object (openId, nickName, phoneNumber, …).
    #[arg(long, env = "WXMOCK_FIXTURE_JSON", default_value = "{}")]
    json: String,
    /// The watermark timestamp (Unix seconds); now when absent.
    #[arg(long, env = "WXMOCK_FIXTURE_TIMESTAMP")]
    timestamp: Option<i64>,
    /// Seed for the IV and the variant's random parts, to replay an output.
    #[arg(long, env = "WXMOCK_FIXTURE_SEED")]
    seed: Option<u64>,
}

#[derive(Debug, clap::Args)]
pub struct SignRawDataArgs {
    /// The session_key text (base64), used as is.
    #[arg(long, env = "WXMOCK_SESSION_KEY", hide_env_values = true)]
    session_key: String,
    /// rawData exactly as the client sent it.
    #[arg(long, env = "WXMOCK_FIXTURE_RAW_DATA")]
    raw_data: String,
}

#[derive(Debug, clap::Args)]
pub struct ChecksessionArgs {
    /// The session_key text (base64), used as the HMAC key without decoding.
    #[arg(long, env = "WXMOCK_SESSION_KEY", hide_env_values = true)]
    session_key: String,
    /// The signed message; WeChat's checksession signs the empty string.
    #[arg(long, env = "WXMOCK_FIXTURE_MESSAGE", default_value = "")]
    message: String,
}

#[derive(Debug, clap::Args)]
pub struct VariantsArgs {
    /// Print a JSON array instead of a table.
    #[arg(long, env = "WXMOCK_FIXTURE_JSON_OUTPUT")]
    json: bool,
}

/// Runs one `wxmock fixture` subcommand and returns its exit code.
pub fn run(command: FixtureCommand) -> u8 {
    let result = match command {
        FixtureCommand::Decrypt(args) => decrypt(args).map_err(Failure::from),
        FixtureCommand::Encrypt(args) => encrypt(args).map_err(Failure::from),
        FixtureCommand::Forge(args) => forge_data(args),
        FixtureCommand::SignRawData(args) => Ok(signature::raw_data_signature(
            &args.raw_data,
            &args.session_key,
        )),
        FixtureCommand::ChecksessionSignature(args) => Ok(signature::login_state_signature(
            &args.session_key,
            &args.message,
        )),
        FixtureCommand::Variants(args) => Ok(variants(args)),
    };
    match result {
        Ok(text) => print_line(&text),
        Err(Failure::Usage(message)) => {
            eprintln!("wxmock: {message}");
            exit_code::USAGE
        }
        Err(Failure::Invalid(message)) => {
            eprintln!("wxmock: {message}");
            exit_code::PROFILE_INVALID
        }
    }
}

/// Why a subcommand failed: a flag value that is not one of the choices (exit 2), or input
/// that is not valid data (exit 3).
enum Failure {
    Usage(String),
    Invalid(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Invalid(message)
    }
}

fn print_line(text: &str) -> u8 {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Ok(()) => exit_code::OK,
        // A reader that stopped early (`| head`) got what it wanted: not an error.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => exit_code::OK,
        Err(error) => {
            eprintln!("wxmock: cannot write the output: {error}");
            exit_code::INTERNAL
        }
    }
}

fn decrypt(args: DecryptArgs) -> Result<String, String> {
    let failed = |error: wxmock_fixtures::CryptError| format!("cannot decrypt: {error}");
    if let Some(appid) = &args.appid {
        crypt::decrypt_open_data(&args.session_key, &args.iv, &args.encrypted_data, appid)
            .map_err(failed)?;
    }
    let plain =
        crypt::decrypt(&args.session_key, &args.iv, &args.encrypted_data).map_err(failed)?;
    let text =
        String::from_utf8(plain).map_err(|_| failed(wxmock_fixtures::CryptError::NotJson))?;
    let value = serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|_| failed(wxmock_fixtures::CryptError::NotJson))?;
    if let Some(openid) = &args.openid {
        crypt::check_open_id(&value, openid).map_err(failed)?;
    }
    Ok(text)
}

fn encrypt(args: EncryptArgs) -> Result<String, String> {
    let watermark = Watermark {
        timestamp: args.timestamp.unwrap_or_else(now),
        appid: args.appid,
    };
    let plaintext = payload::with_watermark(&args.json, &watermark)
        .map_err(|error| format!("invalid --json: {}", with_cause(&error)))?;
    let iv = match &args.iv {
        Some(iv) => crypt::iv_bytes(iv).map_err(|error| format!("invalid --iv: {error}"))?,
        None => crypt::random_iv(),
    };
    let encrypted_data = crypt::encrypt(&args.session_key, &iv, plaintext.as_bytes())
        .map_err(|error| format!("invalid --session-key: {error}"))?;
    let mut out = serde_json::Map::new();
    out.insert("encryptedData".into(), encrypted_data.into());
    out.insert("iv".into(), crypt::iv_text(&iv).into());
    Ok(serde_json::Value::Object(out).to_string())
}

fn forge_data(args: ForgeArgs) -> Result<String, Failure> {
    let kind: Kind = args
        .kind
        .parse()
        .map_err(|error| Failure::Usage(format!("invalid --kind: {error}")))?;
    let variant: Variant = args
        .variant
        .parse()
        .map_err(|error| Failure::Usage(format!("invalid --variant: {error}")))?;
    let fields = match serde_json::from_str::<serde_json::Value>(&args.json) {
        Ok(serde_json::Value::Object(map)) => map,
        Ok(_) => {
            return Err("invalid --json: payload is not a JSON object"
                .to_owned()
                .into())
        }
        Err(error) => {
            return Err(format!("invalid --json: payload is not valid JSON: {error}").into())
        }
    };
    let input = ForgeInput {
        kind,
        fields: &fields,
        appid: &args.appid,
        session_key: &args.session_key,
        previous_session_key: args.previous_session_key.as_deref(),
        timestamp: args.timestamp.unwrap_or_else(now),
        variant,
    };
    let mut rng = match args.seed {
        Some(seed) => SplitMix64::new(seed),
        None => SplitMix64::from_entropy(),
    };
    let forged = forge::forge(&input, &mut rng)
        .map_err(|error| format!("invalid --session-key or --previous-session-key: {error}"))?;
    // Forged is plain strings and an enum: serialising it cannot fail.
    Ok(serde_json::to_string(&forged).expect("Forged serialises"))
}

fn variants(args: VariantsArgs) -> String {
    if args.json {
        let list: Vec<serde_json::Value> = Variant::ALL
            .iter()
            .map(|variant| {
                serde_json::json!({
                    "name": variant.name(),
                    "outcome": variant.expected_outcome(),
                    "error": variant.expected_error(),
                    "description": variant.description(),
                })
            })
            .collect();
        return serde_json::Value::Array(list).to_string();
    }
    let mut out = String::new();
    for variant in Variant::ALL {
        let error = variant
            .expected_error()
            .map_or_else(|| "-".to_owned(), |error| error.to_string());
        out.push_str(&format!(
            "{:<26} {:<17} {:<17} {}\n",
            variant.name(),
            variant.expected_outcome().name(),
            error,
            variant.description()
        ));
    }
    out.trim_end().to_owned()
}

/// The error's message followed by its sources, on one line.
fn with_cause(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}
