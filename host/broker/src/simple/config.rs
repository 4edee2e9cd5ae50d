//! The `simple` section of `.ralph/config.json`:
//!
//! ```json
//! "simple": {"implementer": {"kind": "claude_code"}, "max_iterations": 10}
//! ```
//!
//! `implementer` is one of the marketplace's implementer kinds that writes
//! the change itself (`model`, `command`, `claude_code`, `codex`; default
//! the top-level `implementer`); `max_iterations` caps the iterations of one
//! session (default 10).

use std::path::Path;

use ralph_marketplace::{Config, ConfigError};
use serde::Deserialize;

use crate::implementer::Implementer;

/// The simple loop's settings.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimpleSettings {
    #[serde(default)]
    pub implementer: Option<Implementer>,
    #[serde(default = "default_max_iterations")]
    pub max_iterations: u32,
}

impl Default for SimpleSettings {
    fn default() -> Self {
        SimpleSettings {
            implementer: None,
            max_iterations: default_max_iterations(),
        }
    }
}

fn default_max_iterations() -> u32 {
    10
}

impl SimpleSettings {
    /// The `simple` section of `config` (read from `path`, for messages).
    pub fn from_config(config: &Config, path: &Path) -> Result<SimpleSettings, ConfigError> {
        let invalid = |field: String, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            field,
            message,
        };
        let settings: SimpleSettings = match &config.simple {
            None => SimpleSettings::default(),
            Some(section) => serde_path_to_error::deserialize(section).map_err(|error| {
                let inner = error.path().to_string();
                let field = if inner == "." || inner == "?" {
                    "simple".to_owned()
                } else {
                    format!("simple.{inner}")
                };
                invalid(field, error.into_inner().to_string())
            })?,
        };
        if settings.max_iterations == 0 {
            return Err(invalid(
                "simple.max_iterations".to_owned(),
                "must be at least 1".to_owned(),
            ));
        }
        Ok(settings)
    }

    /// The implementer the simple loop uses: its own, else `top_level`. The
    /// `patch` implementer only applies a bidder's diff, and the simple
    /// loop has no bidders: a config error naming the field it came from.
    pub fn implementer(
        &self,
        top_level: Implementer,
        path: &Path,
    ) -> Result<Implementer, ConfigError> {
        let (implementer, field) = match &self.implementer {
            Some(own) => (own.clone(), "simple.implementer"),
            None => (top_level, "implementer"),
        };
        if implementer == Implementer::Patch {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                field: field.to_owned(),
                message: "the simple loop needs an implementer that writes the change itself (`model`, `command`, `claude_code` or `codex`); `patch` only applies a bidder's diff. Set `simple.implementer`, e.g. {\"kind\": \"claude_code\"}".to_owned(),
            });
        }
        Ok(implementer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(json: &str) -> Result<SimpleSettings, ConfigError> {
        let config = Config::from_slice(json.as_bytes()).expect("config");
        SimpleSettings::from_config(&config, Path::new(".ralph/config.json"))
    }

    #[test]
    fn the_section_is_typed_with_errors_naming_the_field() {
        assert_eq!(settings("{}").expect("default"), SimpleSettings::default());
        let read =
            settings(r#"{"simple": {"max_iterations": 3, "implementer": {"kind": "codex"}}}"#)
                .expect("valid");
        assert_eq!(read.max_iterations, 3);
        let error = settings(r#"{"simple": {"max_iterations": "ten"}}"#).expect_err("invalid");
        assert!(
            error.to_string().contains("simple.max_iterations"),
            "{error}"
        );
        let error = settings(r#"{"simple": {"max_iterations": 0}}"#).expect_err("invalid");
        assert!(
            error.to_string().contains("simple.max_iterations"),
            "{error}"
        );
        let error = settings(r#"{"simple": {"iterations": 3}}"#).expect_err("unknown");
        assert!(error.to_string().contains("iterations"), "{error}");
    }

    #[test]
    fn the_patch_implementer_is_refused_naming_where_it_came_from() {
        let path = Path::new(".ralph/config.json");
        let error = SimpleSettings::default()
            .implementer(Implementer::Patch, path)
            .expect_err("refused");
        assert_eq!(error.field(), Some("implementer"), "{error}");
        let own = settings(r#"{"simple": {"implementer": {"kind": "patch"}}}"#).expect("typed");
        let error = own
            .implementer(Implementer::default(), path)
            .expect_err("refused");
        assert_eq!(error.field(), Some("simple.implementer"), "{error}");
    }
}
