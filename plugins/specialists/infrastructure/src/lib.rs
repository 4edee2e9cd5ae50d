//! Answers whether ECS services are healthy and what their logs say, and
//! reviews proposals that touch deploy or infrastructure files against the
//! services' health.
//!
//! Which cluster, services and log group to read comes from `key=value`
//! settings: `cluster=prod services=api,worker log-group=/ecs/api`
//! (optionally `log-prefix=api/`), written in the question or in
//! `.ralph/integrations/infrastructure.conf`; the question's settings win.
//! Reviews use the file's settings only.

use ralph_plugin_sdk::aws::{self, EcsService};
use ralph_plugin_sdk::settings::Settings;
use ralph_plugin_sdk::{
    Capability, Finding, IntegrationError, PluginError, Proposal, Severity, Specialist,
    changed_paths, finding, host,
};

struct Infrastructure;

/// Where the repository's settings for this specialist live.
const SETTINGS_FILE: &str = ".ralph/integrations/infrastructure.conf";
/// Events of a service quoted in an answer.
const EVENTS_SHOWN: usize = 3;
/// Log events read from the newest stream.
const LOG_EVENTS_READ: u32 = 200;
/// Error-looking log lines quoted in an answer.
const LOG_LINES_SHOWN: usize = 5;
/// Words that make a log line look like an error, lower-case.
const ERROR_WORDS: &[&str] = &[
    "error",
    "exception",
    "panic",
    "fatal",
    "traceback",
    "critical",
];
/// Path parts that mark deploy or infrastructure files.
const INFRASTRUCTURE_MARKERS: &[&str] = &[
    "dockerfile",
    "docker-compose",
    ".tf",
    "terraform/",
    "infra/",
    "infrastructure/",
    "deploy",
    ".github/workflows/",
    "k8s/",
    "helm/",
    "task-definition",
    "taskdef",
    "cdk/",
    "serverless.yml",
];

const HOW_TO_ASK: &str = "Tell me what to look at with settings in the question, for example \
    `cluster=prod services=api,worker log-group=/ecs/api`, or put them in \
    .ralph/integrations/infrastructure.conf.";

fn file_settings() -> Settings {
    host::read_file(SETTINGS_FILE)
        .map(|text| Settings::parse(&text))
        .unwrap_or_default()
}

fn unavailable(what: &str, error: &IntegrationError) -> String {
    format!(
        "I could not read {what} ({}): {}",
        error.kind(),
        error.message()
    )
}

/// `healthy`, `degraded` or `down`, from the task counts.
fn health(service: &EcsService) -> &'static str {
    if service.status != "ACTIVE" || (service.running_count == 0 && service.desired_count > 0) {
        "down"
    } else if service.running_count < service.desired_count {
        "degraded"
    } else {
        "healthy"
    }
}

fn describe(service: &EcsService) -> String {
    let mut line = format!(
        "{} is {}: {}/{} tasks running, {} pending ({})",
        service.name,
        health(service),
        service.running_count,
        service.desired_count,
        service.pending_count,
        service.status
    );
    for event in service.recent_events.iter().take(EVENTS_SHOWN) {
        line.push_str(&format!("\n  event: {event}"));
    }
    line
}

fn services_answer(cluster: &str, names: &[&str]) -> String {
    match aws::describe_services(cluster, names) {
        Err(error) => unavailable(&format!("the services of cluster {cluster}"), &error),
        Ok(found) => {
            let mut lines: Vec<String> = found.services.iter().map(describe).collect();
            lines.extend(
                found
                    .failures
                    .iter()
                    .map(|failure| format!("not found: {failure}")),
            );
            if lines.is_empty() {
                lines.push(format!(
                    "Cluster {cluster} reported none of those services."
                ));
            }
            lines.join("\n")
        }
    }
}

fn looks_like_an_error(message: &str) -> bool {
    let lower = message.to_lowercase();
    ERROR_WORDS.iter().any(|word| lower.contains(word))
}

fn logs_answer(log_group: &str, prefix: Option<&str>) -> String {
    let streams = match aws::log_streams(log_group, prefix, 1) {
        Err(error) => return unavailable(&format!("log group {log_group}"), &error),
        Ok(streams) => streams,
    };
    let Some(stream) = streams.first() else {
        return format!("Log group {log_group} has no streams.");
    };
    match aws::log_events(log_group, &stream.name, None, LOG_EVENTS_READ) {
        Err(error) => unavailable(&format!("log stream {}", stream.name), &error),
        Ok(events) => {
            let errors: Vec<&str> = events
                .iter()
                .map(|event| event.message.trim())
                .filter(|message| looks_like_an_error(message))
                .collect();
            if errors.is_empty() {
                return format!(
                    "No error-looking lines in the last {} events of {}.",
                    events.len(),
                    stream.name
                );
            }
            let shown = &errors[errors.len().saturating_sub(LOG_LINES_SHOWN)..];
            let mut answer = format!(
                "{} error-looking line(s) in the last {} events of {}; the latest:",
                errors.len(),
                events.len(),
                stream.name
            );
            for line in shown {
                answer.push_str(&format!("\n  {line}"));
            }
            answer
        }
    }
}

/// Whether `path` is a deploy or infrastructure file: it contains one of
/// [`INFRASTRUCTURE_MARKERS`] or has the word `ecs` (`deploy/ecs/api.json`,
/// `ecs_service.tf`, not `specs.rs`).
fn touches_infrastructure(path: &str) -> bool {
    let lower = path.to_lowercase();
    INFRASTRUCTURE_MARKERS
        .iter()
        .any(|marker| lower.contains(marker))
        || lower
            .split(|character: char| !character.is_ascii_alphanumeric())
            .any(|word| word == "ecs")
}

impl Specialist for Infrastructure {
    fn capabilities() -> &'static [Capability] {
        &[Capability::Aws, Capability::Repository]
    }

    fn ask(question: String) -> Result<String, PluginError> {
        let settings = file_settings().overridden_by(Settings::parse(&question));
        let services = settings.list("services");
        let mut parts = Vec::new();
        match (settings.get("cluster"), services.is_empty()) {
            (Some(cluster), false) => parts.push(services_answer(cluster, &services)),
            (Some(_), true) => parts.push("Name the services too: services=api,worker.".into()),
            (None, false) => parts.push("Name the cluster too: cluster=prod.".into()),
            (None, true) => {}
        }
        if let Some(log_group) = settings.get("log-group") {
            parts.push(logs_answer(log_group, settings.get("log-prefix")));
        }
        if parts.is_empty() {
            parts.push(HOW_TO_ASK.to_owned());
        }
        Ok(parts.join("\n"))
    }

    fn review(proposal: Proposal) -> Result<Vec<Finding>, PluginError> {
        let files = changed_paths(&proposal, touches_infrastructure);
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let settings = file_settings();
        let services = settings.list("services");
        let Some(cluster) = settings.get("cluster").filter(|_| !services.is_empty()) else {
            return Ok(vec![finding(
                Severity::Info,
                None,
                format!(
                    "Touches deploy files ({}); set cluster= and services= in {SETTINGS_FILE} \
                     to check service health first.",
                    files.join(", ")
                ),
            )]);
        };
        let found = match aws::describe_services(cluster, &services) {
            Ok(found) => found,
            Err(error) => {
                return Ok(vec![finding(
                    Severity::Info,
                    None,
                    format!(
                        "Touches deploy files; {}.",
                        unavailable("service health", &error)
                    ),
                )]);
            }
        };
        let unhealthy: Vec<String> = found
            .services
            .iter()
            .filter(|service| health(service) != "healthy")
            .map(|service| {
                format!(
                    "{} is {} ({}/{} running)",
                    service.name,
                    health(service),
                    service.running_count,
                    service.desired_count
                )
            })
            .collect();
        if unhealthy.is_empty() {
            return Ok(vec![finding(
                Severity::Info,
                None,
                format!(
                    "Touches deploy files; every service of {cluster} is healthy ({}).",
                    services.join(", ")
                ),
            )]);
        }
        Ok(files
            .into_iter()
            .map(|file| {
                finding(
                    Severity::Warning,
                    Some(file),
                    format!(
                        "Changes deployment while {}; fix or wait for the service first.",
                        unhealthy.join(", ")
                    ),
                )
            })
            .collect())
    }
}

ralph_plugin_sdk::export_specialist!(Infrastructure);
