//! `--redact`: addresses, host names and IP addresses in findings are replaced by stable
//! placeholders (`user1@domain1`, `host3`, `ip2`) before anything is rendered, so output can
//! be pasted into a public ticket. The same value gets the same placeholder within a run.

use crate::extract::Finding;
use regex::Regex;
use std::collections::HashMap;
use std::sync::LazyLock;

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([A-Za-z0-9._%+=-]+)@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)").expect("static regex") // ok: a constant pattern, compiled by the tests
});
static IPV4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b")
        .expect("static regex") // ok: a constant pattern, compiled by the tests
});
/// IPv6 with at least three colons (so `12:33:10` times are left alone).
static IPV6: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:\b[0-9a-f]{1,4}|:)(?::[0-9a-f]{0,4}){3,7}(?:\b|::)|::(?:ffff:)?[0-9a-f]{1,4}\b",
    )
    .expect("static regex") // ok: a constant pattern, compiled by the tests
});
/// Host names: dotted labels ending in a lower-case top-level domain (so `QUEUE.Expired`
/// and `RESOLVER.ADR.RecipientNotFound` stay readable).
static HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[a-z]{2,24}\b")
        .expect("static regex") // ok: a constant pattern, compiled by the tests
});

#[derive(Default)]
pub struct Redactor {
    users: HashMap<String, String>,
    domains: HashMap<String, String>,
    hosts: HashMap<String, String>,
    ips: HashMap<String, String>,
}

fn placeholder(map: &mut HashMap<String, String>, prefix: &str, value: &str) -> String {
    let n = map.len() + 1;
    map.entry(value.to_ascii_lowercase())
        .or_insert_with(|| format!("{prefix}{n}"))
        .clone()
}

impl Redactor {
    pub fn new() -> Redactor {
        Redactor::default()
    }

    fn email(&mut self, local: &str, domain: &str) -> String {
        let u = placeholder(&mut self.users, "user", &format!("{local}@{domain}"));
        let d = placeholder(&mut self.domains, "domain", domain);
        format!("{u}@{d}")
    }

    fn ip(&mut self, ip: &str) -> String {
        placeholder(&mut self.ips, "ip", ip)
    }

    fn host(&mut self, host: &str) -> String {
        let h = host.trim_end_matches('.');
        if h.parse::<std::net::IpAddr>().is_ok() {
            return self.ip(h);
        }
        // a host named like a recipient domain gets that domain's placeholder
        if let Some(d) = self.domains.get(&h.to_ascii_lowercase()) {
            return d.clone();
        }
        placeholder(&mut self.hosts, "host", h)
    }

    /// Replaces every address, IP and host name in free text.
    pub fn text(&mut self, s: &str) -> String {
        let s = EMAIL
            .replace_all(s, |c: &regex::Captures<'_>| self.email(&c[1], &c[2]))
            .into_owned();
        let s = IPV4
            .replace_all(&s, |c: &regex::Captures<'_>| self.ip(&c[0]))
            .into_owned();
        let s = IPV6
            .replace_all(&s, |c: &regex::Captures<'_>| self.ip(&c[0]))
            .into_owned();
        HOST.replace_all(&s, |c: &regex::Captures<'_>| {
            let m = &c[0];
            // placeholders made above (`domain1`) have no dot; file-like words keep theirs
            self.host(m)
        })
        .into_owned()
    }

    /// Redacts every field of a finding that can hold a name or an address.
    pub fn finding(&mut self, f: &mut Finding) {
        if let Some(r) = f.recipient.take() {
            f.recipient = Some(match r.rsplit_once('@') {
                Some((l, d)) => self.email(l, d),
                None => self.text(&r),
            });
        }
        if let Some(h) = f.remote_host.take() {
            f.remote_host = Some(self.host(&h));
        }
        if let Some(i) = f.remote_ip.take() {
            f.remote_ip = Some(self.ip(&i));
        }
        f.message_id = f.message_id.take().map(|m| self.text(&m));
        f.excerpt = self.text(&f.excerpt);
        f.remote_reply = f.remote_reply.take().map(|r| self.text(&r));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_placeholders() {
        let mut r = Redactor::new();
        let a = r.text("to=<dana@example.com>, relay=mail.example.com[192.0.2.25]:25, dsn=4.4.1 at 12:33:10 QUEUE.Expired");
        assert_eq!(
            a,
            "to=<user1@domain1>, relay=host1[ip1]:25, dsn=4.4.1 at 12:33:10 QUEUE.Expired"
        );
        let b = r.text("dana@example.com lee@example.com 192.0.2.25 MAIL.example.com 2001:db8::25");
        assert_eq!(b, "user1@domain1 user2@domain1 ip1 host1 ip2");
        assert_eq!(r.host("example.com"), "domain1");
    }
}
