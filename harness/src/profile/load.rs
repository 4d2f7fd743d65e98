//! Loading a profile: read, parse, resolve its paths, check and compile it.
//!
//! The path rule (one for every path): relative paths in a profile file resolve against the
//! directory of that file, never against wherever wxmock was started. `backend.cwd` resolves
//! against it (and defaults to it); the backend and its setup commands run in that working
//! directory, so a relative program that names a file (`./server.sh`), relative script
//! arguments (`server.js`) and relative paths in env values all resolve there too. A profile
//! given as text (no file) resolves against the current directory.

use std::path::Path;

use super::compile::{compile, login_mentions_code};
use super::Profile;
use crate::error::HarnessError;

impl Profile {
    /// Reads, parses and validates a profile file.
    pub fn from_file(path: &Path) -> Result<Self, HarnessError> {
        let text = std::fs::read_to_string(path).map_err(|source| HarnessError::ProfileRead {
            path: path.to_path_buf(),
            source,
        })?;
        let mut profile = Self::from_toml_str(&text, &path.display().to_string())?;
        if profile.name.is_none() {
            profile.name = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        }
        // Relative paths are relative to the profile, not to wherever wxmock was started.
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        profile.backend.base_dir = Some(match dir {
            Some(d) => d.to_path_buf(),
            None => std::path::PathBuf::from("."),
        });
        Ok(profile)
    }

    /// Parses and validates a profile; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, HarnessError> {
        let mut profile: Profile =
            toml::from_str(text).map_err(|e| HarnessError::ProfileParse {
                origin: origin.into(),
                message: e.to_string(),
            })?;
        profile.validate(origin)?;
        profile.compiled = compile(&profile, origin)?;
        Ok(profile)
    }

    /// Recompiles the request model after the sections were changed in code.
    pub fn recompile(&mut self, origin: &str) -> Result<(), HarnessError> {
        self.validate(origin)?;
        self.compiled = compile(self, origin)?;
        Ok(())
    }

    /// The login code's field name when a shorthand places it (`code_field`, default `code`);
    /// None when a template already places `{{code}}` or `code_field = ""`.
    pub fn login_code_field(&self) -> Option<String> {
        if let Some(f) = &self.login.code_field {
            return (!f.is_empty()).then(|| f.clone());
        }
        (!login_mentions_code(self)).then(|| "code".to_string())
    }
}
