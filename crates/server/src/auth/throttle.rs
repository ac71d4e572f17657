//! Sign-in throttling against password guessing: after too many failures in a window, an
//! account (or a client address) is refused until the oldest failure leaves the window.
//! Counts live in this process; each node of a cluster throttles on its own.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const MAX_FAILURES_PER_ACCOUNT: usize = 5;
pub const MAX_FAILURES_PER_ADDRESS: usize = 30;

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    /// Seconds to wait before this account may try again from this address, if blocked.
    pub fn blocked_for(&self, account: &str, address: IpAddr, now: Instant) -> Option<u64> {
        let mut failures = self.lock();
        [
            (account_key(account), MAX_FAILURES_PER_ACCOUNT),
            (address_key(address), MAX_FAILURES_PER_ADDRESS),
        ]
        .into_iter()
        .filter_map(|(key, max)| {
            let times = failures.get_mut(&key)?;
            prune(times, now);
            (times.len() >= max).then(|| {
                let oldest = times.front().copied().unwrap_or(now);
                (WINDOW.saturating_sub(now.duration_since(oldest)))
                    .as_secs()
                    .max(1)
            })
        })
        .max()
    }

    pub fn record_failure(&self, account: &str, address: IpAddr, now: Instant) {
        let mut failures = self.lock();
        for key in [account_key(account), address_key(address)] {
            let times = failures.entry(key).or_default();
            prune(times, now);
            times.push_back(now);
        }
        if failures.len() > 100_000 {
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < WINDOW)
            });
        }
    }

    pub fn record_success(&self, account: &str) {
        self.lock().remove(&account_key(account));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        self.failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
}

fn account_key(account: &str) -> String {
    format!("account:{}", account.to_lowercase())
}

fn address_key(address: IpAddr) -> String {
    format!("address:{address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn an_account_is_blocked_after_five_failures_until_the_window_passes() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES_PER_ACCOUNT {
            assert_eq!(throttle.blocked_for("Ann", HOME, start), None);
            throttle.record_failure("ann", HOME, start);
        }
        assert_eq!(
            throttle.blocked_for("ANN", HOME, start),
            Some(WINDOW.as_secs())
        );
        assert_eq!(
            throttle.blocked_for("bob", HOME, start),
            None,
            "another account is not blocked"
        );
        assert_eq!(throttle.blocked_for("ann", HOME, start + WINDOW), None);
    }

    #[test]
    fn success_clears_the_account_failures() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES_PER_ACCOUNT - 1 {
            throttle.record_failure("ann", HOME, now);
        }
        throttle.record_success("ann");
        throttle.record_failure("ann", HOME, now);
        assert_eq!(throttle.blocked_for("ann", HOME, now), None);
    }

    #[test]
    fn an_address_is_blocked_after_many_failures_across_accounts() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for i in 0..MAX_FAILURES_PER_ADDRESS {
            throttle.record_failure(&format!("user{i}"), HOME, now);
        }
        assert!(throttle.blocked_for("fresh", HOME, now).is_some());
    }
}
