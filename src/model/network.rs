//! IP networks, a single address or a CIDR block, IPv4 or IPv6: the filter's `remote:` term and
//! the addresses of a baseline (`crate::baseline`) are both written and matched this way.

use std::fmt;
use std::net::IpAddr;

/// An address with a prefix length; a single address is a network of its full length.
/// Ordered by address, then prefix, so a list of them sorts the way a reader expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

/// Why a network did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkError {
    /// The address, or the prefix length, is not written as one.
    Malformed,
    /// The prefix length is longer than the address (`max` is 32 or 128).
    PrefixOutOfRange { max: u8 },
}

impl Network {
    /// Parses `10.0.0.5`, `10.0.0.0/8`, `::1` or `fe80::/10`. Host bits set below the prefix
    /// (`10.1.2.3/8`) are ignored, as `ip route` does, rather than rejected.
    pub fn parse(text: &str) -> Result<Network, NetworkError> {
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text.parse().map_err(|_| NetworkError::Malformed)?;
        let max = match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        let prefix = match prefix_text {
            None => max,
            Some(digits) => {
                // Only plain digits: str::parse would also take "+8".
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(NetworkError::Malformed);
                }
                match digits.parse::<u8>() {
                    Ok(prefix) if prefix <= max => prefix,
                    _ => return Err(NetworkError::PrefixOutOfRange { max }),
                }
            }
        };
        Ok(Network { addr, prefix })
    }

    /// The address, when the network is exactly one (`10.0.0.5`, `10.0.0.5/32`).
    pub fn single_address(&self) -> Option<IpAddr> {
        (*self == Network::single(self.addr)).then_some(self.addr)
    }

    /// The network of exactly one address.
    pub fn single(addr: IpAddr) -> Network {
        let prefix = match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        Network { addr, prefix }
    }

    /// Whether `ip` is inside the network. An IPv4 address and its IPv4-mapped IPv6 form
    /// (`::ffff:10.0.0.5`, how a dual-stack socket shows an IPv4 peer) count as the same address,
    /// so a network written either way finds the connection however the kernel reported it.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                same_prefix(u32::from(net).into(), u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                same_prefix(u128::from(net), u128::from(ip), self.prefix, 128)
            }
            (IpAddr::V4(_), IpAddr::V6(ip)) => ip
                .to_ipv4_mapped()
                .is_some_and(|v4| self.contains(IpAddr::V4(v4))),
            (IpAddr::V6(_), IpAddr::V4(ip)) => self.contains(IpAddr::V6(ip.to_ipv6_mapped())),
        }
    }
}

/// `10.0.0.0/8`, or the bare address for a single one (`10.0.0.5`, `::1`): the form
/// [`Network::parse`] reads back.
impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(addr) = self.single_address() {
            write!(f, "{addr}")
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

impl fmt::Display for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetworkError::Malformed => {
                f.write_str("expected an IP address or a CIDR block (10.0.0.0/8, fe80::/10)")
            }
            NetworkError::PrefixOutOfRange { max } => {
                write!(f, "the prefix length is at most {max} for this address")
            }
        }
    }
}

/// Whether the top `prefix` bits of two `width`-bit numbers (held right-aligned in a u128) agree.
fn same_prefix(a: u128, b: u128, prefix: u8, width: u8) -> bool {
    // Shifting by the full width would overflow, and /0 compares no bits anyway.
    if prefix == 0 {
        return true;
    }
    let ignored = u32::from(width - prefix);
    (a >> ignored) == (b >> ignored)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(network: &str, ip: &str) -> bool {
        Network::parse(network)
            .unwrap()
            .contains(ip.parse().unwrap())
    }

    #[test]
    fn membership_follows_the_prefix_for_both_families() {
        let cases = [
            ("10.0.0.5", "10.0.0.5", true),
            ("10.0.0.5", "10.0.0.6", false),
            ("10.0.0.0/8", "10.255.1.2", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("192.168.1.0/24", "192.168.1.255", true),
            ("192.168.1.0/24", "192.168.2.0", false),
            ("10.1.2.3/8", "10.9.9.9", true),
            ("0.0.0.0/0", "203.0.113.9", true),
            ("10.0.0.5/32", "10.0.0.5", true),
            ("::1", "::1", true),
            ("::1", "::2", false),
            ("fe80::/10", "fe80::1234", true),
            ("fe80::/10", "febf::1", true),
            ("fe80::/10", "fec0::1", false),
            ("::/0", "2001:db8::1", true),
            ("2001:db8::/128", "2001:db8::", true),
            ("2001:db8::/128", "2001:db8::1", false),
        ];
        for (network, ip, expected) in cases {
            assert_eq!(contains(network, ip), expected, "{ip} in {network}");
        }
    }

    #[test]
    fn ipv4_and_its_mapped_ipv6_form_are_the_same_address() {
        assert!(contains("10.0.0.0/8", "::ffff:10.1.1.1"));
        assert!(contains("::ffff:10.0.0.0/104", "10.1.1.1"));
        assert!(!contains("10.0.0.0/8", "::1"));
        assert!(!contains("::1", "127.0.0.1"));
        assert!(!contains("fe80::/10", "10.0.0.1"));
    }

    #[test]
    fn a_network_is_written_back_as_it_is_read() {
        for text in [
            "10.0.0.5",
            "10.0.0.0/8",
            "::1",
            "fe80::/10",
            "0.0.0.0/0",
            "::/0",
        ] {
            assert_eq!(Network::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            Network::parse("10.0.0.5/32").unwrap().to_string(),
            "10.0.0.5"
        );
        assert_eq!(
            Network::single("::ffff:10.0.0.5".parse().unwrap()).to_string(),
            "::ffff:10.0.0.5"
        );
    }

    #[test]
    fn malformed_networks_and_long_prefixes_are_rejected() {
        let cases = [
            ("10.0.0", NetworkError::Malformed),
            ("10.0.0.0/", NetworkError::Malformed),
            ("10.0.0.0/+8", NetworkError::Malformed),
            ("10.0.0.0/x", NetworkError::Malformed),
            ("host.example", NetworkError::Malformed),
            ("10.0.0.0/33", NetworkError::PrefixOutOfRange { max: 32 }),
            ("10.0.0.0/300", NetworkError::PrefixOutOfRange { max: 32 }),
            ("fe80::/129", NetworkError::PrefixOutOfRange { max: 128 }),
        ];
        for (text, expected) in cases {
            assert_eq!(Network::parse(text), Err(expected), "{text}");
        }
    }
}
