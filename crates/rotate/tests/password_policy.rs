//! generate_password: every output follows its policy, invalid policies are refused with PCR001,
//! and characters are drawn uniformly.

use proptest::prelude::*;
use rotate::{generate_password, PasswordPolicy};

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";

fn is_symbol(c: char) -> bool {
    rotate::SYMBOLS.contains(&(c as u8)) && c.is_ascii()
}

fn valid_policy() -> impl Strategy<Value = PasswordPolicy> {
    (8u16..=128, any::<[bool; 4]>())
        .prop_filter("at least one class", |(_, c)| c.iter().any(|b| *b))
        .prop_map(|(length, [lowercase, uppercase, digits, symbols])| PasswordPolicy {
            length,
            lowercase,
            uppercase,
            digits,
            symbols,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Length as asked, only enabled classes, at least one of each enabled class.
    #[test]
    fn every_password_follows_its_policy(policy in valid_policy()) {
        let pw = generate_password(&policy).unwrap();
        prop_assert_eq!(pw.chars().count(), usize::from(policy.length));
        let has = |set: &str| pw.chars().any(|c| set.contains(c));
        prop_assert_eq!(has(LOWER), policy.lowercase);
        prop_assert_eq!(has(UPPER), policy.uppercase);
        prop_assert_eq!(has(DIGITS), policy.digits);
        prop_assert_eq!(pw.chars().any(is_symbol), policy.symbols);
        prop_assert!(pw.chars().all(|c| LOWER.contains(c) || UPPER.contains(c) || DIGITS.contains(c) || is_symbol(c)));
    }

    /// A length outside 8..=128 is refused with PCR001 whatever the classes.
    #[test]
    fn lengths_outside_the_range_are_refused(length in prop_oneof![0u16..8, 129u16..=u16::MAX], classes in any::<[bool; 4]>()) {
        let [lowercase, uppercase, digits, symbols] = classes;
        let err = generate_password(&PasswordPolicy { length, lowercase, uppercase, digits, symbols }).unwrap_err();
        prop_assert_eq!(err.code(), "PCR001");
    }
}

#[test]
fn a_policy_without_any_class_is_refused_with_a_sentence() {
    let policy =
        PasswordPolicy { length: 16, lowercase: false, uppercase: false, digits: false, symbols: false };
    let err = generate_password(&policy).unwrap_err();
    assert_eq!(err.code(), "PCR001");
    assert!(err.to_string().contains("enable at least one"), "{err}");
}

#[test]
fn the_default_policy_is_32_characters_of_all_four_classes() {
    let p = PasswordPolicy::default();
    assert_eq!((p.length, p.lowercase, p.uppercase, p.digits, p.symbols), (32, true, true, true, true));
}

#[test]
fn two_passwords_differ() {
    let p = PasswordPolicy::default();
    assert_ne!(*generate_password(&p).unwrap(), *generate_password(&p).unwrap());
}

/// Chi-square goodness of fit over 64,000 lowercase characters: a biased draw (modulo bias,
/// a stuck generator) pushes the statistic far past the bound, which a uniform draw exceeds with
/// probability below 1e-10 (25 degrees of freedom).
#[test]
fn characters_are_drawn_uniformly() {
    let policy =
        PasswordPolicy { length: 32, lowercase: true, uppercase: false, digits: false, symbols: false };
    let mut counts = [0u64; 26];
    for _ in 0..2000 {
        for b in generate_password(&policy).unwrap().bytes() {
            counts[usize::from(b - b'a')] += 1;
        }
    }
    let total: u64 = counts.iter().sum();
    let expected = total as f64 / 26.0;
    let chi2: f64 = counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
    assert!(chi2 < 110.0, "chi-square {chi2:.1} over {counts:?}");
}
