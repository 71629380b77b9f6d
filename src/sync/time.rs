//! Time arithmetic on Stash's timestamps, kept as text: Stash compares `updated_at` as text, so
//! a shifted time must keep the exact form (offset, fraction) Stash wrote.

/// The same timestamp one second earlier, in the same text form (Stash compares as text).
/// Anything that does not look like RFC3339 is returned unchanged.
pub fn one_second_before(timestamp: &str) -> String {
    let shifted = (|| {
        let head = timestamp.get(..19)?;
        let b = head.as_bytes();
        if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| head.get(r)?.parse::<i64>().ok();
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let seconds = num(11..13)? * 3600 + num(14..16)? * 60 + num(17..19)? - 1;
        let days = days_from_civil(year, month, day) + seconds.div_euclid(86_400);
        let seconds = seconds.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        Some(format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{}",
            seconds / 3600,
            seconds % 3600 / 60,
            seconds % 60,
            &timestamp[19..]
        ))
    })();
    shifted.unwrap_or_else(|| timestamp.to_owned())
}

// Howard Hinnant's civil calendar algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::one_second_before;

    #[test]
    fn a_second_earlier_keeps_stash_text_form() {
        assert_eq!(one_second_before("2026-03-01T00:00:00+01:00"), "2026-02-28T23:59:59+01:00");
        assert_eq!(one_second_before("2024-03-01T00:00:00Z"), "2024-02-29T23:59:59Z");
        assert_eq!(one_second_before("2026-01-01T00:00:00.250-05:00"), "2025-12-31T23:59:59.250-05:00");
        assert_eq!(one_second_before("2026-07-04T12:30:45+00:00"), "2026-07-04T12:30:44+00:00");
        assert_eq!(one_second_before("not a time"), "not a time");
    }
}
