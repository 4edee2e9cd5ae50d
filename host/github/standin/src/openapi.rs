//! Checks recorded requests against GitHub's official OpenAPI description
//! (`generated/api.github.com.json` of the npm package `@octokit/openapi`,
//! version [`PINNED_VERSION`]; `scripts/github-openapi` downloads it).
//!
//! For each request: an operation exists for its method and path
//! template (the template with the most literal segments wins, as
//! `/issues/comments` over `/issues/{issue_number}`); each path parameter
//! has a value valid for its schema; each query parameter is declared by
//! the operation (or its path) and its value is valid; required query
//! parameters are present; a JSON body is sent only where the operation
//! takes one, is present where it is required, and validates against its
//! `requestBody` schema (converted as [`crate::schema`] describes).

use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::record::RecordedRequest;
use crate::schema::{resolve, to_json_schema};

/// Where the tests find the description.
pub const ENVIRONMENT_VARIABLE: &str = "RALPH_GITHUB_OPENAPI";
/// The `@octokit/openapi` version the tests are checked against.
pub const PINNED_VERSION: &str = "23.0.2";

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];

/// A request the description does not allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// `METHOD /path?query`.
    pub request: String,
    pub problem: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}", self.request, self.problem)
    }
}

/// One operation: a method on a path template.
#[derive(Debug)]
struct Operation {
    method: String,
    template: String,
    segments: Vec<Option<String>>,
    /// The path item's parameters, then the operation's, `$ref`s resolved.
    parameters: Vec<Value>,
    request_body: Option<Value>,
}

/// A loaded description.
#[derive(Debug)]
pub struct Description {
    document: Value,
    operations: Vec<Operation>,
}

/// The description named by [`ENVIRONMENT_VARIABLE`], loaded once.
pub fn description() -> Result<&'static Description, String> {
    static LOADED: OnceLock<Result<Description, String>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let Some(path) = std::env::var_os(ENVIRONMENT_VARIABLE) else {
                return Err(format!(
                    "{ENVIRONMENT_VARIABLE} is not set: the tests check every request against GitHub's OpenAPI description; get it with `scripts/github-openapi` (it downloads @octokit/openapi@{PINNED_VERSION} with npm and prints the path) and run `{ENVIRONMENT_VARIABLE}=$(scripts/github-openapi) cargo test -p ralph-github`"
                ));
            };
            Description::load(Path::new(&path))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Checks `requests` against the description of [`description`]; a
/// missing description is a violation too.
pub fn validate(requests: &[RecordedRequest]) -> Result<(), Vec<Violation>> {
    match description() {
        Ok(description) => description.validate(requests),
        Err(problem) => Err(vec![Violation {
            request: "every request".to_owned(),
            problem,
        }]),
    }
}

impl Description {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read(path).map_err(|error| {
            format!(
                "{}: {error} ({ENVIRONMENT_VARIABLE} must name api.github.com.json from @octokit/openapi; `scripts/github-openapi` gets it)",
                path.display()
            )
        })?;
        let document: Value = serde_json::from_slice(&text)
            .map_err(|error| format!("{}: not JSON: {error}", path.display()))?;
        Description::from_document(document)
            .map_err(|problem| format!("{}: {problem}", path.display()))
    }

    pub fn from_document(document: Value) -> Result<Self, String> {
        let Some(paths) = document.get("paths").and_then(Value::as_object) else {
            return Err("no `paths`: not an OpenAPI description".to_owned());
        };
        let mut operations = Vec::new();
        for (template, item) in paths {
            let shared = parameters(item.get("parameters"), &document);
            for method in METHODS {
                let Some(operation) = item.get(*method) else {
                    continue;
                };
                let mut all = shared.clone();
                all.extend(parameters(operation.get("parameters"), &document));
                let request_body = operation
                    .get("requestBody")
                    .map(|body| follow(body, &document));
                operations.push(Operation {
                    method: method.to_ascii_uppercase(),
                    template: template.clone(),
                    segments: template_segments(template),
                    parameters: all,
                    request_body,
                });
            }
        }
        Ok(Description {
            document,
            operations,
        })
    }

    /// How many operations the description has.
    pub fn operations(&self) -> usize {
        self.operations.len()
    }

    pub fn validate(&self, requests: &[RecordedRequest]) -> Result<(), Vec<Violation>> {
        let violations: Vec<Violation> = requests
            .iter()
            .flat_map(|request| {
                self.problems(request).into_iter().map(|problem| Violation {
                    request: request.line(),
                    problem,
                })
            })
            .collect();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }

    /// The path template of the operation `request` is checked against
    /// (e.g. `/repos/{owner}/{repo}/issues/{issue_number}`).
    pub fn template_of(&self, request: &RecordedRequest) -> Option<&str> {
        self.operation_for(&request.method, &request.segments())
            .map(|(operation, _)| operation.template.as_str())
    }

    /// What is wrong with one request.
    pub fn problems(&self, request: &RecordedRequest) -> Vec<String> {
        let segments = request.segments();
        let Some((operation, bound)) = self.operation_for(&request.method, &segments) else {
            return vec![format!(
                "no operation in GitHub's OpenAPI description for {} {}",
                request.method, request.path
            )];
        };
        let mut problems = Vec::new();
        for (name, value) in &bound {
            match declared(operation, "path", name) {
                Some(parameter) => problems.extend(self.check_value(parameter, name, value)),
                None => problems.push(format!(
                    "{}: path parameter `{name}` is not declared",
                    operation.template
                )),
            }
        }
        problems.extend(self.check_query(operation, request));
        problems.extend(self.check_body(operation, request));
        problems
    }

    fn operation_for(
        &self,
        method: &str,
        segments: &[String],
    ) -> Option<(&Operation, Vec<(String, String)>)> {
        self.operations
            .iter()
            .filter(|operation| operation.method == method)
            .filter_map(|operation| bind(operation, segments).map(|bound| (operation, bound)))
            .max_by_key(|(operation, _)| {
                operation
                    .segments
                    .iter()
                    .filter(|segment| segment.is_some())
                    .count()
            })
    }

    fn check_query(&self, operation: &Operation, request: &RecordedRequest) -> Vec<String> {
        let pairs = request.query_pairs();
        let mut problems = Vec::new();
        for (name, value) in &pairs {
            match declared(operation, "query", name) {
                Some(parameter) => problems.extend(self.check_value(parameter, name, value)),
                None => problems.push(format!(
                    "query parameter `{name}` is not declared by {} {}",
                    operation.method, operation.template
                )),
            }
        }
        for parameter in &operation.parameters {
            let required = parameter.get("required").and_then(Value::as_bool) == Some(true);
            let name = parameter
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if required
                && parameter.get("in").and_then(Value::as_str) == Some("query")
                && !pairs.iter().any(|(given, _)| given == name)
            {
                problems.push(format!("required query parameter `{name}` is missing"));
            }
        }
        problems
    }

    fn check_value(&self, parameter: &Value, name: &str, value: &str) -> Vec<String> {
        let Some(schema) = parameter.get("schema") else {
            return Vec::new();
        };
        let schema = to_json_schema(schema, &self.document);
        let instance = typed(value, &schema);
        schema_problems(&schema, &instance)
            .into_iter()
            .map(|problem| format!("parameter `{name}` = `{value}`: {problem}"))
            .collect()
    }

    fn check_body(&self, operation: &Operation, request: &RecordedRequest) -> Vec<String> {
        let sent = !request.body.is_empty();
        let Some(body) = &operation.request_body else {
            return if sent {
                vec![format!(
                    "{} {} takes no request body, but one was sent",
                    operation.method, operation.template
                )]
            } else {
                Vec::new()
            };
        };
        if !sent {
            let required = body.get("required").and_then(Value::as_bool) == Some(true);
            return if required {
                vec!["the request body is required but none was sent".to_owned()]
            } else {
                Vec::new()
            };
        }
        let content_type = request.header("content-type").unwrap_or_default();
        if !content_type.starts_with("application/json") {
            return vec![format!(
                "the body is sent as `{content_type}`, not application/json"
            )];
        }
        let Some(schema) = body.pointer("/content/application~1json/schema") else {
            return vec!["the operation takes no JSON body".to_owned()];
        };
        let Ok(instance) = serde_json::from_slice::<Value>(&request.body) else {
            return vec!["the body is not JSON".to_owned()];
        };
        let schema = to_json_schema(schema, &self.document);
        schema_problems(&schema, &instance)
            .into_iter()
            .map(|problem| format!("body: {problem}"))
            .collect()
    }
}

/// `{name}` segments become `None`, literal ones `Some`.
fn template_segments(template: &str) -> Vec<Option<String>> {
    template
        .trim_start_matches('/')
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                None
            } else {
                Some(segment.to_owned())
            }
        })
        .collect()
}

/// The path parameters `segments` bind in `operation`'s template, when it
/// matches.
fn bind(operation: &Operation, segments: &[String]) -> Option<Vec<(String, String)>> {
    if operation.segments.len() != segments.len() {
        return None;
    }
    let names = operation
        .template
        .trim_start_matches('/')
        .split('/')
        .map(|segment| segment.trim_start_matches('{').trim_end_matches('}'));
    let mut bound = Vec::new();
    for ((expected, given), name) in operation.segments.iter().zip(segments).zip(names) {
        match expected {
            Some(literal) if literal != given => return None,
            Some(_) => {}
            None if given.is_empty() => return None,
            None => bound.push((name.to_owned(), given.clone())),
        }
    }
    Some(bound)
}

fn declared<'a>(operation: &'a Operation, place: &str, name: &str) -> Option<&'a Value> {
    operation.parameters.iter().find(|parameter| {
        parameter.get("in").and_then(Value::as_str) == Some(place)
            && parameter.get("name").and_then(Value::as_str) == Some(name)
    })
}

fn parameters(list: Option<&Value>, document: &Value) -> Vec<Value> {
    list.and_then(Value::as_array)
        .map(|items| items.iter().map(|item| follow(item, document)).collect())
        .unwrap_or_default()
}

/// `value`, or what its `$ref` points at.
fn follow(value: &Value, document: &Value) -> Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => resolve(reference, document).cloned().unwrap_or(Value::Null),
        None => value.clone(),
    }
}

/// A parameter's text as the JSON value its schema's type asks for
/// (text that does not parse stays text, and fails the schema).
fn typed(value: &str, schema: &Value) -> Value {
    let kind = schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("string");
    let parsed = match kind {
        "integer" => value.parse::<i64>().ok().map(Value::from),
        "number" => value.parse::<f64>().ok().map(Value::from),
        "boolean" => value.parse::<bool>().ok().map(Value::from),
        "array" => Some(json!(value.split(',').collect::<Vec<_>>())),
        _ => None,
    };
    parsed.unwrap_or_else(|| Value::String(value.to_owned()))
}

fn schema_problems(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = match jsonschema::draft4::new(schema) {
        Ok(validator) => validator,
        Err(error) => return vec![format!("the description's schema does not build: {error}")],
    };
    validator
        .iter_errors(instance)
        .map(|error| {
            let at = error.instance_path().to_string();
            if at.is_empty() {
                error.to_string()
            } else {
                format!("at {at}: {error}")
            }
        })
        .collect()
}
