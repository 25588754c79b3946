//! Rate limits on login and join, per client address and per name or code.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Limits;
use crate::error::ApiError;

pub struct RateLimits {
    login_by_address: DefaultKeyedRateLimiter<IpAddr>,
    login_by_name: DefaultKeyedRateLimiter<String>,
    join_by_address: DefaultKeyedRateLimiter<IpAddr>,
    join_by_code: DefaultKeyedRateLimiter<String>,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

fn check<K: std::hash::Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), ApiError> {
    limiter
        .check_key(key)
        .map_err(|not_until| ApiError::RateLimited {
            retry_after_secs: not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                .max(1),
        })
}

impl RateLimits {
    pub fn new(limits: &Limits) -> Self {
        Self {
            login_by_address: RateLimiter::keyed(per_minute(limits.login_per_minute)),
            login_by_name: RateLimiter::keyed(per_minute(limits.login_per_minute)),
            join_by_address: RateLimiter::keyed(per_minute(limits.join_per_minute_per_address)),
            join_by_code: RateLimiter::keyed(per_minute(limits.join_per_minute_per_code)),
        }
    }

    pub fn login(&self, address: IpAddr, name: &str) -> Result<(), ApiError> {
        check(&self.login_by_address, &address)?;
        check(&self.login_by_name, &name.trim().to_lowercase())
    }

    pub fn join(&self, address: IpAddr, code: Option<&str>) -> Result<(), ApiError> {
        check(&self.join_by_address, &address)?;
        match code {
            Some(code) => check(&self.join_by_code, &code.to_string()),
            None => Ok(()),
        }
    }

    /// Drops entries whose limit has fully recovered, so memory stays small.
    pub fn forget_old(&self) {
        self.login_by_address.retain_recent();
        self.login_by_name.retain_recent();
        self.join_by_address.retain_recent();
        self.join_by_code.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_and_name_budgets_are_separate() {
        let limits = RateLimits::new(&Limits {
            login_per_minute: 3,
            ..Limits::default()
        });
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap());
        let results: Vec<bool> = [
            (a, "kari"),
            (a, "kari"),
            (a, "kari"),
            (a, "per"),
            (b, "kari"),
            (b, "per"),
        ]
        .iter()
        .map(|(ip, name)| limits.login(*ip, name).is_ok())
        .collect();
        assert_eq!(results, [true, true, true, false, false, true]);
    }
}
