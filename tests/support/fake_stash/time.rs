//! The fake Stash: time.

/// Formats a Unix time as Stash does: RFC3339, second precision, WITH an offset
/// (`2026-01-02T03:04:05+00:00`).
pub fn rfc3339(unix: i64, offset_minutes: i32) -> String {
    let local = unix + i64::from(offset_minutes) * 60;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        off / 60,
        off % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub(super) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The library's clock: every write stamps `updated_at` with the next second, so timestamps
/// are deterministic and strictly increasing unless a test sets them by hand.
#[derive(Clone, Debug)]
pub struct Clock {
    /// Current Unix time, in seconds.
    pub unix: i64,
    /// The offset Stash prints timestamps with, in minutes.
    pub offset_minutes: i32,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            unix: 1_767_225_600, // 2026-01-01T00:00:00Z
            offset_minutes: 0,
        }
    }
}

impl Clock {
    /// The current time as Stash prints it.
    pub fn now(&self) -> String {
        rfc3339(self.unix, self.offset_minutes)
    }

    /// Advances one second and returns the new time.
    pub fn tick(&mut self) -> String {
        self.unix += 1;
        self.now()
    }
}
