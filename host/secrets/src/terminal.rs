//! Text for a terminal: what a plugin, a check or a model wrote is
//! untrusted, and a terminal obeys control characters. [`clean`] removes
//! them, so no text Ralph prints can clear the screen, move the cursor,
//! overwrite a line, set the window title or reorder what is shown.

/// `text` without control characters: C0 controls except line feed and
/// tab (so a carriage return, a backspace or a bell), DEL, C1 controls,
/// escape sequences whole (CSI such as `ESC [ 2 J`; OSC such as
/// `ESC ] 0 ; title BEL`; DCS, SOS, PM and APC strings up to their
/// terminator; two-character escapes such as `ESC c`), and the
/// bidirectional embeddings, overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069).
pub fn clean(text: &str) -> String {
    clean_with(text, false)
}

/// [`clean`], keeping colour sequences (`ESC [ … m`): for Ralph's own
/// coloured log lines, whose untrusted fields the log formatter already
/// escapes.
pub fn clean_keeping_colours(text: &str) -> String {
    clean_with(text, true)
}

/// Whether `text` holds anything [`clean`] removes.
pub fn is_clean(text: &str) -> bool {
    !text
        .chars()
        .any(|character| removed(character) || character == ESCAPE)
}

const ESCAPE: char = '\u{1b}';
const BELL: char = '\u{7}';
/// The C1 forms of the sequence introducers and the string terminator.
const C1_CSI: char = '\u{9b}';
const C1_STRING_TERMINATOR: char = '\u{9c}';
const C1_STRINGS: [char; 4] = ['\u{90}', '\u{98}', '\u{9d}', '\u{9e}'];

/// A character removed wherever it is (escape sequences aside).
fn removed(character: char) -> bool {
    match character {
        '\n' | '\t' => false,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

fn clean_with(text: &str, keep_colours: bool) -> String {
    if is_clean(text) {
        return text.to_owned();
    }
    let mut cleaned = String::with_capacity(text.len());
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            ESCAPE => match characters.next() {
                Some('[') => {
                    let sequence = control_sequence(&mut characters);
                    if keep_colours && is_colour(&sequence) {
                        cleaned.push(ESCAPE);
                        cleaned.push('[');
                        cleaned.push_str(&sequence);
                    }
                }
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut characters),
                // `ESC c`, `ESC 7`, `ESC (B`…: the escape and the next
                // character go; an intermediate's final goes as well.
                Some(' '..='/') => {
                    characters.next();
                }
                _ => {}
            },
            C1_CSI => {
                control_sequence(&mut characters);
            }
            _ if C1_STRINGS.contains(&character) => skip_string(&mut characters),
            _ if removed(character) => {}
            _ => cleaned.push(character),
        }
    }
    cleaned
}

/// The rest of a control sequence after its introducer: parameter bytes,
/// intermediate bytes and the final byte, which is returned last. Stops
/// early at anything that cannot be part of one (which is kept).
fn control_sequence(characters: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let mut sequence = String::new();
    while let Some(&character) = characters.peek() {
        match character {
            '\u{30}'..='\u{3f}' | '\u{20}'..='\u{2f}' => {
                sequence.push(character);
                characters.next();
            }
            '\u{40}'..='\u{7e}' => {
                sequence.push(character);
                characters.next();
                break;
            }
            _ => break,
        }
    }
    sequence
}

/// Whether a control sequence (after `ESC [`) only sets colours.
fn is_colour(sequence: &str) -> bool {
    sequence
        .strip_suffix('m')
        .is_some_and(|parameters| parameters.chars().all(|c| c.is_ascii_digit() || c == ';'))
}

/// Skips an OSC, DCS, SOS, PM or APC string up to its terminator (BEL,
/// `ESC \` or the C1 string terminator), or to the end of the text.
fn skip_string(characters: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(character) = characters.next() {
        match character {
            BELL | C1_STRING_TERMINATOR => return,
            ESCAPE => {
                if characters.peek() == Some(&'\\') {
                    characters.next();
                }
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screen_clearing_and_cursor_movement_are_removed() {
        assert_eq!(clean("a\u{1b}[2Jb\u{1b}[1;1Hc\u{1b}[?25ld"), "abcd");
    }

    #[test]
    fn window_titles_and_other_strings_are_removed() {
        assert_eq!(clean("a\u{1b}]0;owned\u{7}b"), "ab");
        assert_eq!(
            clean("a\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\b"),
            "alinkb"
        );
        assert_eq!(clean("a\u{1b}Pdevice\u{1b}\\b\u{9d}title\u{9c}c"), "abc");
        assert_eq!(clean("a\u{1b}]0;never ends"), "a");
    }

    #[test]
    fn carriage_returns_and_other_c0_controls_are_removed_but_lines_and_tabs_stay() {
        assert_eq!(
            clean("ok\r\u{8}\u{7}fake line\u{0}\n\tnext\u{7f}"),
            "okfake line\n\tnext"
        );
    }

    #[test]
    fn c1_controls_are_removed() {
        assert_eq!(clean("a\u{9b}2Jb\u{85}c\u{9f}"), "abc");
    }

    #[test]
    fn two_character_escapes_are_removed() {
        assert_eq!(clean("a\u{1b}cb\u{1b}(Bc\u{1b}7d"), "abcd");
    }

    #[test]
    fn bidirectional_overrides_are_removed() {
        assert_eq!(
            clean("file\u{202e}txt.exe\u{2066}x\u{2069}\u{202a}"),
            "filetxt.exex"
        );
    }

    #[test]
    fn ordinary_text_is_untouched() {
        let text = "Proposal A — «change» 100%\n\tdone ✓";
        assert_eq!(clean(text), text);
        assert!(is_clean(text));
    }

    #[test]
    fn colours_are_kept_only_when_asked_for() {
        let text = "\u{1b}[2m2026\u{1b}[0m \u{1b}[32mINFO\u{1b}[0m \u{1b}[2J";
        assert_eq!(
            clean_keeping_colours(text),
            "\u{1b}[2m2026\u{1b}[0m \u{1b}[32mINFO\u{1b}[0m "
        );
        assert_eq!(clean(text), "2026 INFO ");
    }

    proptest::proptest! {
        #[test]
        fn cleaned_text_holds_no_control_character(text in "\\PC{0,20}|[\\x00-\\x1f\\x7f-\\u{9f}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}a-z\\[\\];]{0,60}") {
            let cleaned = clean(&text);
            proptest::prop_assert!(is_clean(&cleaned), "{cleaned:?}");
            proptest::prop_assert_eq!(clean(&cleaned), cleaned.clone());
        }
    }
}
