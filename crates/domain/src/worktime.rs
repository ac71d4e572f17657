//! Agent work time: up to four segments on workdays and four on non-workdays, each
//! within 00:00–24:00. Which calendar days are non-working comes from the tenant.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, NaiveDate, Timelike};
use chrono_tz::Tz;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use crate::validation::{fail, Checked, Rule, ValidationError};

pub const MAX_SEGMENTS: usize = 4;

/// A time of day in minutes after midnight; 24:00 (1440) is allowed as an end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "08:30"))]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(24 * 60);

    pub fn minutes(self) -> u16 {
        self.0
    }

    pub fn parse(text: &str) -> Option<Self> {
        let (h, m) = text.split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let hours: u16 = h.parse().ok()?;
        let minutes: u16 = m.parse().ok()?;
        let total = hours * 60 + minutes;
        (minutes < 60 && total <= 24 * 60).then_some(Self(total))
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        TimeOfDay::parse(&text)
            .ok_or_else(|| de::Error::custom("expected a time HH:MM between 00:00 and 24:00"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Segment {
    pub start: TimeOfDay,
    pub end: TimeOfDay,
}

impl Segment {
    pub fn contains(&self, at: TimeOfDay) -> bool {
        self.start <= at && at < self.end
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkTime {
    pub workday: Vec<Segment>,
    pub non_workday: Vec<Segment>,
}

impl Default for WorkTime {
    /// Around the clock on every day: a channel with no work time set is always open.
    fn default() -> Self {
        let all_day = Segment {
            start: TimeOfDay::MIDNIGHT,
            end: TimeOfDay::END_OF_DAY,
        };
        Self {
            workday: vec![all_day],
            non_workday: vec![all_day],
        }
    }
}

impl WorkTime {
    pub fn validate(&self) -> Checked {
        check_segments(&self.workday).map_err(|e| e.within("workday"))?;
        check_segments(&self.non_workday).map_err(|e| e.within("nonWorkday"))
    }

    pub fn is_open(&self, non_working_day: bool, at: TimeOfDay) -> bool {
        let segments = if non_working_day {
            &self.non_workday
        } else {
            &self.workday
        };
        segments.iter().any(|s| s.contains(at))
    }

    /// Whether agents work at an instant (milliseconds since the Unix epoch), read as a
    /// wall-clock time in the calendar's time zone.
    pub fn is_open_at(&self, calendar: &Calendar, at_millis: i64) -> bool {
        let (day, time) = calendar.local(at_millis);
        self.is_open(calendar.non_working_days.contains(&day), time)
    }
}

/// A tenant's service-time calendar: its time zone and the days on which the non-workday
/// segments apply (weekends are listed like holidays; no day is non-working by itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub time_zone: Tz,
    pub non_working_days: BTreeSet<NaiveDate>,
}

impl Default for Calendar {
    fn default() -> Self {
        Self {
            time_zone: Tz::UTC,
            non_working_days: BTreeSet::new(),
        }
    }
}

impl Calendar {
    /// The local date and time of day at an instant.
    pub fn local(&self, at_millis: i64) -> (NaiveDate, TimeOfDay) {
        let utc = DateTime::from_timestamp_millis(at_millis).unwrap_or_default();
        let local = utc.with_timezone(&self.time_zone);
        let minutes = local.hour() * 60 + local.minute();
        let minutes = u16::try_from(minutes).unwrap_or(0);
        (local.date_naive(), TimeOfDay(minutes))
    }
}

fn check_segments(segments: &[Segment]) -> Checked {
    if segments.len() > MAX_SEGMENTS {
        return Err(ValidationError::new(
            format!("[{MAX_SEGMENTS}]"),
            Rule::TooMany { max: MAX_SEGMENTS },
        ));
    }
    let mut sorted: Vec<(usize, &Segment)> = segments.iter().enumerate().collect();
    sorted.sort_by_key(|(_, s)| s.start);
    for (index, segment) in &sorted {
        if segment.start >= segment.end {
            return fail(
                &format!("[{index}].end"),
                Rule::Invalid {
                    reason: "the end must come after the start".into(),
                },
            );
        }
    }
    for pair in sorted.windows(2) {
        let ((_, earlier), (index, later)) = (pair[0], pair[1]);
        if later.start < earlier.end {
            return fail(
                &format!("[{index}].start"),
                Rule::Invalid {
                    reason: "segments must not overlap".into(),
                },
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(start: &str, end: &str) -> Segment {
        Segment {
            start: TimeOfDay::parse(start).unwrap(),
            end: TimeOfDay::parse(end).unwrap(),
        }
    }

    fn millis(rfc3339: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn work_time_is_read_in_the_tenant_time_zone_and_calendar() {
        let wt = WorkTime {
            workday: vec![seg("09:00", "18:00")],
            non_workday: vec![seg("10:00", "12:00")],
        };
        let mut calendar = Calendar {
            time_zone: "Asia/Shanghai".parse().unwrap(),
            non_working_days: BTreeSet::new(),
        };
        // 01:30 UTC is 09:30 in Shanghai: open on a workday.
        assert!(wt.is_open_at(&calendar, millis("2026-10-01T01:30:00Z")));
        // 00:59 UTC is 08:59 there: not yet.
        assert!(!wt.is_open_at(&calendar, millis("2026-10-01T00:59:00Z")));
        // 10:00 UTC is 18:00 there: a segment's end is excluded.
        assert!(!wt.is_open_at(&calendar, millis("2026-10-01T10:00:00Z")));
        calendar
            .non_working_days
            .insert(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap());
        assert!(!wt.is_open_at(&calendar, millis("2026-10-01T01:30:00Z")));
        assert!(wt.is_open_at(&calendar, millis("2026-10-01T02:30:00Z")));
        // The local date decides: 2026-09-30T23:00Z is already 1 October in Shanghai.
        assert!(!wt.is_open_at(&calendar, millis("2026-09-30T23:00:00Z")));
    }

    #[test]
    fn parses_times_from_midnight_to_end_of_day() {
        assert_eq!(TimeOfDay::parse("00:00"), Some(TimeOfDay::MIDNIGHT));
        assert_eq!(TimeOfDay::parse("24:00"), Some(TimeOfDay::END_OF_DAY));
        assert_eq!(TimeOfDay::parse("08:30").unwrap().minutes(), 510);
        for bad in ["24:01", "25:00", "8:30", "08:60", "0830", "aa:bb"] {
            assert_eq!(TimeOfDay::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn four_segments_are_accepted_and_a_fifth_is_refused() {
        let four = vec![
            seg("00:00", "06:00"),
            seg("06:00", "12:00"),
            seg("12:00", "18:00"),
            seg("18:00", "24:00"),
        ];
        let mut wt = WorkTime {
            workday: four.clone(),
            non_workday: vec![],
        };
        assert!(wt.validate().is_ok());
        wt.workday.push(seg("23:00", "23:30"));
        let err = wt.validate().unwrap_err();
        assert_eq!(err.field, "workday[4]");
        assert_eq!(err.rule, Rule::TooMany { max: 4 });
    }

    #[test]
    fn a_segment_must_end_after_it_starts() {
        let wt = WorkTime {
            workday: vec![seg("12:00", "08:00")],
            non_workday: vec![],
        };
        assert_eq!(wt.validate().unwrap_err().field, "workday[0].end");
    }

    #[test]
    fn overlapping_segments_are_refused() {
        let wt = WorkTime {
            workday: vec![],
            non_workday: vec![seg("08:00", "12:00"), seg("11:00", "13:00")],
        };
        assert_eq!(wt.validate().unwrap_err().field, "nonWorkday[1].start");
    }

    #[test]
    fn open_only_inside_a_segment_of_the_right_day_kind() {
        let wt = WorkTime {
            workday: vec![seg("08:00", "12:00")],
            non_workday: vec![],
        };
        let nine = TimeOfDay::parse("09:00").unwrap();
        assert!(wt.is_open(false, nine));
        assert!(!wt.is_open(true, nine));
        assert!(!wt.is_open(false, TimeOfDay::parse("12:00").unwrap()));
    }
}
