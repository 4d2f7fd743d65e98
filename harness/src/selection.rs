//! Which cases run (`--only`/`--skip`, ids or globs like `token.*`) and which failures are
//! expected (a file of case ids, `#` comments), so a team can adopt the suite gradually.

use std::collections::BTreeSet;
use std::path::Path;

use crate::case::Case;
use crate::error::HarnessError;

/// `*` matches any run of characters, `?` one character; everything else literally.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    go(&p, &t)
}

/// Splits repeated and comma-separated patterns.
fn patterns(list: &[String]) -> Vec<String> {
    list.iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Keeps the cases matching `only` (all when empty) and not matching `skip`. A pattern that
/// matches no case is an error: a typo must not silently run nothing.
pub fn select(all: Vec<Case>, only: &[String], skip: &[String]) -> Result<Vec<Case>, HarnessError> {
    let only = patterns(only);
    let skip = patterns(skip);
    for p in only.iter().chain(skip.iter()) {
        if !all.iter().any(|c| glob_match(p, c.id)) {
            return Err(HarnessError::Selection(format!("`{p}` matches no case id")));
        }
    }
    Ok(all
        .into_iter()
        .filter(|c| only.is_empty() || only.iter().any(|p| glob_match(p, c.id)))
        .filter(|c| !skip.iter().any(|p| glob_match(p, c.id)))
        .collect())
}

/// The expected-failures list.
#[derive(Clone, Debug, Default)]
pub struct ExpectedFailures {
    patterns: Vec<String>,
}

impl ExpectedFailures {
    /// Parses the file text: one id (or glob) per line, `#` starts a comment.
    pub fn parse(text: &str) -> Self {
        let patterns = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        Self { patterns }
    }

    pub fn from_file(path: &Path) -> Result<Self, HarnessError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| HarnessError::ExpectedFailuresRead {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self::parse(&text))
    }

    pub fn from_ids<I: IntoIterator<Item = S>, S: Into<String>>(ids: I) -> Self {
        Self {
            patterns: ids.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether a failure of `id` is expected.
    pub fn contains(&self, id: &str) -> bool {
        self.patterns.iter().any(|p| glob_match(p, id))
    }

    /// The entries (ids or globs) that list `id`.
    pub fn matching(&self, id: &str) -> Vec<String> {
        self.patterns
            .iter()
            .filter(|p| glob_match(p, id))
            .cloned()
            .collect()
    }

    /// Listed entries that match no case of the catalogue (probably typos or removed cases).
    pub fn unknown(&self, catalogue: &[Case]) -> BTreeSet<String> {
        self.patterns
            .iter()
            .filter(|p| !catalogue.iter().any(|c| glob_match(p, c.id)))
            .cloned()
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_ids() {
        assert!(glob_match("token.*", "token.alg-none"));
        assert!(glob_match("*.happy", "login.happy"));
        assert!(glob_match("login.?appy", "login.happy"));
        assert!(!glob_match("token", "token.alg-none"));
        assert!(!glob_match("login.*", "robust.survives"));
    }

    #[test]
    fn the_expected_failures_file_ignores_comments_and_blank_lines() {
        let x = ExpectedFailures::parse(
            "# header\n\n token.alg-none   # bug 12\ndata.*\n#login.happy\n",
        );
        assert!(x.contains("token.alg-none"));
        assert!(x.contains("data.bad-iv"));
        assert!(!x.contains("login.happy"));
    }

    #[test]
    fn only_and_skip_accept_comma_separated_lists() {
        let all = crate::case::catalogue();
        let picked = select(
            all,
            &["login.happy,login.missing-code".into()],
            &["login.missing-code".into()],
        )
        .expect("valid");
        assert_eq!(
            picked.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec!["login.happy"]
        );
    }
}
