//! The catalog against the IANA "SMTP Enhanced Status Codes" registry: every registered
//! code is present, with its registered title (as the registry spells it), either as the
//! registry entry `X.S.D` or as a vendor entry that names the registry title beside its own.
//! (List: https://www.iana.org/assignments/smtp-enhanced-status-codes/, as of 2024-12.)

use ndr_doctor::catalog::{self, Code, Lang};

/// (code, registered title); `None`: the registry gives the code no title of its own
/// (X.6.10 is a deprecated duplicate of X.6.8).
const REGISTRY: &[(&str, Option<&str>)] = &[
    ("X.0.0", Some("Other undefined Status")),
    ("X.1.0", Some("Other address status")),
    ("X.1.1", Some("Bad destination mailbox address")),
    ("X.1.2", Some("Bad destination system address")),
    ("X.1.3", Some("Bad destination mailbox address syntax")),
    ("X.1.4", Some("Destination mailbox address ambiguous")),
    ("X.1.5", Some("Destination address valid")),
    (
        "X.1.6",
        Some("Destination mailbox has moved, No forwarding address"),
    ),
    ("X.1.7", Some("Bad sender's mailbox address syntax")),
    ("X.1.8", Some("Bad sender's system address")),
    ("X.1.9", Some("Message relayed to non-compliant mailer")),
    ("X.1.10", Some("Recipient address has null MX")),
    ("X.2.0", Some("Other or undefined mailbox status")),
    ("X.2.1", Some("Mailbox disabled, not accepting messages")),
    ("X.2.2", Some("Mailbox full")),
    ("X.2.3", Some("Message length exceeds administrative limit")),
    ("X.2.4", Some("Mailing list expansion problem")),
    ("X.3.0", Some("Other or undefined mail system status")),
    ("X.3.1", Some("Mail system full")),
    ("X.3.2", Some("System not accepting network messages")),
    ("X.3.3", Some("System not capable of selected features")),
    ("X.3.4", Some("Message too big for system")),
    ("X.3.5", Some("System incorrectly configured")),
    (
        "X.4.0",
        Some("Other or undefined network or routing status"),
    ),
    ("X.4.1", Some("No answer from host")),
    ("X.4.2", Some("Bad connection")),
    ("X.4.3", Some("Directory server failure")),
    ("X.4.4", Some("Unable to route")),
    ("X.4.5", Some("Mail system congestion")),
    ("X.4.6", Some("Routing loop detected")),
    ("X.4.7", Some("Delivery time expired")),
    ("X.5.0", Some("Other or undefined protocol status")),
    ("X.5.1", Some("Invalid command")),
    ("X.5.2", Some("Syntax error")),
    ("X.5.3", Some("Too many recipients")),
    ("X.5.4", Some("Invalid command arguments")),
    ("X.5.5", Some("Wrong protocol version")),
    ("X.5.6", Some("Authentication Exchange line is too long")),
    ("X.6.0", Some("Other or undefined media error")),
    ("X.6.1", Some("Media not supported")),
    ("X.6.2", Some("Conversion required and prohibited")),
    ("X.6.3", Some("Conversion required but not supported")),
    ("X.6.4", Some("Conversion with loss performed")),
    ("X.6.5", Some("Conversion Failed")),
    ("X.6.6", Some("Message content not available")),
    (
        "X.6.7",
        Some("Non-ASCII addresses not permitted for that sender/recipient"),
    ),
    (
        "X.6.8",
        Some("UTF-8 string reply is required, but not permitted by the SMTP client"),
    ),
    (
        "X.6.9",
        Some(
            "UTF-8 header message cannot be transferred to one or more recipients, so the message must be rejected",
        ),
    ),
    ("X.6.10", None),
    ("X.7.0", Some("Other or undefined security status")),
    ("X.7.1", Some("Delivery not authorized, message refused")),
    ("X.7.2", Some("Mailing list expansion prohibited")),
    (
        "X.7.3",
        Some("Security conversion required but not possible"),
    ),
    ("X.7.4", Some("Security features not supported")),
    ("X.7.5", Some("Cryptographic failure")),
    ("X.7.6", Some("Cryptographic algorithm not supported")),
    ("X.7.7", Some("Message integrity failure")),
    ("X.7.8", Some("Authentication credentials invalid")),
    ("X.7.9", Some("Authentication mechanism is too weak")),
    ("X.7.10", Some("Encryption Needed")),
    (
        "X.7.11",
        Some("Encryption required for requested authentication mechanism"),
    ),
    ("X.7.12", Some("A password transition is needed")),
    ("X.7.13", Some("User Account Disabled")),
    ("X.7.14", Some("Trust relationship required")),
    ("X.7.15", Some("Priority Level is too low")),
    (
        "X.7.16",
        Some("Message is too big for the specified priority"),
    ),
    ("X.7.17", Some("Mailbox owner has changed")),
    ("X.7.18", Some("Domain owner has changed")),
    ("X.7.19", Some("RRVS test cannot be completed")),
    ("X.7.20", Some("No passing DKIM signature found")),
    ("X.7.21", Some("No acceptable DKIM signature found")),
    (
        "X.7.22",
        Some("No valid author-matched DKIM signature found"),
    ),
    ("X.7.23", Some("SPF validation failed")),
    ("X.7.24", Some("SPF validation error")),
    ("X.7.25", Some("Reverse DNS validation failed")),
    ("X.7.26", Some("Multiple authentication checks failed")),
    ("X.7.27", Some("Sender address has null MX")),
    ("X.7.28", Some("Mail flood detected")),
    ("X.7.29", Some("ARC validation failure")),
    ("X.7.30", Some("REQUIRETLS support required")),
];

#[test]
fn every_registered_code_is_present_with_its_title() {
    let cat = catalog::builtin().expect("built-in catalog parses");
    let mut problems = Vec::new();
    for (code, title) in REGISTRY {
        let c = Code::parse(code).expect("well formed");
        let Some(e) = cat.by_key(code) else {
            problems.push(format!("{code}: no registry entry"));
            continue;
        };
        for class in [4, 5] {
            let l = cat.lookup(c.with_class(class)).expect("lookup");
            assert!(l.how.known(), "{code} in class {class} falls back");
        }
        if let Some(title) = title
            && e.texts(Lang::En).title != *title
        {
            problems.push(format!(
                "{code}: title {:?}, registry says {title:?}",
                e.en.title
            ));
        }
        for lang in Lang::ALL {
            if e.texts(lang).title.trim().is_empty() {
                problems.push(format!("{code}: no {} title", lang.as_str()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn vendor_entries_name_the_registry_title() {
    let cat = catalog::builtin().unwrap();
    for e in cat.entries() {
        let Some(rt) = &e.registry_title else {
            continue;
        };
        let Some(c) = Code::parse(e.code.split('-').next().unwrap_or("")) else {
            continue;
        };
        let registered = REGISTRY.iter().find(|(k, _)| {
            Code::parse(k).is_some_and(|k| k.subject == c.subject && k.detail == c.detail)
        });
        if let Some((k, Some(t))) = registered {
            assert_eq!(rt, t, "{}: registry_title differs from {k}", e.code);
        }
    }
}

#[test]
fn no_registry_entry_is_invented() {
    let cat = catalog::builtin().unwrap();
    for e in cat.entries().iter().filter(|e| e.code.starts_with('X')) {
        assert!(
            REGISTRY.iter().any(|(k, _)| *k == e.code),
            "{} is not in the registry",
            e.code
        );
    }
}
