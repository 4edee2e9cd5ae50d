//! Ralph's six labels on GitHub: created when missing, never changed.

use std::collections::BTreeSet;

use ralph_issues::{Label, RemoteError};
use reqwest::Method;
use serde_json::{Value, json};

use crate::github::Github;
use crate::wire::LabelObject;

/// The colour (hex, no `#`) and description a label is created with.
pub fn appearance(label: Label) -> (&'static str, &'static str) {
    match label {
        Label::InRefinement => ("fbca04", "The spec is being written or discussed"),
        Label::Ready => ("0e8a16", "The spec is complete; Ralph may take it"),
        Label::InProgress => ("1d76db", "Ralph's loop is working on it"),
        Label::AttentionNeeded => ("d93f0b", "Ralph stopped; a person must look"),
        Label::BacklogReview => ("c5def5", "A backlog review tracking issue"),
        Label::Ralph => ("5319e7", "Ralph is working on it (remove to hand off)"),
    }
}

impl Github {
    /// Creates each of Ralph's labels the repository lacks; existing
    /// labels (whatever their colour) are left as they are. The labels
    /// created, in [`Label::ALL`]'s order.
    pub async fn ensure_labels(&self) -> Result<Vec<Label>, RemoteError> {
        let subject = format!("the labels of {}", self.repository());
        let existing: Vec<LabelObject> = self
            .client()
            .get_all(&self.repo_path(&["labels"]), &[], &subject)
            .await
            .map_err(|error| self.fail_repository(error))?;
        let names: BTreeSet<&str> = existing.iter().map(|label| label.name.as_str()).collect();
        let mut created = Vec::new();
        for label in Label::ALL {
            if names.contains(label.as_str()) {
                continue;
            }
            let (color, description) = appearance(label);
            let body = json!({
                "name": label.as_str(),
                "color": color,
                "description": description,
            });
            let subject = format!("the label `{label}` in {}", self.repository());
            self.client()
                .send::<Value>(
                    Method::POST,
                    &self.repo_path(&["labels"]),
                    Some(&body),
                    &subject,
                )
                .await?;
            created.push(label);
        }
        Ok(created)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_has_a_six_digit_colour_and_a_description() {
        for label in Label::ALL {
            let (color, description) = appearance(label);
            assert_eq!(color.len(), 6, "{label}");
            assert!(color.chars().all(|c| c.is_ascii_hexdigit()), "{label}");
            assert!(
                !description.is_empty() && description.len() <= 100,
                "{label}"
            );
        }
    }
}
