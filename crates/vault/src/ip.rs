//! IP authentication rules of an API registration: a single address, a range `A-B`, or a CIDR
//! block. An IPv4-mapped IPv6 peer address is checked as IPv4.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::error::{invalid, Result};

/// One rule as the API shows it (`Type` is `SingleIP`, `IPRange` or `IPCIDR`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpRule {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Value")]
    pub value: String,
    #[serde(rename = "Description", default)]
    pub description: String,
}

/// A parsed rule: an inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    v6: bool,
    lo: u128,
    hi: u128,
}

fn norm(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (false, u32::from(a) as u128),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => (false, u32::from(v4) as u128),
            None => (true, u128::from(a)),
        },
    }
}

fn addr(s: &str) -> Result<IpAddr> {
    s.trim()
        .parse()
        .map_err(|_| invalid(format!("{s:?} is not an IP address: write e.g. 10.0.0.5 or fd00::5")))
}

impl IpRule {
    /// Reads a rule from the CLI's short form: `10.0.0.5`, `10.0.0.1-10.0.0.9` or `10.0.0.0/8`.
    pub fn from_text(text: &str) -> Result<IpRule> {
        let kind = if text.contains('/') {
            "IPCIDR"
        } else if text.contains('-') {
            "IPRange"
        } else {
            "SingleIP"
        };
        let rule = IpRule { kind: kind.into(), value: text.trim().into(), description: String::new() };
        rule.span()?;
        Ok(rule)
    }

    fn span(&self) -> Result<Span> {
        match self.kind.to_ascii_lowercase().as_str() {
            "singleip" => {
                let (v6, n) = norm(addr(&self.value)?);
                Ok(Span { v6, lo: n, hi: n })
            }
            "iprange" => {
                let (a, b) = self
                    .value
                    .split_once('-')
                    .ok_or_else(|| invalid(format!("IP range {:?} needs the form FIRST-LAST", self.value)))?;
                let (v6a, lo) = norm(addr(a)?);
                let (v6b, hi) = norm(addr(b)?);
                if v6a != v6b || lo > hi {
                    return Err(invalid(format!(
                        "IP range {:?}: both ends must be of one family and FIRST <= LAST",
                        self.value
                    )));
                }
                Ok(Span { v6: v6a, lo, hi })
            }
            "ipcidr" => {
                let (a, bits) = self
                    .value
                    .split_once('/')
                    .ok_or_else(|| invalid(format!("CIDR {:?} needs the form ADDRESS/BITS", self.value)))?;
                let (v6, n) = norm(addr(a)?);
                let width = if v6 { 128 } else { 32 };
                let bits: u32 = bits.trim().parse().ok().filter(|b| *b <= width).ok_or_else(|| {
                    invalid(format!("CIDR {:?}: the prefix length must be 0..={width}", self.value))
                })?;
                let host_bits = width - bits;
                let mask: u128 = if host_bits == 128 { u128::MAX } else { (1u128 << host_bits) - 1 };
                Ok(Span { v6, lo: n & !mask, hi: (n & !mask) | mask })
            }
            other => Err(invalid(format!("IP rule type {other:?} is not SingleIP, IPRange or IPCIDR"))),
        }
    }

    /// Whether `ip` is admitted by this rule (a malformed stored rule admits nothing).
    pub fn admits(&self, ip: IpAddr) -> bool {
        let (v6, n) = norm(ip);
        self.span().is_ok_and(|s| s.v6 == v6 && s.lo <= n && n <= s.hi)
    }
}

/// Whether `ip` passes a registration's rules: no rules admit everyone (as Password Safe does),
/// otherwise one rule must admit it.
pub fn admitted(rules: &[IpRule], ip: IpAddr) -> bool {
    rules.is_empty() || rules.iter().any(|r| r.admits(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn single_range_and_cidr() {
        let single = IpRule::from_text("127.0.0.1").unwrap();
        assert!(single.admits(ip("127.0.0.1")));
        assert!(single.admits(ip("::ffff:127.0.0.1")));
        assert!(!single.admits(ip("127.0.0.2")));
        let range = IpRule::from_text("10.0.0.1-10.0.0.9").unwrap();
        assert!(range.admits(ip("10.0.0.9")) && !range.admits(ip("10.0.0.10")));
        let cidr = IpRule::from_text("192.168.0.0/16").unwrap();
        assert!(cidr.admits(ip("192.168.255.1")) && !cidr.admits(ip("192.169.0.1")));
        assert!(IpRule::from_text("0.0.0.0/0").unwrap().admits(ip("8.8.8.8")));
        assert!(IpRule::from_text("fd00::/8").unwrap().admits(ip("fd12::1")));
        assert!(!IpRule::from_text("fd00::/8").unwrap().admits(ip("10.0.0.1")));
        assert!(IpRule::from_text("10.0.0.9-10.0.0.1").is_err());
        assert!(IpRule::from_text("10.0.0.0/33").is_err());
        assert!(IpRule::from_text("nonsense").is_err());
        assert!(admitted(&[], ip("1.2.3.4")));
        assert!(!admitted(&[range], ip("1.2.3.4")));
    }
}
