//! Loading a profile: read, parse, resolve its paths, check and compile it.
//!
//! A relative `backend.cwd` is resolved against the directory of the profile file, never against
//! wherever wxmock was started.

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
        // A relative cwd is relative to the profile, not to wherever wxmock was started.
        if let (Some(cwd), Some(dir)) = (&profile.backend.cwd, path.parent()) {
            if cwd.is_relative() {
                profile.backend.cwd = Some(dir.join(cwd));
            }
        }
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
