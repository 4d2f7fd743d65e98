//! The backend's own output (stdout and stderr of a started backend, or what a backend launched
//! in-process writes to its log sink), scanned as it streams for the secrets of the run: the
//! appsecret, every session_key and access token WeChat handed out. Memory stays bounded
//! whatever the backend prints: only matches are kept, with a masked line around each.
//!
//! Most secrets become known only after the backend received (and maybe logged) them: the
//! runner teaches the scan the secrets each case handed out once the case ends. So the output
//! since the last lesson is kept (up to [`PENDING_LIMIT`]) and searched again for every secret
//! learned; output older than that was searched for the secrets known when it arrived. Each
//! secret is looked for as is, with `/` escaped as `\/` (JSON), and URL-encoded.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use aho_corasick::AhoCorasick;

/// How much output since the last lesson is kept to be searched for secrets learned later.
pub const PENDING_LIMIT: usize = 4 * 1024 * 1024;
/// How many matches are kept (each with its masked line); later ones are only counted.
pub const FOUND_LIMIT: usize = 32;
/// Bytes kept across chunks (a secret written across two reads is still found): longer than
/// any form of any secret.
const OVERLAP: usize = 4096;
/// How much of the line around a match is kept, on either side.
const CONTEXT: usize = 160;

/// A secret found in the output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// `appsecret`, `session_key`, `access_token`.
    pub label: String,
    /// The secret's first characters and length (`tiih…(24 chars)`).
    pub secret: String,
    /// The line around it, every known secret in it masked.
    pub line: String,
    /// Where in the output (bytes from its start).
    pub offset: u64,
}

/// What the scan saw so far.
#[derive(Clone, Debug, Default)]
pub struct Findings {
    /// The first [`FOUND_LIMIT`] matches.
    pub found: Vec<Found>,
    /// Every match, counted by label.
    pub counts: BTreeMap<String, u64>,
    /// Output bytes seen.
    pub bytes: u64,
    /// Output that left the pending window before a later lesson: it was only searched for the
    /// secrets known when it arrived.
    pub searched_early: u64,
    /// How many secrets the scan knows.
    pub secrets: usize,
}

/// The scan: clones share it (the reader tasks of each start of the backend, the runner, the
/// case).
#[derive(Clone, Debug, Default)]
pub struct OutputScan {
    // A std Mutex: held only to scan one chunk or learn secrets, never across an await.
    inner: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    attached: bool,
    known: HashSet<String>,
    /// Every form of every secret: (label index, form).
    forms: Vec<(usize, Vec<u8>)>,
    /// (label, masked) per secret, in learning order.
    secrets: Vec<(String, String)>,
    matcher: Option<AhoCorasick>,
    tail: Vec<u8>,
    pending: Vec<u8>,
    total: u64,
    findings: Findings,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("attached", &self.attached)
            .field("secrets", &self.secrets.len())
            .field("total", &self.total)
            .finish()
    }
}

/// The first characters of a secret and its length, never the whole value.
pub fn masked(secret: &str) -> String {
    let head: String = secret.chars().take(4).collect();
    format!("{head}…({} chars)", secret.chars().count())
}

/// The forms a secret is written in: as is, JSON-escaped (`\/`), URL-encoded.
fn forms_of(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_string()];
    let escaped = secret.replace('/', "\\/");
    let encoded = secret
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    for f in [escaped, encoded] {
        if !forms.contains(&f) {
            forms.push(f);
        }
    }
    forms
}

impl OutputScan {
    /// A scan nothing writes to yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while scanning leaves plain data behind: keep using it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks the scan as fed by the backend's output (a started process, or a launcher that
    /// hands its backend [`OutputScan::sink`]).
    pub fn attach(&self) {
        self.state().attached = true;
    }

    /// Whether the backend's output reaches this scan at all.
    pub fn attached(&self) -> bool {
        self.state().attached
    }

    /// A writer for a backend launched in-process: what it is given is scanned like a started
    /// backend's output (and the scan counts as attached).
    pub fn sink(&self) -> impl Fn(&[u8]) + Send + Sync + 'static {
        self.attach();
        let scan = self.clone();
        move |bytes| scan.feed(bytes)
    }

    /// Scans a chunk of output for the secrets known now, and keeps it for those learned later.
    pub fn feed(&self, chunk: &[u8]) {
        if chunk.is_empty() {
            return;
        }
        let mut s = self.state();
        let mut window = std::mem::take(&mut s.tail);
        let new_from = window.len();
        let window_start = s.total - new_from as u64;
        window.extend_from_slice(chunk);
        s.scan(&window, window_start, new_from, None);
        s.total += chunk.len() as u64;
        let keep = window.len().min(OVERLAP);
        s.tail = window.split_off(window.len() - keep);
        s.pending.extend_from_slice(chunk);
        if s.pending.len() > PENDING_LIMIT {
            let cut = s.pending.len() - PENDING_LIMIT;
            s.pending.drain(..cut);
            s.findings.searched_early += cut as u64;
        }
        s.findings.bytes = s.total;
    }

    /// Learns secrets (label, value); output kept since the last lesson is searched for the
    /// new ones. Values shorter than 6 characters are ignored.
    pub fn learn<'a>(&self, secrets: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let mut s = self.state();
        let first_new = s.forms.len();
        for (label, value) in secrets {
            if value.len() < 6 || !s.known.insert(value.to_string()) {
                continue;
            }
            let index = s.secrets.len();
            s.secrets.push((label.to_string(), masked(value)));
            for form in forms_of(value) {
                s.forms.push((index, form.into_bytes()));
            }
        }
        if s.forms.len() == first_new {
            return;
        }
        s.matcher = AhoCorasick::new(s.forms.iter().map(|(_, f)| f.as_slice())).ok();
        let pending = std::mem::take(&mut s.pending);
        let start = s.total - pending.len() as u64;
        s.scan(&pending, start, 0, Some(first_new));
        // What is kept for the next lesson: enough to find a secret that straddles it.
        let keep = pending.len().min(OVERLAP);
        s.pending = pending[pending.len() - keep..].to_vec();
        s.findings.secrets = s.secrets.len();
    }

    /// What the scan saw so far.
    pub fn findings(&self) -> Findings {
        self.state().findings.clone()
    }

    /// Output bytes seen so far.
    pub fn bytes(&self) -> u64 {
        self.state().total
    }
}

impl State {
    /// Records every match in `window` that ends at or after `new_from` (earlier ones were
    /// found before); with `only_from`, only forms from that index on (newly learned secrets).
    fn scan(
        &mut self,
        window: &[u8],
        window_start: u64,
        new_from: usize,
        only_from: Option<usize>,
    ) {
        let Some(matcher) = &self.matcher else {
            return;
        };
        let mut hits = vec![];
        for m in matcher.find_overlapping_iter(window) {
            let form = m.pattern().as_usize();
            if m.end() <= new_from || only_from.is_some_and(|from| form < from) {
                continue;
            }
            hits.push((form, m.start(), m.end()));
        }
        for (form, start, end) in hits {
            let (secret, _) = &self.forms[form];
            let (label, shown) = self.secrets[*secret].clone();
            *self.findings.counts.entry(label.clone()).or_default() += 1;
            if self.findings.found.len() < FOUND_LIMIT {
                let line = self.masked_line(window, start, end);
                self.findings.found.push(Found {
                    label,
                    secret: shown,
                    line,
                    offset: window_start + start as u64,
                });
            }
        }
    }

    /// The line around `start..end`, at most [`CONTEXT`] bytes either side, with every known
    /// secret masked.
    fn masked_line(&self, window: &[u8], start: usize, end: usize) -> String {
        let from = window[..start]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1)
            .max(start.saturating_sub(CONTEXT));
        let to = window[end..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(window.len(), |i| end + i)
            .min(end + CONTEXT);
        let mut line = String::from_utf8_lossy(&window[from..to]).into_owned();
        // Longest first, so a form containing another is masked whole.
        let mut forms: Vec<&(usize, Vec<u8>)> = self.forms.iter().collect();
        forms.sort_by_key(|(_, f)| std::cmp::Reverse(f.len()));
        for (secret, form) in forms {
            if let Ok(text) = std::str::from_utf8(form) {
                if line.contains(text) {
                    let (label, shown) = &self.secrets[*secret];
                    line = line.replace(text, &format!("<{label} {shown}>"));
                }
            }
        }
        line.trim().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "tiihtNczf5v6AKRyjwEUhQ==";

    #[test]
    fn a_secret_logged_before_it_was_learned_is_found_and_masked() {
        let scan = OutputScan::new();
        scan.feed(b"starting\njscode2session {\"session_key\":\"tiihtNczf5v6AKRyjwEUhQ==\",\"openid\":\"o1\"}\n");
        assert!(scan.findings().found.is_empty());
        scan.learn([("session_key", KEY)]);
        let f = scan.findings();
        assert_eq!(f.counts["session_key"], 1);
        assert!(!f.found[0].line.contains(KEY), "{}", f.found[0].line);
        assert!(
            f.found[0].line.contains("jscode2session"),
            "{}",
            f.found[0].line
        );
        // Learning it again finds nothing twice.
        scan.learn([("session_key", KEY)]);
        assert_eq!(scan.findings().counts["session_key"], 1);
    }

    #[test]
    fn a_secret_split_across_chunks_is_found_once() {
        let scan = OutputScan::new();
        scan.learn([("appsecret", "0123456789abcdef0123456789abcdef")]);
        scan.feed(b"GET /sns/jscode2session?appid=wx1&secret=0123456789abcdef");
        scan.feed(b"0123456789abcdef&js_code=x\n");
        scan.feed(b"later output\n");
        assert_eq!(scan.findings().counts["appsecret"], 1);
    }

    #[test]
    fn escaped_and_url_encoded_forms_are_found() {
        let scan = OutputScan::new();
        let key = "O/YVQPHxQY18DrsFq+/bjQ==";
        scan.learn([("session_key", key)]);
        scan.feed(br#"{"k":"O\/YVQPHxQY18DrsFq+\/bjQ=="}"#);
        scan.feed(b"\nsk=O%2FYVQPHxQY18DrsFq%2B%2FbjQ%3D%3D\n");
        assert_eq!(scan.findings().counts["session_key"], 2);
    }

    #[test]
    fn output_beyond_the_pending_window_is_counted_not_kept() {
        let scan = OutputScan::new();
        let line = vec![b'x'; 1024 * 1024];
        for _ in 0..6 {
            scan.feed(&line);
        }
        let f = scan.findings();
        assert_eq!(f.bytes, 6 * 1024 * 1024);
        assert_eq!(f.searched_early, 2 * 1024 * 1024);
        assert!(scan.state().pending.len() <= PENDING_LIMIT);
    }

    #[test]
    fn clean_output_has_no_findings() {
        let scan = OutputScan::new();
        scan.learn([("session_key", KEY), ("appsecret", "0123456789abcdef")]);
        scan.feed(b"login openid=oGZUI0egBJY1zhBYw2KhdUfwVJJE\nlistening on 127.0.0.1:3000\n");
        assert!(scan.findings().counts.is_empty());
    }
}
