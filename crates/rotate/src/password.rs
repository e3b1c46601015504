//! Password generation: OS randomness (aws-lc-rs), uniform choice by rejection sampling (no
//! modulo bias), and whole-password rejection until every required class is present — so every
//! password that follows the policy is equally likely.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, Zeroizing};

use crate::RotateError;

const LOWERCASE: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPERCASE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";
/// Printable ASCII punctuation without the characters that need quoting in shells, SQL literals,
/// `chpasswd` lines or connection strings: space, `'`, `"`, `` ` ``, `\` and `:`.
pub const SYMBOLS: &[u8] = b"!#$%&()*+,-./;<=>?@[]^_{|}~";

/// Shortest and longest password a policy may ask for.
pub const MIN_LENGTH: u16 = 8;
pub const MAX_LENGTH: u16 = 128;

/// How many whole passwords may be drawn before giving up; missing a class even 50 times in a
/// row has a probability far below 1e-30 for any valid policy, so reaching it means the random
/// source is broken.
const MAX_DRAWS: usize = 10_000;

/// Length and character classes of generated passwords.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub length: u16,
    pub lowercase: bool,
    pub uppercase: bool,
    pub digits: bool,
    pub symbols: bool,
}

impl Default for PasswordPolicy {
    /// 32 characters, all four classes.
    fn default() -> Self {
        PasswordPolicy { length: 32, lowercase: true, uppercase: true, digits: true, symbols: true }
    }
}

impl PasswordPolicy {
    /// Checks that the policy can be followed: length within 8..=128 and at least one class.
    pub fn validate(&self) -> Result<(), RotateError> {
        if !(MIN_LENGTH..=MAX_LENGTH).contains(&self.length) {
            return Err(RotateError::PolicyInvalid {
                reason: format!(
                    "length {} is outside {MIN_LENGTH}..={MAX_LENGTH}; set a length in that range",
                    self.length
                ),
            });
        }
        if self.classes().is_empty() {
            return Err(RotateError::PolicyInvalid {
                reason: "no character class is enabled; enable at least one of lowercase, uppercase, \
                         digits, symbols"
                    .into(),
            });
        }
        Ok(())
    }

    /// The enabled classes' alphabets.
    fn classes(&self) -> Vec<&'static [u8]> {
        [
            (self.lowercase, LOWERCASE),
            (self.uppercase, UPPERCASE),
            (self.digits, DIGITS),
            (self.symbols, SYMBOLS),
        ]
        .into_iter()
        .filter_map(|(on, set)| on.then_some(set))
        .collect()
    }
}

/// A password that follows the policy (at least one of each required class, uniform choice, OS
/// randomness).
pub fn generate_password(policy: &PasswordPolicy) -> Result<Zeroizing<String>, RotateError> {
    policy.validate()?;
    let classes = policy.classes();
    let alphabet: Vec<u8> = classes.iter().flat_map(|c| c.iter().copied()).collect();
    let rng = SystemRandom::new();
    let len = usize::from(policy.length);
    let mut out = Zeroizing::new(String::with_capacity(len));
    for _ in 0..MAX_DRAWS {
        out.zeroize();
        for _ in 0..len {
            let i = uniform_index(&rng, alphabet.len())?;
            out.push(char::from(alphabet[i]));
        }
        if classes.iter().all(|set| out.bytes().any(|b| set.contains(&b))) {
            return Ok(out);
        }
    }
    Err(RotateError::Randomness)
}

/// A uniform index in `0..n` (n ≥ 1): draws 32-bit values and rejects those in the last partial
/// block of `n` so that every index has the same chance.
fn uniform_index(rng: &SystemRandom, n: usize) -> Result<usize, RotateError> {
    let n = u32::try_from(n).map_err(|_| RotateError::Randomness)?;
    // Largest multiple of n that fits in u32's range (as u64 to avoid overflow).
    let zone = (u64::from(u32::MAX) + 1) / u64::from(n) * u64::from(n);
    loop {
        let mut buf = [0u8; 4];
        rng.fill(&mut buf).map_err(|_| RotateError::Randomness)?;
        let r = u64::from(u32::from_le_bytes(buf));
        buf.zeroize();
        if r < zone {
            return usize::try_from(r % u64::from(n)).map_err(|_| RotateError::Randomness);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_index_stays_in_range_for_awkward_sizes() {
        let rng = SystemRandom::new();
        for n in [1usize, 3, 7, 89, 91] {
            for _ in 0..200 {
                assert!(uniform_index(&rng, n).unwrap() < n);
            }
        }
    }

    #[test]
    fn symbols_hold_no_quote_backslash_colon_or_space() {
        for b in SYMBOLS {
            assert!(!b" '\"`\\:".contains(b), "{}", char::from(*b));
            assert!(b.is_ascii_punctuation());
        }
    }
}
