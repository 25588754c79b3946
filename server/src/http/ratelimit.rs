//! Rate limits on login and join. Logins are limited per (name, address), per address, and
//! under a much higher ceiling per name: whoever guesses a teacher's password is slowed at
//! their own address, and cannot lock the teacher out by failing on purpose. Joins are limited
//! per address and per (code, address): someone spending a lesson's code from their device
//! leaves every other device's tries untouched.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Limits;
use crate::error::ServiceError;

pub struct RateLimits {
    login_by_name_and_address: DefaultKeyedRateLimiter<(String, IpAddr)>,
    login_by_address: DefaultKeyedRateLimiter<IpAddr>,
    login_by_name: DefaultKeyedRateLimiter<String>,
    join_by_address: DefaultKeyedRateLimiter<IpAddr>,
    join_by_code_and_address: DefaultKeyedRateLimiter<(String, IpAddr)>,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

fn check<K: std::hash::Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), ServiceError> {
    limiter
        .check_key(key)
        .map_err(|not_until| ServiceError::RateLimited {
            retry_after_secs: not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                .max(1),
        })
}

impl RateLimits {
    pub fn new(limits: &Limits) -> Self {
        Self {
            login_by_name_and_address: RateLimiter::keyed(per_minute(limits.login_per_minute)),
            login_by_address: RateLimiter::keyed(per_minute(limits.login_per_minute_per_address)),
            login_by_name: RateLimiter::keyed(per_minute(limits.login_per_minute_per_name)),
            join_by_address: RateLimiter::keyed(per_minute(limits.join_per_minute_per_address)),
            join_by_code_and_address: RateLimiter::keyed(per_minute(
                limits.join_per_minute_per_code,
            )),
        }
    }

    /// One login attempt for `name` (setup links use one name for all of them) from `address`.
    pub fn login(&self, address: IpAddr, name: &str) -> Result<(), ServiceError> {
        let name = name.trim().to_lowercase();
        check(&self.login_by_name_and_address, &(name.clone(), address))?;
        check(&self.login_by_address, &address)?;
        check(&self.login_by_name, &name)
    }

    /// A login from a device the teacher signed in on before: only the (name, address) limit
    /// applies, so strangers' guesses at her name from anywhere never lock her out.
    pub fn login_from_known_device(&self, address: IpAddr, name: &str) -> Result<(), ServiceError> {
        check(
            &self.login_by_name_and_address,
            &(name.trim().to_lowercase(), address),
        )
    }

    pub fn join(&self, address: IpAddr, code: Option<&str>) -> Result<(), ServiceError> {
        check(&self.join_by_address, &address)?;
        match code {
            Some(code) => check(
                &self.join_by_code_and_address,
                &(code.trim().to_uppercase(), address),
            ),
            None => Ok(()),
        }
    }

    /// Drops entries whose limit has fully recovered, so memory stays small.
    pub fn forget_old(&self) {
        self.login_by_name_and_address.retain_recent();
        self.login_by_address.retain_recent();
        self.login_by_name.retain_recent();
        self.join_by_address.retain_recent();
        self.join_by_code_and_address.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_spending_a_codes_tries_leaves_every_other_devices_alone() {
        let limits = RateLimits::new(&Limits {
            join_per_minute_per_address: 50,
            join_per_minute_per_code: 3,
            ..Limits::default()
        });
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let spender = ip("127.0.0.2");
        let tries = (0..10)
            .filter(|_| limits.join(spender, Some("ABC123")).is_ok())
            .count();
        assert_eq!(tries, 3);
        assert!(
            limits.join(spender, Some("abc123 ")).is_err(),
            "the same code"
        );
        assert!(limits.join(spender, Some("XYZ789")).is_ok(), "another code");
        for n in 3..=20 {
            assert!(
                limits
                    .join(ip(&format!("127.0.0.{n}")), Some("ABC123"))
                    .is_ok(),
                "a pupil on another device joins"
            );
        }
    }

    #[test]
    fn a_guesser_is_slowed_at_their_address_and_the_teacher_elsewhere_is_not() {
        let limits = RateLimits::new(&Limits {
            login_per_minute: 3,
            login_per_minute_per_address: 5,
            login_per_minute_per_name: 8,
            ..Limits::default()
        });
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let (guesser, teacher) = (ip("127.0.0.2"), ip("127.0.0.1"));
        let tries: Vec<bool> = (0..10)
            .map(|_| limits.login(guesser, "Kari").is_ok())
            .collect();
        assert_eq!(tries.iter().filter(|ok| **ok).count(), 3, "{tries:?}");
        assert!(limits.login(teacher, "kari").is_ok(), "the teacher gets in");
        // The guesser's address has room for two more names, then none.
        assert!(limits.login(guesser, "per").is_ok());
        assert!(limits.login(guesser, "ola").is_ok());
        assert!(limits.login(guesser, "siv").is_err());
        // Many addresses together reach the name's ceiling.
        let many = (3..=9).filter(|n| limits.login(ip(&format!("127.0.0.{n}")), "kari").is_ok());
        assert_eq!(
            many.count(),
            4,
            "8 for the name, 4 used by the guesser and the teacher"
        );
    }
}
