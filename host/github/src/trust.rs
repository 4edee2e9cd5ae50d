//! Who may steer Ralph: the `ready` label counts only when someone with
//! write access added it, and only their comments reach a prompt.
//!
//! Write access is the collaborator permission `admin`, `maintain` or
//! `write` (`GET /repos/{owner}/{repo}/collaborators/{user}/permission`);
//! `triage`, `read` and `none` are not, and neither is a user GitHub does
//! not know (404). Each login is asked once per [`Github`].

use std::fmt;

use ralph_issues::{Label, RemoteError};

use crate::github::Github;
use crate::wire::{CommentObject, EventObject, PermissionObject};

/// A user's permission on the repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    Admin,
    Maintain,
    Write,
    Triage,
    Read,
    None,
}

impl Permission {
    pub fn parse(text: &str) -> Option<Permission> {
        Some(match text {
            "admin" => Permission::Admin,
            "maintain" => Permission::Maintain,
            "write" => Permission::Write,
            "triage" => Permission::Triage,
            "read" => Permission::Read,
            "none" => Permission::None,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Admin => "admin",
            Permission::Maintain => "maintain",
            Permission::Write => "write",
            Permission::Triage => "triage",
            Permission::Read => "read",
            Permission::None => "none",
        }
    }

    /// Whether it includes pushing to the repository.
    pub fn can_write(self) -> bool {
        matches!(
            self,
            Permission::Admin | Permission::Maintain | Permission::Write
        )
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Who added an issue's `ready` label, and whether that counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadyTrust {
    /// Added most recently by `login`, who has write access.
    Trusted {
        login: String,
        permission: Permission,
    },
    /// Added most recently by `login`, who has no write access.
    Untrusted {
        login: String,
        permission: Permission,
    },
    /// The issue's events show no one adding `ready`.
    NeverAdded,
}

impl ReadyTrust {
    pub fn is_trusted(&self) -> bool {
        matches!(self, ReadyTrust::Trusted { .. })
    }
}

impl fmt::Display for ReadyTrust {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadyTrust::Trusted { login, permission } => write!(
                formatter,
                "the `ready` label was added by {login}, who has {permission} access"
            ),
            ReadyTrust::Untrusted { login, permission } => write!(
                formatter,
                "the `ready` label was added by {login}, who has {permission} access; only someone with write access can mark an issue ready"
            ),
            ReadyTrust::NeverAdded => formatter.write_str(
                "no one is recorded adding the `ready` label; only someone with write access can mark an issue ready",
            ),
        }
    }
}

/// A comment by someone with write access.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedComment {
    pub id: u64,
    pub author: String,
    pub permission: Permission,
    pub body: String,
}

impl Github {
    /// `login`'s permission on the repository (asked once per login).
    pub async fn permission(&self, login: &str) -> Result<Permission, RemoteError> {
        if let Some(known) = Github::lock(&self.permissions).get(login) {
            return Ok(*known);
        }
        let subject = format!("the permission of {login} on {}", self.repository());
        let path = self.repo_path(&["collaborators", login, "permission"]);
        let permission = match self
            .client()
            .get::<PermissionObject>(&path, &[], &subject)
            .await
        {
            // The role names maintain and triage; a custom role's name
            // is not one of these, and its base `permission` counts.
            Ok(object) => object
                .role_name
                .as_deref()
                .and_then(Permission::parse)
                .or_else(|| Permission::parse(&object.permission))
                .ok_or_else(|| RemoteError::Unexpected {
                    method: "GET".to_owned(),
                    path: format!("/{}", path.join("/")),
                    message: format!("unknown permission `{}`", object.permission),
                })?,
            // GitHub knows no such user: they cannot write.
            Err(RemoteError::NotFound { .. }) => Permission::None,
            Err(error) => return Err(error),
        };
        Github::lock(&self.permissions).insert(login.to_owned(), permission);
        Ok(permission)
    }

    /// Who added the `ready` label most recently (the issue's `labeled`
    /// events), and whether they have write access.
    pub async fn ready_trust(&self, number: u64) -> Result<ReadyTrust, RemoteError> {
        let number_text = number.to_string();
        let events: Result<Vec<EventObject>, RemoteError> = self
            .client()
            .get_all(
                &self.repo_path(&["issues", &number_text, "events"]),
                &[],
                &self.issue_subject(number),
            )
            .await;
        let events = match events {
            Ok(events) => events,
            Err(error) => return Err(self.explain_not_found(error).await),
        };
        let adder = events
            .iter()
            .rev()
            .filter(|event| event.event == "labeled")
            .filter(|event| {
                event
                    .label
                    .as_ref()
                    .is_some_and(|label| label.name == Label::Ready.as_str())
            })
            .find_map(|event| event.actor.as_ref().map(|actor| actor.login.clone()));
        let Some(login) = adder else {
            return Ok(ReadyTrust::NeverAdded);
        };
        let permission = self.permission(&login).await?;
        Ok(if permission.can_write() {
            ReadyTrust::Trusted { login, permission }
        } else {
            ReadyTrust::Untrusted { login, permission }
        })
    }

    /// The issue's comments by users with write access, oldest first;
    /// everyone else's are left out.
    pub async fn trusted_comments(&self, number: u64) -> Result<Vec<TrustedComment>, RemoteError> {
        let number_text = number.to_string();
        let comments: Vec<CommentObject> = match self
            .client()
            .get_all(
                &self.repo_path(&["issues", &number_text, "comments"]),
                &[],
                &self.issue_subject(number),
            )
            .await
        {
            Ok(comments) => comments,
            Err(error) => return Err(self.explain_not_found(error).await),
        };
        let mut trusted = Vec::new();
        for comment in comments {
            let Some(author) = comment.user.map(|user| user.login) else {
                continue;
            };
            let permission = self.permission(&author).await?;
            if permission.can_write() {
                trusted.push(TrustedComment {
                    id: comment.id,
                    author,
                    permission,
                    body: comment.body.unwrap_or_default(),
                });
            }
        }
        Ok(trusted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_maintain_and_write_can_write_and_the_others_cannot() {
        let writers: Vec<&str> = ["admin", "maintain", "write", "triage", "read", "none"]
            .into_iter()
            .filter(|text| Permission::parse(text).expect("known").can_write())
            .collect();
        assert_eq!(writers, ["admin", "maintain", "write"]);
        assert_eq!(Permission::parse("owner"), None);
    }

    #[test]
    fn an_untrusted_ready_names_who_added_it() {
        let trust = ReadyTrust::Untrusted {
            login: "mallory".to_owned(),
            permission: Permission::Read,
        };
        let message = trust.to_string();
        assert!(message.contains("mallory"), "{message}");
        assert!(message.contains("read access"), "{message}");
        assert!(!trust.is_trusted());
    }
}
