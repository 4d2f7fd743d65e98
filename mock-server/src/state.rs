//! The state every handler shares. Cloning is one atomic increment: every request clones it a
//! few times (each middleware and the handler's `State` extractor), so the parts sit behind a
//! single `Arc` rather than one each. Fields are reached through `Deref` (`state.engine`).

use std::ops::Deref;
use std::sync::Arc;

use crate::admin::cors::CorsPolicy;
use crate::admin::guard::{AdminGuard, SecretsView};
use crate::clock::Clock;
use crate::config::Config;
use crate::connection::ConnectionConfig;
use crate::engine::Engine;
use crate::fault::FaultStore;
use crate::journal::Journal;
use crate::wire::Wire;

/// The state every handler shares: a cheap-to-clone handle on one [`Shared`].
#[derive(Clone)]
pub struct AppState {
    shared: Arc<Shared>,
}

/// What an [`AppState`] holds.
pub struct Shared {
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
    /// Which browser origins may call the control API.
    pub cors: CorsPolicy,
    /// Who may use the control API.
    pub admin: AdminGuard,
    /// Client-connection timeouts and limit (read by [`crate::server::serve`]).
    pub connections: ConnectionConfig,
}

impl AppState {
    /// Fresh state for a validated `config`, reading time from `clock`.
    pub fn new(config: &Config, clock: Clock) -> Self {
        Self::from_parts(Shared {
            engine: Arc::new(Engine::new(config, clock.clone())),
            journal: Arc::new(Journal::with_limits(config.journal_limits())),
            faults: Arc::new(FaultStore::new()),
            wire: Arc::new(Wire::new(config.wire.clone(), clock.clone())),
            clock,
            cors: CorsPolicy::from_list(config.cors_origins.as_deref()),
            // Masked unless the config says otherwise: see `AdminConfig::journal_secrets`.
            admin: AdminGuard::new(&config.admin, SecretsView::Masked),
            connections: config.connections.clone(),
        })
    }

    /// State assembled from its parts (e.g. a test sharing one engine between two routers).
    pub fn from_parts(shared: Shared) -> Self {
        Self {
            shared: Arc::new(shared),
        }
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}
