//! What the probes have found so far, kept outside the probe future so that when the overall
//! time limit drops it, the findings are still there: the last saved `Discovery`, what was being
//! probed, and which sections were finished. The profile written then is the one found so far,
//! with every unfinished section listed as not determined, and why.

use std::sync::Mutex;
use std::time::Duration;

use super::found::{DiscoverOptions, Discovery, Section, TimeLimitHit};

#[derive(Default)]
struct State {
    found: Discovery,
    stage: String,
    finished: Vec<Section>,
}

/// The probes' progress, shared between the probe future and the time limit around it.
pub(super) struct Progress {
    // A std Mutex: held only to copy a small value in or out, never across an await.
    state: Mutex<State>,
    /// The clock is probed (discover started the backend from a command).
    probes_clock: bool,
}

impl Progress {
    /// Progress of a run that probes the backend's clock (`probes_clock`) or not.
    pub fn new(probes_clock: bool) -> Self {
        Self {
            state: Mutex::default(),
            probes_clock,
        }
    }

    fn with(&self, f: impl FnOnce(&mut State)) {
        if let Ok(mut s) = self.state.lock() {
            f(&mut s);
        }
    }

    /// What is being probed now (`the login (POST /api/login, …)`), for the time-limit message.
    pub fn stage(&self, what: impl Into<String>) {
        let what = what.into();
        self.with(|s| s.stage = what);
    }

    /// Keeps `d` as the findings so far.
    pub fn save(&self, d: &Discovery) {
        self.with(|s| s.found = d.clone());
    }

    /// Keeps `d` and marks `sections` finished.
    pub fn finish(&self, d: &Discovery, sections: &[Section]) {
        self.with(|s| {
            s.found = d.clone();
            s.finished.extend_from_slice(sections);
        });
    }

    /// The findings when the time limit ran out: every section that applies and was not
    /// finished is listed as not determined, saying where the limit ran out.
    pub fn ran_out(&self, options: &DiscoverOptions, limit: Duration) -> Discovery {
        let Ok(mut s) = self.state.lock() else {
            return Discovery::default();
        };
        let mut d = std::mem::take(&mut s.found);
        let carries_data = d.login.as_ref().is_some_and(|l| l.carries_data);
        let applies = |section: Section| match section {
            Section::LoginData => carries_data,
            Section::UserInfo => options.user_info.is_some(),
            Section::Phone => options.phone.is_some(),
            Section::AccessToken => !options.access_token.is_empty(),
            Section::JwtKey => !options.env.is_empty(),
            Section::Clock => self.probes_clock,
            _ => true,
        };
        let unfinished: Vec<Section> = Section::ALL
            .into_iter()
            .filter(|x| applies(*x) && !s.finished.contains(x))
            .collect();
        let stage = if s.stage.is_empty() {
            "the backend".to_string()
        } else {
            s.stage.clone()
        };
        let hit = TimeLimitHit {
            secs: limit.as_secs(),
            stage,
            unfinished,
        };
        for section in &hit.unfinished {
            d.unknown
                .push(format!("{}: {}", section.what(), hit.sentence()));
        }
        d.time_limit = Some(hit);
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::LoginFound;

    fn login(carries_data: bool) -> LoginFound {
        LoginFound {
            method: "POST".into(),
            request: "code_in = \"json\"\ncode_field = \"code\"".into(),
            label: "the code goes in the JSON body as `code`".into(),
            carries_data,
            parts: vec![("token".into(), "/token".into())],
            data_pointer: None,
            data_read_back: None,
        }
    }

    #[test]
    fn the_findings_saved_survive_and_every_unfinished_section_says_where_time_ran_out() {
        let progress = Progress::new(true);
        let mut options = DiscoverOptions::new("/api/login");
        options.phone = Some("/api/phone".into());
        let mut d = Discovery {
            login: Some(login(false)),
            login_probes: 3,
            ..Discovery::default()
        };
        progress.finish(&d, &[Section::Login]);
        progress.stage("the auth style (GET /api/me with Bearer)");
        d.login_probes = 99; // not saved: the probe future was dropped before it said so
        let found = progress.ran_out(&options, Duration::from_secs(7));
        assert_eq!(found.login, Some(login(false)));
        assert_eq!(found.login_probes, 3);
        let hit = found.time_limit.clone().expect("time limit recorded");
        assert_eq!(
            hit.unfinished,
            [
                Section::Auth,
                Section::Identity,
                Section::Phone,
                Section::Clock
            ],
            "the login is finished; the data of a login that carries none, the user-info and \
             access-token endpoints not asked for and the JWT key without --env do not apply"
        );
        let why = "the overall time limit of 7 s ran out while probing the auth style (GET /api/me with Bearer)";
        assert_eq!(found.unknown.len(), 4, "{:#?}", found.unknown);
        for line in &found.unknown {
            assert!(line.ends_with(why), "{line}");
        }
        assert!(found.unknown[2].starts_with("the phone endpoint (`[phone]`)"));
    }

    #[test]
    fn a_limit_before_the_login_leaves_every_section_not_determined() {
        let progress = Progress::new(false);
        progress.stage("the login (POST /api/login, the code goes in the query as `code`)");
        let mut options = DiscoverOptions::new("/api/login");
        options.env = vec![("JWT_SECRET".into(), "k".into())];
        let found = progress.ran_out(&options, Duration::from_secs(2));
        assert!(found.login.is_none());
        let hit = found.time_limit.expect("time limit recorded");
        assert_eq!(hit.unfinished[0], Section::Login);
        assert!(hit.left(Section::JwtKey), "{:?}", hit.unfinished);
        assert!(!hit.left(Section::LoginData), "{:?}", hit.unfinished);
        assert!(
            !hit.left(Section::Clock),
            "a backend discover did not start has no clock probe: {:?}",
            hit.unfinished
        );
    }
}
