//! The browser console at `/__admin/console` and the short page a browser gets at `/`. Static
//! files compiled into the binary (no CDN, no build step) whose script calls the control API
//! like any other client: the console has no path of its own into the engine. Split by what is
//! served: the console's files (`assets`) and the page at `/` (`home`).

mod assets;
mod home;

pub use assets::{routes, LOGIN_SHIM, SCRIPTS};
pub use home::home;
