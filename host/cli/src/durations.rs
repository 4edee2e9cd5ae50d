//! Durations as a person types them on a command line: `90s`, `15m`, `1h`,
//! `7d`, `1w`.

use chrono::Duration;

/// `text` as a duration: a whole number and one unit (s, m, h, d, w).
pub fn parse(text: &str) -> Option<Duration> {
    let unit_at = text.len().checked_sub(1)?;
    if !text.is_char_boundary(unit_at) {
        return None;
    }
    let (number, unit) = text.split_at(unit_at);
    let amount = number.parse::<i64>().ok().filter(|amount| *amount >= 0)?;
    match unit {
        "s" => Duration::try_seconds(amount),
        "m" => Duration::try_minutes(amount),
        "h" => Duration::try_hours(amount),
        "d" => Duration::try_days(amount),
        "w" => Duration::try_weeks(amount),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_and_a_unit() {
        assert_eq!(parse("90s"), Duration::try_seconds(90));
        assert_eq!(parse("45m"), Duration::try_minutes(45));
        assert_eq!(parse("2h"), Duration::try_hours(2));
        for text in ["", "h", "-1h", "1y", "1.5h", "ä", "9999999999999999d"] {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
