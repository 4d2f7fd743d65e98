//! The bounded ring of recorded requests and its queries.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::http::Method;
use serde::{Deserialize, Serialize};

use super::entry::{keep, JournalEntry, Recorded, Target, NO_ANSWER};

/// How many entries a journal keeps unless configured otherwise.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// How many bytes of each request and response body an entry keeps unless configured otherwise
/// (WeChat's bodies are a few hundred bytes; this only bounds abuse).
pub const DEFAULT_BODY_LIMIT: usize = 8 * 1024;

/// How many bytes the whole journal may hold unless configured otherwise.
pub const DEFAULT_MAX_BYTES: usize = 8 * 1024 * 1024;

/// The journal's bounds: the oldest entries are dropped once either count or bytes run out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JournalLimits {
    /// Most entries kept (at least one).
    pub capacity: usize,
    /// Bytes of each body kept; the rest is dropped and the entry marked truncated.
    pub body_limit: usize,
    /// Bytes all kept entries may cost together (bodies, texts and bookkeeping).
    pub max_bytes: usize,
}

impl Default for JournalLimits {
    fn default() -> Self {
        Self {
            capacity: DEFAULT_CAPACITY,
            body_limit: DEFAULT_BODY_LIMIT,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// One page of entries, oldest first, and whether more matched past it.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// The entries of the page, oldest first.
    pub entries: Vec<JournalEntry>,
    /// More entries matched than `limit` allowed: read on with `since` = the last id here.
    pub more: bool,
}

/// Which entries to read (all the given conditions must hold). Also the query string of
/// `GET /__admin/journal`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalFilter {
    /// Exact request path, e.g. `/sns/jscode2session`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Only requests concerning this appid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// Only entries recorded after the entry with this id (exclusive). Ids, not times, because
    /// many requests share one second and the fake's clock can stand still.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
    /// At most this many entries (the oldest matching ones first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

impl JournalFilter {
    /// Entries for one path.
    pub fn path(path: impl Into<String>) -> Self {
        Self {
            path: Some(path.into()),
            ..Self::default()
        }
    }

    /// Entries for one tenant.
    pub fn appid(appid: impl Into<String>) -> Self {
        Self {
            appid: Some(appid.into()),
            ..Self::default()
        }
    }

    fn matches(&self, entry: &Recorded) -> bool {
        self.path
            .as_deref()
            .is_none_or(|p| p == entry.target.path())
            && self
                .appid
                .as_deref()
                .is_none_or(|a| entry.appid.as_deref() == Some(a))
            && self.since.is_none_or(|since| entry.id > since)
    }
}

/// What the journal needs to know when a request arrives.
#[derive(Debug)]
pub(crate) struct Arrival {
    pub time: i64,
    pub method: Method,
    pub target: Target,
    /// The whole body as received; the journal keeps a copy of its start.
    pub body: Bytes,
    pub appid: Option<Arc<str>>,
}

/// Every request the fake received, oldest dropped first once the entry count or the byte
/// budget ([`JournalLimits`]) is reached.
///
/// A request is recorded when it arrives (so a connection held by a `timeout` fault is already
/// visible) and completed with its answer when that is known.
#[derive(Debug)]
pub struct Journal {
    limits: JournalLimits,
    // A std Mutex, not tokio's: it is held only to push, update or copy entries, never across an
    // `.await`, and an uncontended std lock is far cheaper on the per-request path.
    ring: Mutex<Ring>,
}

#[derive(Debug, Default)]
struct Ring {
    /// The id the next request gets; ids start at 1 so `since=0` means "everything".
    next_id: u64,
    /// Sorted by id (pushed in order; removals keep the order).
    entries: VecDeque<Recorded>,
    /// The sum of the kept entries' [`Recorded::cost`].
    bytes: usize,
}

impl Ring {
    /// The entry with this id, if still kept. Ids are contiguous unless one tenant's entries
    /// were cleared, so the offset from the oldest id finds it directly; otherwise a binary
    /// search (entries stay sorted by id).
    fn find_mut(&mut self, id: u64) -> Option<&mut Recorded> {
        let first = self.entries.front()?.id;
        let guess = usize::try_from(id.checked_sub(first)?).ok()?;
        let index = match self.entries.get(guess) {
            Some(entry) if entry.id == id => guess,
            _ => self.entries.binary_search_by_key(&id, |e| e.id).ok()?,
        };
        self.entries.get_mut(index)
    }

    /// Drops the oldest entries until both bounds hold again (the newest entry always stays);
    /// returns them so they are freed after the lock is released.
    fn evict(&mut self, limits: &JournalLimits) -> Evicted {
        let mut evicted = Evicted::default();
        while self.entries.len() > 1
            && (self.entries.len() > limits.capacity || self.bytes > limits.max_bytes)
        {
            if let Some(old) = self.entries.pop_front() {
                self.bytes -= old.cost();
                match evicted.first {
                    None => evicted.first = Some(old),
                    Some(_) => evicted.more.push(old),
                }
            }
        }
        evicted
    }
}

/// Entries dropped from the ring, freed when this is dropped. A full ring drops one entry per
/// request, so the first is kept inline: no list is allocated for it.
#[derive(Default)]
struct Evicted {
    first: Option<Recorded>,
    more: Vec<Recorded>,
}

impl Journal {
    /// A journal keeping at most `capacity` entries (at least one), with the default body and
    /// byte limits.
    pub fn new(capacity: usize) -> Self {
        Self::with_limits(JournalLimits {
            capacity,
            ..JournalLimits::default()
        })
    }

    /// A journal with these bounds (a capacity of at least one).
    pub fn with_limits(limits: JournalLimits) -> Self {
        let limits = JournalLimits {
            capacity: limits.capacity.max(1),
            ..limits
        };
        Self {
            limits,
            ring: Mutex::new(Ring {
                next_id: 1,
                // Pre-size modestly: a fake that sees few requests should not hold 10 000 slots.
                entries: VecDeque::with_capacity(limits.capacity.min(1024)),
                bytes: 0,
            }),
        }
    }

    /// The most entries this journal keeps.
    pub fn capacity(&self) -> usize {
        self.limits.capacity
    }

    /// The journal's bounds.
    pub fn limits(&self) -> JournalLimits {
        self.limits
    }

    /// What the kept entries cost together, in bytes (at most `limits().max_bytes`, unless one
    /// entry alone costs more).
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> MutexGuard<'_, Ring> {
        // A panic while holding this lock leaves the ring consistent (every update is a single
        // push, pop or field write), so a poisoned lock is safe to keep using.
        self.ring
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records an arriving request; returns its id for [`Journal::complete`].
    pub(crate) fn arrive(&self, arrival: Arrival) -> u64 {
        // A copy, not a shared slice, made before locking: hyper's body chunks can share its
        // read buffer, and a kept slice would pin all of it.
        let body = keep(&arrival.body, self.limits.body_limit, false);
        let mut recorded = Recorded {
            id: 0,
            time: arrival.time,
            method: arrival.method,
            target: arrival.target,
            body_size: arrival.body.len(),
            body,
            status: NO_ANSWER,
            response_body: Bytes::new(),
            response_size: 0,
            appid: arrival.appid,
            fault: None,
        };
        let cost = recorded.cost();
        let mut ring = self.lock();
        let id = ring.next_id;
        ring.next_id += 1;
        recorded.id = id;
        ring.entries.push_back(recorded);
        ring.bytes += cost;
        let evicted = ring.evict(&self.limits);
        drop(ring);
        // Freeing the evicted entry's memory (cold by now) needs no lock.
        drop(evicted);
        id
    }

    /// Fills in the answer of a recorded request (a no-op if it was dropped or cleared since).
    pub(crate) fn complete(
        &self,
        id: u64,
        status: u16,
        response_body: Bytes,
        fault: Option<String>,
    ) {
        // Answers are the fake's own bytes, so a short one is shared rather than copied.
        let kept = keep(&response_body, self.limits.body_limit, true);
        let mut ring = self.lock();
        let Some(entry) = ring.find_mut(id) else {
            return;
        };
        let before = entry.cost();
        entry.status = status;
        entry.response_size = response_body.len();
        entry.response_body = kept;
        entry.fault = fault;
        let after = entry.cost();
        ring.bytes = ring.bytes + after - before;
        let evicted = ring.evict(&self.limits);
        drop(ring);
        drop(evicted);
    }

    /// Marks which fault answered a request that is still in flight (e.g. a held connection).
    pub(crate) fn mark_fault(&self, id: u64, fault: &str) {
        let mut ring = self.lock();
        if let Some(entry) = ring.find_mut(id) {
            let before = entry.cost();
            entry.fault = Some(fault.to_owned());
            let after = entry.cost();
            ring.bytes = ring.bytes + after - before;
        }
    }

    /// The entries matching `filter`, oldest first (at most `filter.limit` of them).
    pub fn entries(&self, filter: &JournalFilter) -> Vec<JournalEntry> {
        self.page(filter).entries
    }

    /// The entries matching `filter`, oldest first, at most `filter.limit` of them, and whether
    /// more matched.
    pub fn page(&self, filter: &JournalFilter) -> Page {
        let limit = filter.limit.unwrap_or(usize::MAX);
        // Copy the matching raw entries out under the lock (cheap: the bodies are shared
        // `Bytes`), and build the readable form (query parsing, UTF-8 conversion) after
        // releasing it so readers never slow the request path.
        let (raw, more): (Vec<Recorded>, bool) = {
            let ring = self.lock();
            // Entries are sorted by id: skip straight past `since`.
            let start = filter
                .since
                .map_or(0, |since| ring.entries.partition_point(|e| e.id <= since));
            let mut matching = ring.entries.range(start..).filter(|e| filter.matches(e));
            let raw = matching.by_ref().take(limit).cloned().collect();
            (raw, matching.next().is_some())
        };
        Page {
            entries: raw.iter().map(Recorded::to_entry).collect(),
            more,
        }
    }

    /// Every entry, oldest first.
    pub fn all(&self) -> Vec<JournalEntry> {
        self.entries(&JournalFilter::default())
    }

    /// How many kept entries have this path.
    pub fn count(&self, path: &str) -> usize {
        self.lock()
            .entries
            .iter()
            .filter(|e| e.target.path() == path)
            .count()
    }

    /// How many kept entries match `filter`.
    pub fn count_matching(&self, filter: &JournalFilter) -> usize {
        self.lock()
            .entries
            .iter()
            .filter(|e| filter.matches(e))
            .count()
    }

    /// Kept entries per path.
    pub fn counts_by_path(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for entry in self.lock().entries.iter() {
            *counts.entry(entry.target.path().to_owned()).or_insert(0) += 1;
        }
        counts
    }

    /// Number of kept entries.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when no entry is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The id of the newest entry ever recorded (0 when none): pass it as `since` later to read
    /// only what came after.
    pub fn last_id(&self) -> u64 {
        self.lock().next_id - 1
    }

    /// Forgets every entry and gives their memory back. Ids keep increasing.
    pub fn clear(&self) {
        let old = {
            let mut ring = self.lock();
            ring.bytes = 0;
            std::mem::take(&mut ring.entries)
        };
        drop(old);
        crate::memory::give_back();
    }

    /// Forgets the entries of one tenant; returns how many were removed.
    pub fn clear_app(&self, appid: &str) -> usize {
        let removed = {
            let mut ring = self.lock();
            let before = ring.entries.len();
            ring.entries.retain(|e| e.appid.as_deref() != Some(appid));
            let keep = ring.entries.len().max(1024).min(self.limits.capacity);
            ring.entries.shrink_to(keep);
            ring.bytes = ring.entries.iter().map(Recorded::cost).sum();
            before - ring.entries.len()
        };
        crate::memory::give_back();
        removed
    }
}

impl Default for Journal {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrival(path: &str, appid: Option<&str>) -> Arrival {
        Arrival {
            time: 1_700_000_000,
            method: Method::GET,
            target: Target::of(&format!("{path}?appid=wx1&js_code=a%2Bb").parse().unwrap()),
            body: Bytes::new(),
            appid: appid.map(Arc::from),
        }
    }

    #[test]
    fn the_oldest_entries_are_dropped_past_capacity() {
        let journal = Journal::new(3);
        for _ in 0..5 {
            journal.arrive(arrival("/sns/jscode2session", Some("wx1")));
        }
        let ids: Vec<u64> = journal.all().iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![3, 4, 5]);
        assert_eq!(journal.last_id(), 5);
    }

    #[test]
    fn the_query_is_decoded_into_an_object_when_read() {
        let journal = Journal::new(3);
        let id = journal.arrive(arrival("/sns/jscode2session", Some("wx1")));
        journal.complete(id, 200, Bytes::from_static(b"{}"), None);
        let entry = &journal.all()[0];
        assert_eq!(entry.query_param("js_code"), Some("a+b"));
        assert_eq!(entry.status, 200);
        assert_eq!(entry.response_body, "{}");
    }

    #[test]
    fn filters_combine_path_appid_and_since() {
        let journal = Journal::new(10);
        journal.arrive(arrival("/a", Some("wx1")));
        journal.arrive(arrival("/b", Some("wx1")));
        journal.arrive(arrival("/a", Some("wx2")));
        journal.arrive(arrival("/a", Some("wx1")));
        let filter = JournalFilter {
            path: Some("/a".into()),
            appid: Some("wx1".into()),
            since: Some(1),
            limit: None,
        };
        let ids: Vec<u64> = journal.entries(&filter).iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![4]);
        assert_eq!(journal.count("/a"), 3);
        assert_eq!(journal.counts_by_path().get("/b"), Some(&1));
    }

    #[test]
    fn clearing_one_tenant_keeps_the_others_and_completion_still_finds_entries() {
        let journal = Journal::new(10);
        journal.arrive(arrival("/a", Some("wx1")));
        let pending = journal.arrive(arrival("/a", Some("wx2")));
        journal.arrive(arrival("/a", Some("wx1")));
        assert_eq!(journal.clear_app("wx1"), 2);
        journal.complete(pending, 502, Bytes::new(), Some("f-1".into()));
        let all = journal.all();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].status, 502);
        assert_eq!(all[0].fault.as_deref(), Some("f-1"));
    }

    #[test]
    fn completion_finds_entries_after_a_gap_in_the_ids() {
        let journal = Journal::new(10);
        let ids: Vec<u64> = ["wx1", "wx2", "wx1", "wx2"]
            .iter()
            .map(|a| journal.arrive(arrival("/a", Some(a))))
            .collect();
        journal.clear_app("wx1");
        journal.complete(ids[3], 200, Bytes::from_static(b"ok"), None);
        journal.complete(ids[2], 500, Bytes::new(), None);
        let statuses: Vec<(u64, u16)> = journal.all().iter().map(|e| (e.id, e.status)).collect();
        assert_eq!(statuses, vec![(2, 0), (4, 200)]);
    }

    proptest::proptest! {
        #[test]
        fn the_journal_keeps_exactly_the_newest_entries(capacity in 1usize..50, requests in 0usize..200) {
            let journal = Journal::new(capacity);
            for _ in 0..requests {
                journal.arrive(arrival("/a", Some("wx1")));
            }
            let ids: Vec<u64> = journal.all().iter().map(|e| e.id).collect();
            let kept = requests.min(capacity) as u64;
            let expected: Vec<u64> = (requests as u64 - kept + 1..=requests as u64).collect();
            proptest::prop_assert_eq!(ids, expected);
            proptest::prop_assert_eq!(journal.last_id(), requests as u64);
        }
    }
}
