//! `key=value` settings written in a question or a small file, for
//! plugins that need a few names from the user (a cluster, a log group):
//!
//! ```text
//! Is the api healthy? cluster=prod services=api,worker log-group=/ecs/api
//! ```
//!
//! Words without `=` are ignored, so settings can sit inside a sentence. A
//! value runs to the next whitespace; lists are comma-separated. A line
//! starting with `#` is a comment.

use std::collections::BTreeMap;

/// Settings by key; a later value for the same key wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    values: BTreeMap<String, String>,
}

impl Settings {
    /// Reads every `key=value` word of `text`.
    pub fn parse(text: &str) -> Self {
        let values = text
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .flat_map(str::split_whitespace)
            .filter_map(|word| word.split_once('='))
            .filter(|(key, value)| !key.is_empty() && !value.is_empty())
            .map(|(key, value)| {
                let value = value.trim_end_matches(['?', '.', ',', ';']);
                (key.to_ascii_lowercase(), value.to_owned())
            })
            .filter(|(_, value)| !value.is_empty())
            .collect();
        Self { values }
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// The comma-separated values of `key`, empty items dropped.
    pub fn list(&self, key: &str) -> Vec<&str> {
        self.get(key)
            .map(|value| value.split(',').filter(|item| !item.is_empty()).collect())
            .unwrap_or_default()
    }

    /// These settings with every key of `overrides` replacing this one's.
    pub fn overridden_by(mut self, overrides: Settings) -> Self {
        self.values.extend(overrides.values);
        self
    }

    /// Whether no setting was given.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_read_from_inside_a_sentence() {
        let settings = Settings::parse(
            "Is the api healthy? cluster=prod services=api,worker log-group=/ecs/api.",
        );
        assert_eq!(settings.get("cluster"), Some("prod"));
        assert_eq!(settings.list("services"), ["api", "worker"]);
        assert_eq!(settings.get("log-group"), Some("/ecs/api"));
        assert_eq!(settings.get("healthy"), None);
    }

    #[test]
    fn comments_and_empty_values_are_ignored() {
        let settings = Settings::parse("# cluster=old\ncluster=\nservices=,api,\n=x");
        assert_eq!(settings.get("cluster"), None);
        assert_eq!(settings.list("services"), ["api"]);
        assert_eq!(settings.list("absent"), Vec::<&str>::new());
        assert!(Settings::parse("no settings here").is_empty());
    }

    #[test]
    fn overrides_replace_only_their_own_keys() {
        let file = Settings::parse("cluster=prod\nservices=api");
        let question = Settings::parse("services=worker");
        let merged = file.overridden_by(question);
        assert_eq!(merged.get("cluster"), Some("prod"));
        assert_eq!(merged.get("services"), Some("worker"));
    }

    #[test]
    fn keys_are_case_insensitive() {
        assert_eq!(Settings::parse("Cluster=prod").get("cluster"), Some("prod"));
    }
}
