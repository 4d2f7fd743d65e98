//! The installed fault rules, consulted on every WeChat-API request.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::Notify;

use super::facts::RequestFacts;
use super::rule::{FaultRule, FaultSpec, Outcome};

/// Installed fault rules. Rules are tried in the order they were added; the first one that
/// decides for a request answers it.
#[derive(Debug)]
pub struct FaultStore {
    // A std Mutex: held only to scan a short list and bump counters, never across an `.await`.
    rules: Mutex<Vec<FaultRule>>,
    /// How many rules are installed, read without the lock so requests skip all fault work
    /// when there is none (the usual case, and the one the benchmark measures).
    active: AtomicUsize,
    /// Ids are never reused, even across resets, so a stale `DELETE` cannot hit a newer rule.
    next_id: AtomicU64,
    /// Wakes every connection a `delay` or `timeout` fault is holding (on clear, reset, or
    /// server shutdown), so cleaning up never waits for a hold to run out.
    released: Notify,
    /// Apps whose access tokens are all refused with 40001 (the `access-token-rejected`
    /// scenario). Kept with the rules so that clearing an app's faults lifts it too. A std
    /// Mutex: a set lookup, never held across an `.await`.
    token_refusals: Mutex<BTreeSet<String>>,
    /// How many apps are in `token_refusals`, read without the lock so token checks skip it
    /// when none is (the usual case).
    refusing: AtomicUsize,
}

impl FaultStore {
    /// An empty store: no rule installed.
    pub fn new() -> Self {
        Self {
            rules: Mutex::new(Vec::new()),
            active: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            released: Notify::new(),
            token_refusals: Mutex::new(BTreeSet::new()),
            refusing: AtomicUsize::new(0),
        }
    }

    fn refusals(&self) -> MutexGuard<'_, BTreeSet<String>> {
        // Inserts and removes only: a poisoned set is still consistent.
        self.token_refusals
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// From now on every access token of `appid`, those issued later included, answers 40001
    /// on use, until the app's faults are cleared.
    pub fn refuse_access_tokens(&self, appid: &str) {
        let mut set = self.refusals();
        set.insert(appid.to_owned());
        self.refusing.store(set.len(), Ordering::Release);
    }

    /// True while `appid`'s access tokens are all refused.
    pub fn refuses_access_tokens(&self, appid: &str) -> bool {
        self.refusing.load(Ordering::Acquire) > 0 && self.refusals().contains(appid)
    }

    fn lift_refusals(&self, appid: Option<&str>) {
        let mut set = self.refusals();
        match appid {
            Some(appid) => {
                set.remove(appid);
            }
            None => set.clear(),
        }
        self.refusing.store(set.len(), Ordering::Release);
    }

    /// The apps whose access tokens are all refused, sorted.
    pub fn refusing_apps(&self) -> Vec<String> {
        self.refusals().iter().cloned().collect()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<FaultRule>> {
        // Every update is a push, a retain or a counter bump: a poisoned list is still consistent.
        self.rules
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn sync_active(&self, rules: &[FaultRule]) {
        self.active.store(rules.len(), Ordering::Release);
    }

    /// Validates and installs a rule; returns it as JSON (with its id `f-N`).
    pub fn add(&self, spec: FaultSpec) -> Result<Value, String> {
        let id = format!("f-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let rule = FaultRule::new(id, spec)?;
        let json = rule.to_json();
        let mut rules = self.lock();
        rules.push(rule);
        self.sync_active(&rules);
        Ok(json)
    }

    /// The installed rules as JSON, oldest first; only one app's rules when `appid` is given.
    pub fn list(&self, appid: Option<&str>) -> Vec<Value> {
        self.lock()
            .iter()
            .filter(|r| appid.is_none() || r.scope.appid.as_deref() == appid)
            .map(FaultRule::to_json)
            .collect()
    }

    /// Removes one rule; false when there is no rule with that id.
    pub fn remove(&self, id: &str) -> bool {
        let mut rules = self.lock();
        let before = rules.len();
        rules.retain(|r| r.id != id);
        self.sync_active(&rules);
        rules.len() != before
    }

    /// Removes every rule (and every app's access-token refusal) and releases the connections
    /// faults are holding; returns how many rules were removed.
    pub fn clear(&self) -> usize {
        self.lift_refusals(None);
        let removed = {
            let mut rules = self.lock();
            let removed = rules.len();
            rules.clear();
            self.sync_active(&rules);
            removed
        };
        self.release_held();
        removed
    }

    /// Ends every hold now: held `timeout` connections are dropped, `delay`ed ones answered.
    /// Call it when the server shuts down, so a graceful shutdown does not wait for holds.
    pub fn release_held(&self) {
        self.released.notify_waiters();
    }

    /// Resolves at the next [`FaultStore::release_held`]. Create it before waiting: a release
    /// between creation and the first poll still counts.
    pub fn released(&self) -> tokio::sync::futures::Notified<'_> {
        self.released.notified()
    }

    /// Removes the rules naming `appid` (rules for every app stay) and lifts its access-token
    /// refusal; returns how many rules were removed.
    pub fn clear_app(&self, appid: &str) -> usize {
        self.lift_refusals(Some(appid));
        let mut rules = self.lock();
        let before = rules.len();
        rules.retain(|r| r.scope.appid.as_deref() != Some(appid));
        self.sync_active(&rules);
        before - rules.len()
    }

    /// True when at least one rule is installed (a lock-free check).
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire) > 0
    }

    /// True when a rule targets `path`.
    pub fn has_rules_for(&self, path: &str) -> bool {
        self.is_active() && self.lock().iter().any(|r| r.scope.path == path)
    }

    /// The first rule that decides for this request, its id, and what it decided. A rule that
    /// is used up by this call is removed.
    pub fn decide(&self, path: &str, facts: &RequestFacts) -> Option<(String, Outcome)> {
        let mut rules = self.lock();
        let mut decided = None;
        for (index, rule) in rules.iter_mut().enumerate() {
            if rule.scope.path != path {
                continue;
            }
            // Only the rules asked here advance their counters or draws.
            if let Some(outcome) = rule.decide(facts) {
                decided = Some((index, outcome));
                break;
            }
        }
        let (index, outcome) = decided?;
        let rule = &rules[index];
        let id = rule.id.clone();
        if rule.is_exhausted() {
            rules.remove(index);
            self.sync_active(&rules);
        }
        Some((id, outcome))
    }
}

impl Default for FaultStore {
    fn default() -> Self {
        Self::new()
    }
}
