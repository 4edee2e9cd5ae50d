//! The validator itself: real requests pass, wrong ones are caught.

use ralph_github_standin::RecordedRequest;
use ralph_github_standin::openapi::{self, Description, PINNED_VERSION};

fn description() -> &'static Description {
    openapi::description().unwrap_or_else(|problem| panic!("{problem}"))
}

fn request(method: &str, path: &str, query: Option<&str>, body: &str) -> RecordedRequest {
    let mut headers = vec![("authorization".to_owned(), "Bearer x".to_owned())];
    if !body.is_empty() {
        headers.push(("content-type".to_owned(), "application/json".to_owned()));
    }
    RecordedRequest {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.map(str::to_owned),
        headers,
        body: body.as_bytes().to_vec(),
        overlapped: false,
        received: std::time::Instant::now(),
    }
}

fn problems(request: &RecordedRequest) -> Vec<String> {
    description().problems(request)
}

#[test]
fn the_description_is_githubs_and_large() {
    assert!(
        description().operations() > 1000,
        "{}",
        description().operations()
    );
}

#[test]
fn requests_as_ralph_sends_them_are_valid() {
    for valid in [
        request(
            "GET",
            "/repos/o/r/issues",
            Some("state=open&per_page=100&page=2"),
            "",
        ),
        request(
            "POST",
            "/repos/o/r/issues",
            None,
            r#"{"title":"t","body":"b","labels":["ready"]}"#,
        ),
        request(
            "PATCH",
            "/repos/o/r/issues/5",
            None,
            r#"{"state":"closed"}"#,
        ),
        // `body` is `nullable` in the description: null must pass.
        request(
            "PATCH",
            "/repos/o/r/issues/5",
            None,
            r#"{"body":null,"milestone":null}"#,
        ),
        request("DELETE", "/repos/o/r/issues/5/labels/in-progress", None, ""),
        request("GET", "/repos/o/r/issues/comments", None, ""),
        request(
            "POST",
            "/repos/o/r/pulls/3/comments/77/replies",
            None,
            r#"{"body":"done"}"#,
        ),
        request(
            "GET",
            "/repos/o/r/collaborators/someone/permission",
            None,
            "",
        ),
    ] {
        assert_eq!(problems(&valid), Vec::<String>::new(), "{}", valid.line());
    }
}

#[test]
fn a_request_is_checked_against_the_most_literal_template() {
    let template = |method, path| {
        description()
            .template_of(&request(method, path, None, ""))
            .map(str::to_owned)
    };
    assert_eq!(
        template("GET", "/repos/o/r/issues/comments").as_deref(),
        Some("/repos/{owner}/{repo}/issues/comments")
    );
    assert_eq!(
        template("GET", "/repos/o/r/issues/12").as_deref(),
        Some("/repos/{owner}/{repo}/issues/{issue_number}")
    );
    assert_eq!(
        template("DELETE", "/repos/o/r/issues/12/labels/ready").as_deref(),
        Some("/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}")
    );
}

#[test]
fn an_unknown_route_is_caught() {
    let found = problems(&request("GET", "/repos/o/r/tickets", None, ""));
    assert!(found[0].contains("no operation"), "{found:?}");
    let wrong_method = problems(&request("PUT", "/repos/o/r/issues/5/comments", None, "{}"));
    assert!(wrong_method[0].contains("no operation"), "{wrong_method:?}");
}

#[test]
fn an_undeclared_or_invalid_query_parameter_is_caught() {
    let undeclared = problems(&request(
        "GET",
        "/repos/o/r/issues",
        Some("status=open"),
        "",
    ));
    assert!(
        undeclared
            .iter()
            .any(|p| p.contains("`status` is not declared")),
        "{undeclared:?}"
    );
    let not_a_state = problems(&request(
        "GET",
        "/repos/o/r/issues",
        Some("state=opened"),
        "",
    ));
    assert!(
        not_a_state.iter().any(|p| p.contains("`state`")),
        "{not_a_state:?}"
    );
    let not_a_number = problems(&request(
        "GET",
        "/repos/o/r/issues",
        Some("per_page=many"),
        "",
    ));
    assert!(
        not_a_number.iter().any(|p| p.contains("`per_page`")),
        "{not_a_number:?}"
    );
}

#[test]
fn a_path_parameter_of_the_wrong_type_is_caught() {
    let found = problems(&request("GET", "/repos/o/r/pulls/three/comments", None, ""));
    assert!(
        found.iter().any(|p| p.contains("`pull_number`")),
        "{found:?}"
    );
}

#[test]
fn a_body_against_the_schema_is_caught() {
    let no_name = problems(&request(
        "POST",
        "/repos/o/r/labels",
        None,
        r#"{"color":"ffffff"}"#,
    ));
    assert!(no_name.iter().any(|p| p.contains("name")), "{no_name:?}");
    let labels_not_a_list = problems(&request(
        "POST",
        "/repos/o/r/issues",
        None,
        r#"{"title":"t","labels":"ready"}"#,
    ));
    assert!(
        labels_not_a_list.iter().any(|p| p.contains("/labels")),
        "{labels_not_a_list:?}"
    );
    let bad_state = problems(&request(
        "PATCH",
        "/repos/o/r/issues/5",
        None,
        r#"{"state":"done"}"#,
    ));
    assert!(
        bad_state.iter().any(|p| p.contains("/state")),
        "{bad_state:?}"
    );
    let no_body = problems(&request("POST", "/repos/o/r/issues/5/comments", None, ""));
    assert!(
        no_body.iter().any(|p| p.contains("required")),
        "{no_body:?}"
    );
    let body_on_a_get = problems(&request("GET", "/repos/o/r/issues", None, "{}"));
    assert!(
        body_on_a_get
            .iter()
            .any(|p| p.contains("takes no request body")),
        "{body_on_a_get:?}"
    );
}

#[test]
fn a_missing_description_says_how_to_get_it() {
    let error = Description::load(std::path::Path::new("/nonexistent/api.github.com.json"))
        .expect_err("no file");
    assert!(error.contains("scripts/github-openapi"), "{error}");
    assert!(PINNED_VERSION.split('.').count() == 3);
}

#[test]
fn the_stand_in_records_what_the_client_sent_and_it_maps_to_the_intended_operations() {
    use ralph_github_standin::{SeedIssue, StandIn};
    use ralph_issues::{IssueSource, Label, LabelChange};

    let standin = StandIn::start();
    let number = standin.seed_issue(&SeedIssue {
        title: "Mapped",
        labels: &["ready"],
        ..SeedIssue::default()
    });
    let source = crate::support::issues(&standin);
    source
        .set_labels(
            number,
            &LabelChange::add([Label::InProgress]).removing([Label::Ready]),
        )
        .expect("labels");
    let templates: Vec<String> = standin
        .requests()
        .iter()
        .map(|request| {
            format!(
                "{} {}",
                request.method,
                description().template_of(request).unwrap_or("none")
            )
        })
        .collect();
    assert_eq!(
        templates,
        [
            "GET /repos/{owner}/{repo}/issues/{issue_number}",
            "POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
            "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
            "GET /repos/{owner}/{repo}/issues/{issue_number}",
        ]
    );
    crate::support::assert_valid_requests(&standin);
}
