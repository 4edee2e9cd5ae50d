use proptest::prelude::*;

use super::*;
use crate::components::ComponentKind;

fn ids(requirements: &[Requirement]) -> Vec<String> {
    requirements.iter().map(|r| r.id.0.clone()).collect()
}

fn of_kind(requirements: &[Requirement], kind: RequirementKind) -> Vec<&Requirement> {
    requirements.iter().filter(|r| r.kind == kind).collect()
}

#[test]
fn every_task_list_bullet_is_a_checkbox_and_x_means_done() {
    let body = "- [ ] dash\n* [x] star\n+ [X] plus\n1. [ ] ordered\n2) [ ] paren\n";
    let checkboxes = checkbox_requirements(body);
    let texts: Vec<&str> = checkboxes.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, ["dash", "star", "plus", "ordered", "paren"]);
    let done: Vec<bool> = checkboxes.iter().map(|c| c.done).collect();
    assert_eq!(done, [false, true, true, false, false]);
    let lines: Vec<Option<usize>> = checkboxes.iter().map(|c| c.line).collect();
    assert_eq!(lines, [Some(1), Some(2), Some(3), Some(4), Some(5)]);
}

#[test]
fn lines_that_only_look_like_checkboxes_are_not_requirements() {
    let body =
        "- [ ]\n-[ ] no space\n- [y] other mark\n- [ ]glued\n[ ] no bullet\ntext - [ ] inside\n";
    assert!(checkbox_requirements(body).is_empty());
}

#[test]
fn nested_checkboxes_name_their_parent() {
    let body =
        "- [ ] parent\n  - [ ] child\n    - [x] grandchild\n  - [ ] second child\n- [ ] sibling\n";
    let checkboxes = checkbox_requirements(body);
    let parent_of = |index: usize| checkboxes[index].parent.clone();
    assert_eq!(parent_of(0), None);
    assert_eq!(parent_of(1), Some(checkboxes[0].id.clone()));
    assert_eq!(parent_of(2), Some(checkboxes[1].id.clone()));
    assert_eq!(parent_of(3), Some(checkboxes[0].id.clone()));
    assert_eq!(parent_of(4), None);
}

#[test]
fn checkboxes_and_components_in_fenced_code_are_ignored() {
    let body = "```markdown\n- [ ] not a requirement `src/no.rs`\n~~~\n```\n~~~\n- [ ] also not\n~~~\n- [ ] real\n";
    let requirements = extract(body);
    assert_eq!(of_kind(&requirements, RequirementKind::Checkbox).len(), 1);
    assert!(of_kind(&requirements, RequirementKind::Component).is_empty());
}

#[test]
fn a_checkbox_id_survives_ticking_moving_and_spacing_but_not_new_text() {
    let before = &checkbox_requirements("intro\n- [ ] Add  the parser\n")[0];
    let moved = &checkbox_requirements("- [ ] other\n\n- [x] add the parser\n")[1];
    let changed = &checkbox_requirements("- [ ] Add the printer\n")[0];
    assert_eq!(before.id, moved.id);
    assert_ne!(before.id, changed.id);
    assert!(before.id.0.starts_with("checkbox:"));
}

#[test]
fn repeated_checkbox_text_gets_distinct_ids() {
    let requirements = checkbox_requirements("- [ ] same\n- [ ] same\n- [ ] Same\n");
    let ids = ids(&requirements);
    assert_eq!(ids[1], format!("{}-2", ids[0]));
    assert_eq!(ids[2], format!("{}-3", ids[0]));
}

#[test]
fn named_components_are_requirements_done_with_their_checkboxes() {
    let body = "Touch `src/a.rs` and `Parser`.\n- [x] write `src/a.rs`\n- [ ] use `src/a.rs` and `src/b.rs`\n";
    let requirements = extract(body);
    let components = of_kind(&requirements, RequirementKind::Component);
    let names: Vec<&str> = components.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(names, ["src/a.rs", "Parser", "src/b.rs"]);
    assert_eq!(components[0].id.0, "component:src/a.rs");
    assert_eq!(components[0].components[0].kind, ComponentKind::Path);
    assert!(!components[0].done, "named by an unticked checkbox");
    assert!(
        !components[1].done,
        "named by no checkbox, and not all are ticked"
    );
    let ticked = extract(&body.replace("- [ ] use", "- [x] use"));
    assert!(
        of_kind(&ticked, RequirementKind::Component)
            .iter()
            .all(|c| c.done)
    );
}

#[test]
fn tests_are_implied_unless_a_checkbox_mentions_them() {
    let implied = extract("- [ ] add the parser\n");
    assert_eq!(of_kind(&implied, RequirementKind::Tests).len(), 1);
    assert_eq!(implied[1].id.0, "implicit:tests");
    let explicit = extract("- [ ] add the parser\n- [ ] Tests for the parser\n");
    assert!(of_kind(&explicit, RequirementKind::Tests).is_empty());
}

#[test]
fn docs_are_implied_when_the_issue_mentions_user_facing_behaviour() {
    let internal = extract("- [ ] speed up the fold\n");
    assert!(of_kind(&internal, RequirementKind::Documentation).is_empty());
    for body in [
        "- [ ] add a command that lists issues\n",
        "The user sees a table.\n- [ ] table\n",
        "- [ ] accept `ralph backlog --json`\n",
    ] {
        let requirements = extract(body);
        assert_eq!(
            of_kind(&requirements, RequirementKind::Documentation).len(),
            1,
            "{body}"
        );
    }
    let documented = extract("- [ ] add a command\n- [ ] document it in the README\n");
    assert!(of_kind(&documented, RequirementKind::Documentation).is_empty());
}

#[test]
fn implicit_requirements_are_done_when_every_checkbox_is() {
    let open = extract("- [x] one\n- [ ] two for users\n");
    assert!(open[2..].iter().all(|r| !r.done));
    let finished = extract("- [x] one\n- [x] two for users\n");
    assert!(finished.iter().all(|r| r.done));
    assert_eq!(remaining(&finished).count(), 0);
    let no_checkboxes = extract("Just prose.\n");
    assert!(no_checkboxes.iter().all(|r| !r.done));
}

#[test]
fn complexity_grows_with_length_components_and_heavy_verbs() {
    let estimate = |body: &str| checkbox_requirements(body)[0].complexity.value();
    assert_eq!(estimate("- [ ] fix a typo\n"), 1);
    assert_eq!(estimate("- [ ] refactor the fold\n"), 2);
    assert_eq!(estimate("- [ ] change `src/a.rs`\n"), 2);
    assert_eq!(estimate("- [ ] change `a.rs`, `b.rs` and `Parser`\n"), 3);
    let long = format!(
        "- [ ] implement {} in `a.rs`, `b.rs`, `c.rs`\n",
        "word ".repeat(40)
    );
    assert_eq!(estimate(&long), 5);
    let tests = |count: usize| {
        let body = "- [ ] item\n".repeat(count);
        of_kind(&extract(&body), RequirementKind::Tests)[0]
            .complexity
            .value()
    };
    assert_eq!(tests(1), 1);
    assert_eq!(tests(6), 3);
    assert_eq!(tests(60), 5);
}

#[test]
fn ticking_rewrites_only_the_mark_of_the_chosen_checkbox() {
    let body = "# Spec\n- [ ] one\n  * [ ] two\n- [x] three\n";
    let requirements = extract(body);
    let ticked = tick(body, &[requirements[1].id.clone()]).expect("tick");
    assert_eq!(ticked, "# Spec\n- [ ] one\n  * [x] two\n- [x] three\n");
    let again = tick(
        &ticked,
        &[requirements[1].id.clone(), requirements[2].id.clone()],
    );
    assert_eq!(again, Ok(ticked));
}

#[test]
fn ticking_an_unknown_id_or_a_non_checkbox_is_an_error() {
    let body = "- [ ] change `src/a.rs`\n";
    let unknown = RequirementId("checkbox:00000000".to_owned());
    assert_eq!(
        tick(body, std::slice::from_ref(&unknown)),
        Err(TickError::Unknown(unknown))
    );
    let component = RequirementId("component:src/a.rs".to_owned());
    assert_eq!(
        tick(body, std::slice::from_ref(&component)),
        Err(TickError::NotACheckbox(component))
    );
}

/// A body line: prose, a heading, a component mention or a checkbox.
fn line() -> impl Strategy<Value = String> {
    let text = "[a-z]{1,8}( [a-z]{1,8}){0,6}";
    prop_oneof![
        text.prop_map(|text| text.to_string()),
        text.prop_map(|text| format!("## {text}")),
        ("[a-z]{1,6}", "[a-z]{1,6}").prop_map(|(dir, file)| format!("see `{dir}/{file}.rs`")),
        (
            0..3usize,
            prop::sample::select(vec!["-", "*", "+", "1."]),
            any::<bool>(),
            text
        )
            .prop_map(|(depth, bullet, done, text)| {
                let mark = if done { "x" } else { " " };
                format!("{}{bullet} [{mark}] {text}", "  ".repeat(depth))
            }),
    ]
}

fn body() -> impl Strategy<Value = String> {
    prop::collection::vec(line(), 0..20)
        .prop_map(|lines| lines.iter().map(|line| format!("{line}\n")).collect())
}

proptest! {
    #[test]
    fn ticking_a_checkbox_changes_exactly_its_line(body in body(), choice in any::<prop::sample::Index>()) {
        let requirements = extract(&body);
        let unticked: Vec<&Requirement> = of_kind(&requirements, RequirementKind::Checkbox)
            .into_iter()
            .filter(|r| !r.done)
            .collect();
        prop_assume!(!unticked.is_empty());
        let chosen = unticked[choice.index(unticked.len())];
        let ticked = tick(&body, std::slice::from_ref(&chosen.id)).expect("tick");
        let before: Vec<&str> = body.lines().collect();
        let after: Vec<&str> = ticked.lines().collect();
        prop_assert_eq!(before.len(), after.len());
        for (index, (old, new)) in before.iter().zip(&after).enumerate() {
            if Some(index + 1) == chosen.line {
                prop_assert_eq!(old.replacen("[ ]", "[x]", 1), *new);
            } else {
                prop_assert_eq!(old, new);
            }
        }
    }

    #[test]
    fn extraction_is_stable_under_ticking(body in body()) {
        let requirements = extract(&body);
        let checkbox_ids: Vec<RequirementId> = of_kind(&requirements, RequirementKind::Checkbox)
            .iter()
            .map(|r| r.id.clone())
            .collect();
        let ticked = tick(&body, &checkbox_ids).expect("tick");
        let after = extract(&ticked);
        prop_assert_eq!(ids(&requirements), ids(&after));
        prop_assert!(after.iter().all(|r| r.done || checkbox_ids.is_empty()));
        prop_assert_eq!(extract(&ticked), after);
    }

    #[test]
    fn every_complexity_is_between_one_and_five(body in body()) {
        for requirement in extract(&body) {
            let value = requirement.complexity.value();
            prop_assert!((Complexity::MIN..=Complexity::MAX).contains(&value));
        }
    }
}
