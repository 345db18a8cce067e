//! Log lines that look like failures and are not ours: a client hanging up on our server,
//! a client's name that does not resolve, password guessing, a filter's DNSBL look-up, an
//! incoming client's TLS trouble, a comment. No finding, with or without `--all`.

use crate::re::Line;
use std::sync::LazyLock;

/// MTA log lines about incoming clients and local filters (Postfix smtpd, postscreen,
/// dnsblog, anvil; Exim's receiving side; Dovecot/SASL), and comment lines.
static NOISE: LazyLock<Line> = LazyLock::new(|| {
    crate::re::line(concat!(
        r"(?i)^\s*#|",
        // Postfix's receiving side: the client hung up, timed out, or its name is odd
        r"smtpd\[\d+\]: (?:lost connection|timeout) after \S+ from |",
        r"smtpd\[\d+\]: warning: (?:hostname \S+ does not resolve to address|\S+: hostname \S+ verification failed|\S+: address not listed for hostname)|",
        r"smtpd\[\d+\]: warning: [^:]*: SASL \S+ authentication failed|",
        r"smtpd\[\d+\]: (?:warning: )?(?:TLS library problem|SSL_accept error)|",
        r"smtpd\[\d+\]: improper command pipelining|",
        r"postfix/(?:dnsblog|postscreen|anvil|tlsproxy)\[\d+\]|",
        // Exim's receiving side
        r"TLS error on connection from |SMTP protocol synchronization error|unexpected disconnection while reading SMTP command from |SMTP command timeout on connection from |",
        r"authenticator failed for |",
        // SASL and IMAP/POP daemons
        r"saslauthd\[\d+\]|dovecot(?:\[\d+\])?: (?:imap|pop3|auth)"
    ))
});

/// An incoming client that hung up on our server or went silent (Postfix smtpd, Exim).
static DISCONNECT: LazyLock<Line> = LazyLock::new(|| {
    crate::re::line(concat!(
        r"smtpd\[\d+\]: (?:lost connection|timeout) after \S+ from |",
        r"unexpected disconnection while reading SMTP command from |SMTP command timeout on connection from "
    ))
});

/// Whether a log line is noise: not a delivery failure, whatever codes or words it holds.
/// Noise lines that are a client's disconnect are counted in `disconnects`.
pub fn is_noise(line: &[u8], disconnects: &mut u64) -> bool {
    let noise = NOISE.is_match(line);
    if noise && DISCONNECT.is_match(line) {
        *disconnects += 1;
    }
    noise
}

// per thread, like the limits' cuts: a job runs on one thread, which takes the count when
// the job ends
pub(crate) const WARM: &[fn()] = crate::re::warm_steps![NOISE, DISCONNECT];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_side_lines_are_noise() {
        for line in [
            "Mar  4 12:40:01 mx1 postfix/smtpd[2211]: lost connection after CONNECT from unknown[192.0.2.25]",
            "Mar  4 12:40:02 mx1 postfix/smtpd[2211]: warning: hostname h-1.example does not resolve to address 192.0.2.7: Name or service not known",
            "Mar  4 12:40:03 mx1 postfix/smtpd[2211]: warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
            "Mar  4 12:40:04 mx1 postfix/dnsblog[2212]: warning: dnsblog_query: lookup error for DNS query 9.2.0.192.zen.example.org: Host or domain name not found. Name service error",
            "2026-03-04 12:40:05 TLS error on connection from client.example.org [192.0.2.30] (SSL_accept): timed out",
            "# Connection refused lines below are expected",
        ] {
            assert!(is_noise(line.as_bytes(), &mut 0), "{line}");
        }
        for line in [
            "Mar  4 12:33:10 mx1 postfix/smtp[21877]: connect to mail.example.com[192.0.2.25]:25: Connection refused",
            "Mar  4 12:35:10 mx1 postfix/smtpd[2213]: NOQUEUE: reject: RCPT from unknown[192.0.2.9]: 554 5.7.1 <a@example.org>: Relay access denied",
            "2026-03-04 12:33:15 1rXyZa-000AbC-1d ** dana@example.com R=dnslookup T=remote_smtp: retry timeout exceeded",
        ] {
            assert!(!is_noise(line.as_bytes(), &mut 0), "{line}");
        }
    }
}
