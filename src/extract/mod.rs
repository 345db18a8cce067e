//! Findings out: the code scanner, symptom phrases, context fields, root cause.
//!
//! Two ways in: `scan_log` for a buffer of complete log lines (each line is its own
//! record, only lines that hold a candidate are looked at), and `scan_document` for a bounce
//! message or pasted text (context carries from line to line; one root cause per recipient).

pub(crate) mod codes;
pub(crate) mod context;
mod document;
mod finding;
mod hit;
pub(crate) mod limits;
mod log;
pub(crate) mod noise;
mod rank;
pub(crate) mod reason;
pub(crate) mod symptom;

pub use document::{looks_like_bounce, scan_document};
pub use finding::{Direction, Finding, State};
pub use hit::{EXCERPT_CHARS, Options, Origin};
pub use limits::{Counts, Cuts};
pub use log::{scan_log, scan_record, scan_trace_row};
pub use reason::Basis;

/// The extraction patterns, in steps that can run on several threads at once: compiling
/// them all takes a few milliseconds, and every input needs most of them.
pub(crate) const WARM: &[&[fn()]] = &[
    symptom::WARM,
    codes::WARM,
    context::WARM,
    crate::re::warm_steps![
        hit::NESTED,
        document::ORIGINAL_MARKER,
        document::BOUNCE_MARKER,
        document::DELAY_NOTICE,
        document::DSN_FIELD,
        document::DIAGNOSTIC_FIELD,
        document::STATUS_FIELD,
        hit::BARE_REPLY,
    ],
    reason::WARM,
    noise::WARM,
];

#[cfg(test)]
mod tests {
    use super::document::*;
    use super::hit::*;
    use super::log::*;
    use super::*;
    use crate::input::Document;

    fn log(text: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        scan_log(
            text.as_bytes(),
            1,
            &Origin {
                path: "t",
                message: 1,
            },
            &Options::default(),
            &mut out,
            &mut Counts::default(),
        );
        out
    }

    fn doc(text: &str) -> Vec<Finding> {
        let d = Document::text(text.as_bytes().to_vec());
        let mut out = Vec::new();
        scan_document(
            &d,
            &Origin {
                path: "t",
                message: 1,
            },
            &Options::default(),
            &mut out,
            &mut Counts::default(),
        );
        out
    }

    #[test]
    fn sendmail_refused_is_one_finding() {
        let f = log(
            "Nov 9 12:01:31 host sendmail[4306]: jA9J1UvC004306: to=root, ctladdr=<root@example.org> (0/0), delay=00:00:00, xdelay=00:00:00, mailer=esmtp, pri=30005, relay=[127.0.0.1] [127.0.0.1], dsn=4.0.0, stat=Deferred: Connection refused by [127.0.0.1]\n",
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].category, "connection-refused");
        assert_eq!(f[0].code_str(), "4.0.0");
        assert_eq!(f[0].entry, "4.4.316");
        assert_eq!(f[0].state, State::Queued);
        assert!(f[0].root_cause);
        assert_eq!(f[0].remote_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(f[0].message_id.as_deref(), Some("jA9J1UvC004306"));
    }

    #[test]
    fn look_alikes_are_not_findings() {
        assert!(log("Nov 9 12:00:01 host kernel: Linux version 2.6.5-1.358 (bhcompile@example.com) (gcc version 3.3.3)\n").is_empty());
        assert!(
            log(
                "Nov 9 12:00:01 host kernel: device-mapper: 4.1.0-ioctl (2003-12-10) initialised\n"
            )
            .is_empty()
        );
        assert!(log("Nov 9 12:00:02 host sshd[811]: error: connect to host 192.0.2.9 port 22: Connection refused\n").is_empty());
        assert!(
            log("Nov 9 12:00:03 host app[1]: route 10.4.4.31 via 5.4.3.2 up, build 4.4.1 ok\n")
                .is_empty()
        );
        assert!(log("2026-03-04 10:00:00 dpkg: status installed libfoo:amd64 5.2.1\n").is_empty());
    }

    #[test]
    fn postfix_lines_and_line_numbers() {
        let text = "Mar  4 12:33:09 mx1 postfix/smtp[1]: connect from unknown\nMar  4 12:33:10 mx1 postfix/smtp[21877]: 4QbZ2x1Hj7z9vN: to=<dana@example.com>, relay=none, delay=3605, delays=3600/0.02/5/0, dsn=4.4.1, status=deferred (connect to mail.example.com[192.0.2.25]:25: Connection refused)\nMar  4 12:35:02 mx1 postfix/smtp[21901]: 4QbZ2y0Kk8z9vP: to=<lee@example.net>, relay=mx.example.net[198.51.100.7]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=5.1.1, status=bounced (host mx.example.net[198.51.100.7] said: 550 5.1.1 <lee@example.net>: Recipient address rejected: User unknown (in reply to RCPT TO command))\n";
        let f = log(text);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(
            (f[0].line, f[0].category.as_str(), f[0].recipient.as_deref()),
            (2, "connection-refused", Some("dana@example.com"))
        );
        assert_eq!(
            (f[1].line, f[1].code_str().as_str(), f[1].state),
            (3, "5.1.1", State::Failed)
        );
        assert_eq!(f[1].remote_host.as_deref(), Some("mx.example.net"));
        assert!(f[0].root_cause && f[1].root_cause);
    }

    #[test]
    fn nested_reply_is_context() {
        let f = doc(
            "LED=450 4.4.317 Cannot connect to remote server [Message=451 5.7.3 STARTTLS is required to send mail] [LastAttemptedServerName=mail.example.com] [LastAttemptedIP=192.0.2.25:25]",
        );
        assert_eq!(f.len(), 2);
        let root: Vec<_> = f.iter().filter(|f| f.root_cause).collect();
        assert_eq!(root.len(), 1);
        assert_eq!(root[0].code_str(), "4.4.317");
        assert_eq!(
            root[0].remote_reply.as_deref(),
            Some("451 5.7.3 STARTTLS is required to send mail")
        );
        assert!(f.iter().any(|x| x.code_str() == "5.7.3" && x.nested));
    }

    #[test]
    fn expired_ndr_roots_on_connector_error() {
        let text = "Delivery has failed to these recipients or groups:\n\nDana Ito (dana@example.com)\nYour message wasn't delivered.\n\nDiagnostic information for administrators:\n\nGenerating server: AM0PR01MB1234.eurprd01.prod.exchangelabs.com\n\ndana@example.com\n3/5/2026 9:14:02 AM - Server at AM0PR01MB1234.eurprd01.prod.exchangelabs.com returned '550 5.4.316 Message expired, connection refused(Socket error code 10061)'\n3/5/2026 9:04:40 AM - Server at mail.example.com (192.0.2.25) returned '450 4.4.316 Connection refused [Message=Socket error code 10061] [LastAttemptedServerName=mail.example.com] [LastAttemptedIP=192.0.2.25:25]'\n\nOriginal message headers:\n\nX-Test: 550 5.1.1 quoted\n";
        let f = doc(text);
        assert_eq!(f.len(), 2, "{f:?}");
        let root = f.iter().find(|f| f.root_cause).unwrap();
        assert_eq!(
            (root.code_str().as_str(), root.state),
            ("4.4.316", State::Expired)
        );
        assert_eq!(root.recipient.as_deref(), Some("dana@example.com"));
        assert_eq!(root.remote_host.as_deref(), Some("mail.example.com"));
        assert_eq!(root.line, 12);
        assert!(
            f.iter()
                .all(|f| f.entry == "4.4.316" && f.state == State::Expired)
        );
    }

    #[test]
    fn quoted_replies_follow_their_error() {
        let f = doc(
            "550 5.4.317 Message expired, cannot connect to remote server(451 5.7.3 STARTTLS is required to send mail)",
        );
        let outer = f.iter().find(|x| x.code_str() == "5.4.317").unwrap();
        let inner = f.iter().find(|x| x.code_str() == "5.7.3").unwrap();
        assert!(inner.nested && outer.root_cause);
        assert_eq!(
            outer.remote_reply.as_deref(),
            Some("451 5.7.3 STARTTLS is required to send mail")
        );
        assert_eq!((outer.state, inner.state), (State::Expired, State::Expired));
        let f = doc(
            "450 4.4.317 Cannot connect to remote server [Message=451 5.7.3 STARTTLS is required to send mail]",
        );
        assert!(f.iter().all(|x| x.state == State::Queued), "{f:?}");
        let f = log(
            "Mar  4 12:39:30 mx1 postfix/smtp[1]: AB12: to=<a@example.com>, relay=mx.example.com[192.0.2.9]:25, dsn=4.7.5, status=deferred (TLS is required, but was not offered by host mx.example.com[192.0.2.9])\n",
        );
        assert_eq!(f[0].category, "cannot-connect");
    }

    #[test]
    fn japanese_original_message_is_not_scanned() {
        let f = doc(
            "Diagnostic-Code: smtp; 550 5.1.1 unknown\n------ 元のメッセージ ------\nX-Old: 421 4.4.2 quoted\n",
        );
        assert_eq!(
            f.iter().map(|x| x.code_str()).collect::<Vec<_>>(),
            ["5.1.1"]
        );
    }

    #[test]
    fn one_finding_per_line_per_code() {
        let f = log(
            "Mar  4 12:35:02 mx1 postfix/smtp[1]: AB12CD34EF: to=<a@example.net>, dsn=5.1.1, status=bounced (host x[192.0.2.1] said: 550 5.1.1 unknown)\n",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].reply, Some(550));
    }

    #[test]
    fn what_a_scan_cuts_and_counts_goes_to_its_caller() {
        let mut many = String::from(
            "Mar  4 12:33:10 mx1 postfix/smtp[1]: A1: to=<a@example.net>, dsn=4.4.1, status=deferred (",
        );
        for d in 0..40 {
            many += &format!("450 4.4.{d} ");
        }
        many += ")\nMar  4 12:33:11 mx1 postfix/smtpd[2]: lost connection after CONNECT from unknown[192.0.2.9]\n";
        let origin = Origin {
            path: "t",
            message: 1,
        };
        let (mut out, mut counts) = (Vec::new(), Counts::default());
        scan_log(
            many.as_bytes(),
            1,
            &origin,
            &Options::default(),
            &mut out,
            &mut counts,
        );
        assert_eq!(
            counts.cuts,
            Cuts {
                lines: 1,
                documents: 0
            }
        );
        assert_eq!(counts.disconnects, 1);
        // a second scan with counts of its own starts from nothing
        let mut other = Counts::default();
        scan_log(
            b"nothing here\n",
            1,
            &origin,
            &Options::default(),
            &mut out,
            &mut other,
        );
        assert_eq!(other, Counts::default());
    }

    #[test]
    fn success_codes_only_with_all() {
        let line = "Mar  4 12:35:02 mx1 postfix/smtp[1]: AB12CD34EF: to=<a@example.net>, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n";
        assert!(log(line).is_empty());
        let mut out = Vec::new();
        scan_log(
            line.as_bytes(),
            1,
            &Origin {
                path: "t",
                message: 1,
            },
            &Options {
                all: true,
                now: 0,
                ..Options::default()
            },
            &mut out,
            &mut Counts::default(),
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].state, State::Delivered);
    }

    #[test]
    fn delayed_dsn_is_queued() {
        let text = "Reporting-MTA: dns;mx.example.org\n\nFinal-Recipient: rfc822;dana@example.com\nAction: delayed\nStatus: 4.4.7\nDiagnostic-Code: smtp;400 4.4.7 Message delayed\nWill-Retry-Until: Thu, 5 Mar 2026 09:12:44 +0000\n";
        let f = doc(text);
        assert!(!f.is_empty());
        assert!(f.iter().all(|f| f.state == State::Queued), "{f:?}");
    }

    #[test]
    fn without_recipients_each_destination_is_a_failure_of_its_own() {
        let roots = |fs: &[Finding]| {
            fs.iter()
                .filter(|f| f.root_cause)
                .map(|f| f.code.map(|c| c.to_string()).unwrap_or_default())
                .collect::<Vec<_>>()
        };
        // a queue listing: the line without a destination goes with the queue above it
        let queues = doc(
            "NextHopDomain : mail.example.com\nLastError : 451 4.4.0 Primary target IP address responded with: \"421 4.4.2 Connection dropped.\"\nStatus : 451 4.4.0 retry later\n\nNextHopDomain : example.net\nLastError : 451 4.4.0 DNS query failed. nonexistent domain\n",
        );
        assert_eq!(roots(&queues), ["4.4.0", "4.4.0"]);
        assert_eq!(
            queues.last().unwrap().remote_host.as_deref(),
            Some("example.net")
        );
        // one delivery's lines, one naming the server and one not: still one failure, and the
        // expiry settles across them
        let ndr = doc(
            "Remote server returned '550 5.4.316 Message expired, connection refused(Socket error code 10061)'\n450 4.4.316 Connection refused [Message=Socket error code 10061] [LastAttemptedServerName=mail.example.com] [LastAttemptedIP=192.0.2.25:25]\n",
        );
        assert_eq!(ndr.iter().filter(|f| f.root_cause).count(), 1);
        assert!(ndr.iter().all(|f| f.state == State::Expired), "{ndr:?}");
    }
}
