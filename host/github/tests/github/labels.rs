//! Setup creates Ralph's missing labels and never changes existing ones.

use ralph_github_standin::StandIn;
use ralph_issues::Label;

use crate::support::{assert_valid_requests, issues};

#[test]
fn only_missing_labels_are_created_and_existing_ones_stay_as_they_are() {
    let standin = StandIn::start();
    standin.seed_label("ready", "000000", "Our own ready");
    standin.seed_label("bug", "ff0000", "Something is broken");
    let source = issues(&standin);
    let created = source.ensure_labels().expect("labels");
    assert_eq!(
        created,
        [
            Label::InRefinement,
            Label::InProgress,
            Label::AttentionNeeded,
            Label::BacklogReview,
            Label::Ralph
        ]
    );
    let labels = standin.with_state(|state| state.labels.clone());
    let ready = labels
        .iter()
        .find(|label| label.name == "ready")
        .expect("ready");
    assert_eq!(ready.color, "000000");
    assert_eq!(ready.description.as_deref(), Some("Our own ready"));
    let ralph = labels
        .iter()
        .find(|label| label.name == "ralph")
        .expect("ralph");
    assert_eq!(ralph.color.len(), 6);
    assert!(ralph.description.is_some());
    assert_eq!(labels.len(), 7);
    assert!(
        source.ensure_labels().expect("again").is_empty(),
        "nothing to create twice"
    );
    let changes: Vec<String> = standin
        .requests()
        .iter()
        .filter(|request| request.is_mutation())
        .map(|request| request.method.clone())
        .collect();
    assert_eq!(changes, ["POST"; 5], "only creations, no PATCH or DELETE");
    assert_valid_requests(&standin);
}
