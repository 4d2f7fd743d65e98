//! The state every handler shares. Cloning is cheap: everything is behind an `Arc`.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::engine::Engine;
use crate::fault::FaultStore;
use crate::journal::Journal;
use crate::wire::Wire;

#[derive(Clone)]
pub struct AppState {
    /// Tenants (apps), users, codes, session keys, access tokens, quotas.
    pub engine: Arc<Engine>,
    /// Every request the fake received, bounded.
    pub journal: Arc<Journal>,
    /// Injected faults and scenarios.
    pub faults: Arc<FaultStore>,
    /// How answers are written on the wire.
    pub wire: Arc<Wire>,
    /// The clock every expiry reads.
    pub clock: Clock,
}

impl AppState {
    /// Fresh state for a validated `config`, reading time from `clock`.
    pub fn new(config: &Config, clock: Clock) -> Self {
        AppState {
            engine: Arc::new(Engine::new(config, clock.clone())),
            journal: Arc::new(Journal::new(config.journal_capacity())),
            faults: Arc::new(FaultStore::new()),
            wire: Arc::new(Wire::new(config.wire.clone(), clock.clone())),
            clock,
        }
    }
}
