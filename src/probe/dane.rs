//! DANE for SMTP (RFC 7672, on RFC 6698 and RFC 7671): whether the certificates a server
//! presented match its TLSA records, as a sending server that checks DANE decides it. No
//! network and no printing: the caller fetches the records (DNSSEC-validated) and the chain,
//! and maps the refusal to the code Exchange Online queues.
//!
//! Only the usages RFC 7672 lets SMTP use are checked: DANE-EE(3), which pins the server's
//! own certificate or key (names, dates and issuer then do not matter), and DANE-TA(2), which
//! pins a certificate the server sends in its chain, to which the server's certificate must
//! chain (dates and name checked, as with a public root).

use super::der;
use super::tls::presented_name;
use ring::digest;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use std::fmt::Write as _;
use std::time::Duration;

/// One TLSA record: certificate usage, selector, matching type, association data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlsa {
    /// Certificate usage: 2 DANE-TA, 3 DANE-EE (0 PKIX-TA and 1 PKIX-EE are not for SMTP).
    pub usage: u8,
    /// Selector: 0 the whole certificate, 1 its SubjectPublicKeyInfo.
    pub selector: u8,
    /// Matching type: 0 the selected bytes themselves, 1 their SHA-256, 2 their SHA-512.
    pub matching: u8,
    /// Certificate association data: the bytes or the digest to compare.
    pub data: Vec<u8>,
}

const DANE_TA: u8 = 2;
const DANE_EE: u8 = 3;

/// How many hex digits of the association data `describe` shows.
const SHOWN_HEX: usize = 16;

impl Tlsa {
    /// Whether RFC 7672 lets SMTP use it: usage 2 (DANE-TA) or 3 (DANE-EE), selector 0 (full
    /// certificate) or 1 (SubjectPublicKeyInfo), matching type 0 (exact), 1 (SHA-256) or 2
    /// (SHA-512).
    pub fn usable(&self) -> bool {
        matches!(self.usage, DANE_TA | DANE_EE)
            && matches!(self.selector, 0 | 1)
            && matches!(self.matching, 0..=2)
    }

    /// `3 1 1 ab12cd…` (data in hex, shortened to its first 16 hex digits followed by "…"
    /// when longer) for reports.
    pub fn describe(&self) -> String {
        let mut s = format!("{} {} {} ", self.usage, self.selector, self.matching);
        for b in self.data.iter().take(SHOWN_HEX / 2) {
            // ok: writing to a String cannot fail
            let _ = write!(s, "{b:02x}");
        }
        if self.data.len() * 2 > SHOWN_HEX {
            s.push('…');
        }
        s.trim_end().to_string()
    }

    /// `DANE-EE(3) record 3 1 1 ab12…`.
    fn named(&self) -> String {
        let usage = match self.usage {
            DANE_TA => "DANE-TA(2)",
            DANE_EE => "DANE-EE(3)",
            _ => "TLSA",
        };
        format!("{usage} record {}", self.describe())
    }

    /// Whether the certificate's selected part matches the association data.
    fn matches(&self, cert: &[u8]) -> bool {
        let selected = match self.selector {
            0 => cert,
            1 => match der::spki(cert) {
                Some(s) => s,
                None => return false,
            },
            _ => return false,
        };
        match self.matching {
            0 => selected == self.data.as_slice(),
            1 => digest::digest(&digest::SHA256, selected).as_ref() == self.data.as_slice(),
            2 => digest::digest(&digest::SHA512, selected).as_ref() == self.data.as_slice(),
            _ => false,
        }
    }

    /// `public key` or `certificate`: what the selector compares.
    fn selected(&self) -> &'static str {
        if self.selector == 1 {
            "public key"
        } else {
            "certificate"
        }
    }
}

/// Why the presented chain fails DANE, each mapped by the caller to an Exchange Online code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaneError {
    /// No usable record matches (4.7.323), or a DANE-TA chain does not validate for another
    /// reason than dates or name: a sentence saying what was compared.
    NoMatch(String),
    /// A DANE-TA(2) chain that matches but whose server certificate (or a chain certificate)
    /// is outside its validity dates (4.7.322).
    Expired(String),
    /// A DANE-TA(2) chain that matches but whose server certificate does not name the host
    /// (4.7.325).
    NameMismatch(String),
}

impl DaneError {
    /// Which failure to report when every record fails: dates, then name, then a DANE-TA
    /// chain that does not validate.
    fn rank(&self) -> u8 {
        match self {
            DaneError::Expired(_) => 3,
            DaneError::NameMismatch(_) => 2,
            DaneError::NoMatch(_) => 1,
        }
    }
}

/// Checks the server's chain (`chain[0]` the server's certificate, DER, then what else it
/// sent, in order) against the usable records (unusable ones are ignored; the caller only
/// calls this when at least one is usable). `host` is the MX host name (the reference
/// identifier; a trailing dot ignored), `now` seconds since the Unix epoch. Ok carries a
/// sentence saying which record matched, e.g. "DANE-EE(3) record 3 1 1 ab12…: matches the
/// server's public key".
pub fn check(
    records: &[Tlsa],
    chain: &[Vec<u8>],
    host: &str,
    now: u64,
) -> Result<String, DaneError> {
    let host = host.strip_suffix('.').unwrap_or(host);
    let usable: Vec<&Tlsa> = records.iter().filter(|r| r.usable()).collect();
    let Some(leaf) = chain.first() else {
        return Err(DaneError::NoMatch(
            "the server presented no certificate to compare with its TLSA records".to_string(),
        ));
    };
    // the most specific failure of a DANE-TA(2) record that matched a certificate
    let mut failed: Option<DaneError> = None;
    for r in &usable {
        match r.usage {
            DANE_EE if r.matches(leaf) => {
                return Ok(format!(
                    "{}: matches the server's {}",
                    r.named(),
                    r.selected()
                ));
            }
            DANE_TA => {
                for (i, cert) in chain.iter().enumerate() {
                    if !r.matches(cert) {
                        continue;
                    }
                    match chains_to(r, chain, i, host, now) {
                        Ok(s) => return Ok(s),
                        Err(e) => {
                            if failed.as_ref().is_none_or(|f| e.rank() > f.rank()) {
                                failed = Some(e);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Err(match failed {
        Some(e @ (DaneError::Expired(_) | DaneError::NameMismatch(_))) => e,
        Some(DaneError::NoMatch(why)) => DaneError::NoMatch(format!(
            "{}; {why}",
            none_matches(&usable, records, chain, "authenticates")
        )),
        None => DaneError::NoMatch(none_matches(&usable, records, chain, "matches")),
    })
}

/// `none of the 2 TLSA records (3 1 1 ab12…, 2 0 1 cd34…) matches the 2 certificates
/// presented (the server's: CN=mx.contoso.com)`, with `verb` for "matches".
fn none_matches(usable: &[&Tlsa], records: &[Tlsa], chain: &[Vec<u8>], verb: &str) -> String {
    let listed = usable
        .iter()
        .map(|r| r.describe())
        .collect::<Vec<_>>()
        .join(", ");
    let which = match usable.len() {
        0 => format!(
            "there is no usable TLSA record (usage 2 or 3, selector 0 or 1, matching type 0, 1 \
             or 2) that {verb}"
        ),
        1 => format!("the TLSA record {listed} {verb} none of"),
        n => format!("none of the {n} TLSA records ({listed}) {verb}"),
    };
    let ignored = match records.len().saturating_sub(usable.len()) {
        0 => String::new(),
        1 => "; 1 more record ignored (a usage, selector or matching type SMTP does not use)"
            .to_string(),
        n => format!(
            "; {n} more records ignored (a usage, selector or matching type SMTP does not use)"
        ),
    };
    let presented = match chain.len() {
        1 => "the 1 certificate presented".to_string(),
        n => format!("the {n} certificates presented"),
    };
    let server = chain
        .first()
        .and_then(|c| der::cert_info(c))
        .map(|i| format!(" (the server's: {})", i.subject))
        .unwrap_or_default();
    format!("{which} {presented}{server}{ignored}")
}

/// `CN=Test CA` or, unreadable, `the certificate at position 2`.
fn subject(cert: &[u8], position: usize) -> String {
    der::cert_info(cert)
        .map(|i| i.subject)
        .unwrap_or_else(|| format!("the certificate at position {}", position + 1))
}

/// A DANE-TA(2) record `r` matched `chain[anchor]`: does the server's certificate chain to it,
/// is every certificate up to it within its dates, and does the server's name `host`?
fn chains_to(
    r: &Tlsa,
    chain: &[Vec<u8>],
    anchor: usize,
    host: &str,
    now: u64,
) -> Result<String, DaneError> {
    let Some(leaf) = chain.first() else {
        return Err(DaneError::NoMatch("no server certificate".to_string()));
    };
    let pinned = chain.get(anchor).map(Vec::as_slice).unwrap_or_default();
    let what = if anchor == 0 {
        format!("{} matches the server's {} itself", r.named(), r.selected())
    } else {
        format!(
            "{} matches the {} of {} (position {} of the chain)",
            r.named(),
            r.selected(),
            subject(pinned, anchor),
            anchor + 1
        )
    };
    let leaf_der = CertificateDer::from(leaf.as_slice());
    let ee = webpki::EndEntityCert::try_from(&leaf_der).map_err(|e| {
        DaneError::NoMatch(format!(
            "{what}, but the server's certificate cannot be read ({})",
            in_words(&e)
        ))
    })?;
    // every certificate from the server's up to the one the record names, which DANE-TA
    // makes the trust anchor (and whose own dates, as a root's, are not checked)
    let path = chain.get(..anchor.max(1)).unwrap_or_default();
    if anchor == 0 {
        // the record pins the server's certificate itself: trusted as it is, with no issuer
        // to check, but its dates and name still count
        if let Some(e) = out_of_date(path, now) {
            return Err(DaneError::Expired(format!("{e} ({what})")));
        }
        if der::validity(leaf).is_none() {
            return Err(DaneError::NoMatch(format!(
                "{what}, but its validity dates cannot be read"
            )));
        }
    } else {
        let anchor_der = CertificateDer::from(pinned);
        let ta = webpki::anchor_from_trusted_cert(&anchor_der).map_err(|e| {
            DaneError::NoMatch(format!(
                "{what}, but that certificate cannot be used as a trust anchor ({})",
                in_words(&e)
            ))
        })?;
        let intermediates: Vec<CertificateDer<'_>> = chain
            .get(1..anchor)
            .unwrap_or_default()
            .iter()
            .map(|c| CertificateDer::from(c.as_slice()))
            .collect();
        let anchors = [ta];
        let time = UnixTime::since_unix_epoch(Duration::from_secs(now));
        let verified = ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &intermediates,
            time,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        );
        match verified {
            Ok(_) => {}
            Err(webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. }) => {
                let e = out_of_date(path, now).unwrap_or_else(|| {
                    "a certificate of the chain is outside its validity dates".to_string()
                });
                return Err(DaneError::Expired(format!("{e} ({what})")));
            }
            Err(e) => {
                return Err(DaneError::NoMatch(format!(
                    "{what}, but the server's certificate does not chain to it: {}",
                    in_words(&e)
                )));
            }
        }
    }
    let name = ServerName::try_from(host).map_err(|_| {
        DaneError::NameMismatch(format!(
            "{what}, but {host:?} is not a host name a certificate can be checked against"
        ))
    })?;
    if let Err(e) = ee.verify_is_valid_for_subject_name(&name) {
        let names = match &e {
            webpki::Error::CertNotValidForName(ctx) if !ctx.presented.is_empty() => ctx
                .presented
                .iter()
                .map(|n| presented_name(n))
                .collect::<Vec<_>>()
                .join(", "),
            webpki::Error::CertNotValidForName(_) => "no host name".to_string(),
            other => format!("names that cannot be read ({})", in_words(other)),
        };
        return Err(DaneError::NameMismatch(format!(
            "the server's certificate {} is for {names}, not {host} ({what})",
            subject(leaf, 0)
        )));
    }
    Ok(if anchor == 0 {
        format!("{what}, valid now and for {host}")
    } else {
        format!("{what}, to which the server's certificate chains, valid now and for {host}")
    })
}

/// The first certificate of `path` outside its validity dates at `now`, in words.
fn out_of_date(path: &[Vec<u8>], now: u64) -> Option<String> {
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    path.iter().enumerate().find_map(|(i, c)| {
        let (not_before, not_after) = der::validity(c)?;
        let info = der::cert_info(c);
        let who = match i {
            0 => "the server's certificate",
            _ => "the intermediate certificate",
        };
        let name = subject(c, i);
        if now < not_before {
            let when = info.map(|i| i.not_before).unwrap_or_default();
            Some(format!(
                "not yet valid: {who} {name} is valid only from {when} (check the clocks too)"
            ))
        } else if now > not_after {
            let when = info.map(|i| i.not_after).unwrap_or_default();
            Some(format!("expired: {who} {name} expired on {when}"))
        } else {
            None
        }
    })
}

/// A webpki refusal as the user reads it.
fn in_words(e: &webpki::Error) -> String {
    use webpki::Error as E;
    match e {
        E::UnknownIssuer => {
            "it is not issued by that certificate (nor through the certificates sent between them)"
                .to_string()
        }
        E::BadDer | E::BadDerTime | E::TrailingData(_) => "malformed certificate".to_string(),
        E::InvalidSignatureForPublicKey => "a signature in the chain is wrong".to_string(),
        E::CaUsedAsEndEntity => "the server's certificate is a CA certificate".to_string(),
        E::EndEntityUsedAsCa => "a certificate that is not a CA's issued another".to_string(),
        E::RequiredEkuNotFoundContext(_) => {
            "the server's certificate is not for TLS servers (extended key usage)".to_string()
        }
        E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            "a signature algorithm that is not supported".to_string()
        }
        E::UnsupportedCertVersion => "an unsupported certificate version".to_string(),
        E::UnsupportedCriticalExtension => "an unsupported critical extension".to_string(),
        E::NameConstraintViolation => "a name constraint of an issuer is violated".to_string(),
        E::PathLenConstraintViolated => "a path length constraint is violated".to_string(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
        KeyUsagePurpose, PublicKeyData,
    };

    const HOST: &str = "mx.probe.test";
    /// 2026-01-01
    const NOW: u64 = 1_767_225_600;

    fn sha256(b: &[u8]) -> Vec<u8> {
        digest::digest(&digest::SHA256, b).as_ref().to_vec()
    }

    fn sha512(b: &[u8]) -> Vec<u8> {
        digest::digest(&digest::SHA512, b).as_ref().to_vec()
    }

    fn tlsa(usage: u8, selector: u8, matching: u8, data: Vec<u8>) -> Tlsa {
        Tlsa {
            usage,
            selector,
            matching,
            data,
        }
    }

    struct Ca {
        issuer: CertifiedIssuer<'static, KeyPair>,
        spki: Vec<u8>,
    }

    fn new_ca(name: &str) -> Ca {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let spki = key.subject_public_key_info();
        let issuer = CertifiedIssuer::self_signed(p, key).unwrap();
        Ca { issuer, spki }
    }

    fn params(name: &str, from: i32, until: i32) -> CertificateParams {
        let mut p = CertificateParams::new(vec![name.to_string()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        p.not_before = rcgen::date_time_ymd(from, 1, 1);
        p.not_after = rcgen::date_time_ymd(until, 1, 1);
        p
    }

    /// A server certificate for `name`, valid between the two years, signed by `ca`; and the
    /// DER of its key's SubjectPublicKeyInfo.
    fn leaf(ca: &Ca, name: &str, from: i32, until: i32) -> (Vec<u8>, Vec<u8>) {
        let key = KeyPair::generate().unwrap();
        let cert = params(name, from, until)
            .signed_by(&key, &ca.issuer)
            .unwrap();
        (cert.der().to_vec(), key.subject_public_key_info())
    }

    /// A self-signed certificate for `name`, and its key's SubjectPublicKeyInfo.
    fn self_signed(name: &str, from: i32, until: i32) -> (Vec<u8>, Vec<u8>) {
        let key = KeyPair::generate().unwrap();
        let cert = params(name, from, until).self_signed(&key).unwrap();
        (cert.der().to_vec(), key.subject_public_key_info())
    }

    #[test]
    fn dane_ee_matches_the_server_certificate_whatever_its_name_dates_and_issuer() {
        // self-signed, for another name, expired: DANE-EE(3) does not care
        let (cert, spki) = self_signed("other.example", 2000, 2001);
        let chain = vec![cert.clone()];
        for r in [
            tlsa(3, 1, 1, sha256(&spki)),
            tlsa(3, 0, 1, sha256(&cert)),
            tlsa(3, 0, 2, sha512(&cert)),
            tlsa(3, 1, 2, sha512(&spki)),
            tlsa(3, 1, 0, spki.clone()),
            tlsa(3, 0, 0, cert.clone()),
        ] {
            let ok = check(std::slice::from_ref(&r), &chain, HOST, NOW)
                .unwrap_or_else(|e| panic!("{}: {e:?}", r.describe()));
            assert!(ok.starts_with("DANE-EE(3) record "), "{ok}");
            let what = if r.selector == 1 {
                "public key"
            } else {
                "certificate"
            };
            assert!(
                ok.ends_with(&format!("matches the server's {what}")),
                "{ok}"
            );
        }
        let ok = check(
            &[tlsa(3, 1, 1, sha256(&spki))],
            &chain,
            "mx.probe.test.",
            NOW,
        )
        .unwrap();
        assert_eq!(
            ok,
            format!(
                "DANE-EE(3) record {}: matches the server's public key",
                tlsa(3, 1, 1, sha256(&spki)).describe()
            )
        );

        // another key
        let (_, other) = self_signed(HOST, 2020, 2040);
        let r = tlsa(3, 1, 1, sha256(&other));
        match check(std::slice::from_ref(&r), &chain, HOST, NOW) {
            Err(DaneError::NoMatch(s)) => {
                assert!(s.contains(&r.describe()), "{s}");
                assert!(
                    s.contains("matches none of the 1 certificate presented"),
                    "{s}"
                );
                assert!(s.contains("CN=other.example"), "{s}");
            }
            other => panic!("{other:?}"),
        }
        // the right digest with the wrong selector or matching type does not match
        assert!(check(&[tlsa(3, 0, 1, sha256(&spki))], &chain, HOST, NOW).is_err());
        assert!(check(&[tlsa(3, 1, 2, sha256(&spki))], &chain, HOST, NOW).is_err());
        // DANE-EE(3) looks at the server's certificate only
        let ca = new_ca("Test CA");
        let (l, _) = leaf(&ca, HOST, 2020, 2040);
        let chain = vec![l, ca.issuer.der().to_vec()];
        assert!(check(&[tlsa(3, 1, 1, sha256(&ca.spki))], &chain, HOST, NOW).is_err());
    }

    #[test]
    fn dane_ta_validates_the_chain_to_the_matched_certificate() {
        let ca = new_ca("Test CA");
        let ca_der = ca.issuer.der().to_vec();
        let by_cert = tlsa(2, 0, 1, sha256(&ca_der));
        let by_key = tlsa(2, 1, 1, sha256(&ca.spki));

        let (good, _) = leaf(&ca, HOST, 2020, 2040);
        let chain = vec![good, ca_der.clone()];
        for r in [&by_cert, &by_key, &tlsa(2, 0, 0, ca_der.clone())] {
            let ok = check(std::slice::from_ref(r), &chain, HOST, NOW)
                .unwrap_or_else(|e| panic!("{}: {e:?}", r.describe()));
            assert!(ok.starts_with("DANE-TA(2) record 2 "), "{ok}");
            assert!(ok.contains("CN=Test CA (position 2 of the chain)"), "{ok}");
            assert!(ok.ends_with("valid now and for mx.probe.test"), "{ok}");
        }
        assert!(
            check(
                std::slice::from_ref(&by_cert),
                &chain,
                "MX.Probe.Test.",
                NOW
            )
            .is_ok()
        );

        // for another name
        let (wrong, _) = leaf(&ca, "other.example", 2020, 2040);
        match check(
            std::slice::from_ref(&by_cert),
            &[wrong, ca_der.clone()],
            HOST,
            NOW,
        ) {
            Err(DaneError::NameMismatch(s)) => {
                assert!(
                    s.starts_with("the server's certificate CN=other.example is for other.example, not mx.probe.test ("),
                    "{s}"
                );
            }
            other => panic!("{other:?}"),
        }

        // out of date; and both out of date and for another name: the dates first
        for name in [HOST, "other.example"] {
            let (old, _) = leaf(&ca, name, 2000, 2001);
            match check(
                std::slice::from_ref(&by_key),
                &[old, ca_der.clone()],
                HOST,
                NOW,
            ) {
                Err(DaneError::Expired(s)) => {
                    assert!(
                        s.starts_with(&format!(
                            "expired: the server's certificate CN={name} expired on 2001-01-01 00:00:00 UTC ("
                        )),
                        "{s}"
                    );
                }
                other => panic!("{other:?}"),
            }
        }
        let (early, _) = leaf(&ca, HOST, 2090, 2095);
        match check(
            std::slice::from_ref(&by_key),
            &[early, ca_der.clone()],
            HOST,
            NOW,
        ) {
            Err(DaneError::Expired(s)) => assert!(s.starts_with("not yet valid: "), "{s}"),
            other => panic!("{other:?}"),
        }

        // a record for an unrelated CA
        let other = new_ca("Other CA");
        let (l, _) = leaf(&ca, HOST, 2020, 2040);
        let chain = vec![l, ca_der.clone()];
        for r in [
            tlsa(2, 0, 1, sha256(other.issuer.der())),
            tlsa(2, 1, 1, sha256(&other.spki)),
            tlsa(2, 1, 2, sha512(&other.spki)),
        ] {
            match check(std::slice::from_ref(&r), &chain, HOST, NOW) {
                Err(DaneError::NoMatch(s)) => {
                    assert!(
                        s.contains("matches none of the 2 certificates presented"),
                        "{s}"
                    )
                }
                other => panic!("{other:?}"),
            }
        }
        // the unrelated CA sent along: it matches, but the server's certificate does not
        // chain to it
        let chain = vec![chain[0].clone(), other.issuer.der().to_vec()];
        match check(&[tlsa(2, 1, 1, sha256(&other.spki))], &chain, HOST, NOW) {
            Err(DaneError::NoMatch(s)) => {
                assert!(
                    s.starts_with("the TLSA record 2 1 1 ") && s.contains(" authenticates none of"),
                    "{s}"
                );
                assert!(s.contains("does not chain to it"), "{s}");
                assert!(s.contains("CN=Other CA (position 2 of the chain)"), "{s}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// An intermediate CA for `name` signed by `root`, valid between the two years.
    fn intermediate(root: &Ca, name: &str, from: i32, until: i32) -> Ca {
        let mut p = params(name, from, until);
        p.subject_alt_names = Vec::new();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let spki = key.subject_public_key_info();
        let issuer = CertifiedIssuer::signed_by(p, key, &root.issuer).unwrap();
        Ca { issuer, spki }
    }

    #[test]
    fn dane_ta_through_an_intermediate() {
        let root = new_ca("Test Root");
        let root_der = root.issuer.der().to_vec();
        let inter = intermediate(&root, "Test Intermediate", 2020, 2040);
        let inter_der = inter.issuer.der().to_vec();
        let (l, _) = leaf(&inter, HOST, 2020, 2040);
        let chain = vec![l.clone(), inter_der.clone(), root_der.clone()];
        let by_root = tlsa(2, 1, 1, sha256(&root.spki));
        let ok = check(std::slice::from_ref(&by_root), &chain, HOST, NOW).unwrap();
        assert!(
            ok.contains("CN=Test Root (position 3 of the chain)"),
            "{ok}"
        );
        let ok = check(&[tlsa(2, 0, 2, sha512(&inter_der))], &chain, HOST, NOW).unwrap();
        assert!(
            ok.contains("CN=Test Intermediate (position 2 of the chain)"),
            "{ok}"
        );
        // the root the record names is not sent: nothing to match
        let r = check(std::slice::from_ref(&by_root), &chain[..2], HOST, NOW);
        assert!(matches!(r, Err(DaneError::NoMatch(_))), "{r:?}");
        // the intermediate is missing: the server's certificate does not chain to the root
        match check(
            std::slice::from_ref(&by_root),
            &[l, root_der.clone()],
            HOST,
            NOW,
        ) {
            Err(DaneError::NoMatch(s)) => assert!(s.contains("does not chain to it"), "{s}"),
            other => panic!("{other:?}"),
        }

        // an expired intermediate
        let old = intermediate(&root, "Old Intermediate", 2000, 2001);
        let (l, _) = leaf(&old, HOST, 2020, 2040);
        let chain = vec![l, old.issuer.der().to_vec(), root_der];
        match check(&[by_root], &chain, HOST, NOW) {
            Err(DaneError::Expired(s)) => assert!(
                s.starts_with("expired: the intermediate certificate CN=Old Intermediate expired on 2001-01-01 00:00:00 UTC ("),
                "{s}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn dane_ta_on_the_server_certificate_itself_checks_its_dates_and_name() {
        // self-signed, or issued by a CA that is not sent: the record makes it trusted
        let ca = new_ca("Test CA");
        let (issued, _) = leaf(&ca, HOST, 2020, 2040);
        let (own, own_spki) = self_signed(HOST, 2020, 2040);
        for (cert, r) in [
            (&issued, tlsa(2, 0, 1, sha256(&issued))),
            (&own, tlsa(2, 1, 1, sha256(&own_spki))),
        ] {
            let ok = check(
                std::slice::from_ref(&r),
                std::slice::from_ref(cert),
                HOST,
                NOW,
            )
            .unwrap_or_else(|e| panic!("{}: {e:?}", r.describe()));
            assert!(ok.contains("matches the server's "), "{ok}");
            assert!(
                ok.ends_with("itself, valid now and for mx.probe.test"),
                "{ok}"
            );
        }
        let (old, _) = self_signed(HOST, 2000, 2001);
        let r = check(&[tlsa(2, 0, 1, sha256(&old))], &[old], HOST, NOW);
        assert!(matches!(r, Err(DaneError::Expired(_))), "{r:?}");
        let (early, _) = self_signed(HOST, 2090, 2095);
        let r = check(&[tlsa(2, 0, 1, sha256(&early))], &[early], HOST, NOW);
        assert!(
            matches!(r, Err(DaneError::Expired(ref s)) if s.starts_with("not yet valid")),
            "{r:?}"
        );
        let (wrong, _) = self_signed("other.example", 2020, 2040);
        let r = check(&[tlsa(2, 0, 1, sha256(&wrong))], &[wrong], HOST, NOW);
        assert!(matches!(r, Err(DaneError::NameMismatch(_))), "{r:?}");
    }

    #[test]
    fn any_matching_record_is_enough_and_the_most_specific_failure_is_reported() {
        let ca = new_ca("Test CA");
        let ca_der = ca.issuer.der().to_vec();
        let (l, spki) = leaf(&ca, HOST, 2020, 2040);
        let chain = vec![l, ca_der.clone()];
        let (_, stranger) = self_signed(HOST, 2020, 2040);
        let miss = tlsa(3, 1, 1, sha256(&stranger));
        let hit = tlsa(3, 1, 1, sha256(&spki));
        assert!(check(&[miss.clone(), hit.clone()], &chain, HOST, NOW).is_ok());
        assert!(check(&[hit, miss.clone()], &chain, HOST, NOW).is_ok());

        let other_ca = tlsa(2, 0, 1, sha256(&stranger));
        match check(&[miss.clone(), other_ca.clone()], &chain, HOST, NOW) {
            Err(DaneError::NoMatch(s)) => assert!(
                s.starts_with(&format!(
                    "none of the 2 TLSA records ({}, {}) matches the 2 certificates presented (the server's: CN=mx.probe.test)",
                    miss.describe(),
                    other_ca.describe()
                )),
                "{s}"
            ),
            other => panic!("{other:?}"),
        }
        // unusable records are ignored, and said so
        let pkix = tlsa(1, 1, 1, sha256(&spki));
        match check(&[miss.clone(), pkix], &chain, HOST, NOW) {
            Err(DaneError::NoMatch(s)) => {
                assert!(
                    s.ends_with(
                        "; 1 more record ignored (a usage, selector or matching type SMTP does \
                         not use)"
                    ),
                    "{s}"
                )
            }
            other => panic!("{other:?}"),
        }
        // a matching DANE-TA(2) record whose chain is out of date outranks one that does not
        // match at all
        let (old, _) = leaf(&ca, HOST, 2000, 2001);
        let ta = tlsa(2, 1, 1, sha256(&ca.spki));
        let r = check(&[miss, ta], &[old, ca_der], HOST, NOW);
        assert!(matches!(r, Err(DaneError::Expired(_))), "{r:?}");
    }

    #[test]
    fn only_the_usages_selectors_and_matching_types_of_smtp_are_usable() {
        for (u, s, m) in [(2, 0, 0), (2, 1, 1), (3, 1, 1), (3, 0, 2), (3, 1, 0)] {
            assert!(tlsa(u, s, m, vec![1]).usable(), "{u} {s} {m}");
        }
        for (u, s, m) in [
            (1, 1, 1),
            (0, 0, 1),
            (3, 2, 1),
            (3, 1, 3),
            (4, 1, 1),
            (255, 0, 0),
        ] {
            assert!(!tlsa(u, s, m, vec![1]).usable(), "{u} {s} {m}");
        }
    }

    #[test]
    fn describes_records_briefly() {
        assert_eq!(
            tlsa(3, 1, 1, (0u8..32).collect()).describe(),
            "3 1 1 0001020304050607…"
        );
        assert_eq!(
            tlsa(2, 0, 0, vec![0xab, 0x12, 0xcd, 0xef, 0, 1, 2, 0xff]).describe(),
            "2 0 0 ab12cdef000102ff"
        );
        assert_eq!(tlsa(3, 0, 1, vec![0xab, 0x12]).describe(), "3 0 1 ab12");
        assert_eq!(tlsa(3, 0, 1, vec![]).describe(), "3 0 1");
        assert_eq!(
            tlsa(3, 1, 1, vec![1; 9]).describe(),
            "3 1 1 0101010101010101…"
        );
    }

    #[test]
    fn garbage_certificates_match_nothing_and_do_not_panic() {
        let (cert, spki) = self_signed(HOST, 2020, 2040);
        let ca = new_ca("Test CA");
        let records = [
            tlsa(3, 1, 1, sha256(&spki)),
            tlsa(3, 0, 1, sha256(&cert)),
            tlsa(2, 1, 1, sha256(&ca.spki)),
            tlsa(2, 0, 2, sha512(&cert)),
        ];
        let garbage: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x30],
            vec![0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            vec![0x30, 0x03, 0x30, 0x01, 0x02],
            b"not a certificate at all".to_vec(),
            vec![0; 300],
        ];
        for g in &garbage {
            let r = check(&records, &[g.clone(), g.clone()], HOST, NOW);
            assert!(matches!(r, Err(DaneError::NoMatch(_))), "{r:?}");
        }
        assert!(matches!(
            check(&records, &[], HOST, NOW),
            Err(DaneError::NoMatch(_))
        ));
        // every truncation of a real certificate, pinned by its full bytes or by a digest
        for cut in 0..cert.len() {
            let part = cert[..cut].to_vec();
            let pinned = [tlsa(2, 0, 0, part.clone()), tlsa(2, 0, 1, sha256(&part))];
            for r in records.iter().chain(&pinned) {
                let _ = check(
                    std::slice::from_ref(r),
                    std::slice::from_ref(&part),
                    HOST,
                    NOW,
                );
                let _ = check(
                    std::slice::from_ref(r),
                    &[part.clone(), cert.clone()],
                    "",
                    NOW,
                );
            }
        }
        // a record naming the garbage itself matches the bytes, but DANE-TA(2) cannot read them
        let g = b"not a certificate at all".to_vec();
        let r = check(
            &[tlsa(2, 0, 0, g.clone())],
            std::slice::from_ref(&g),
            HOST,
            NOW,
        );
        assert!(matches!(r, Err(DaneError::NoMatch(_))), "{r:?}");
        // absurd times
        for now in [0, u64::MAX, i64::MAX as u64 + 1] {
            let _ = check(&records, std::slice::from_ref(&cert), HOST, now);
        }
    }

    proptest::proptest! {
        // records and certificates come from the network: any bytes, no panic
        #[test]
        fn check_never_panics(
            records in proptest::collection::vec(
                (0u8..5, 0u8..3, 0u8..4, proptest::collection::vec(proptest::prelude::any::<u8>(), 0..70)),
                0..4,
            ),
            chain in proptest::collection::vec(
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
                0..3,
            ),
            now in proptest::prelude::any::<u64>(),
        ) {
            let records: Vec<Tlsa> = records
                .into_iter()
                .map(|(usage, selector, matching, data)| Tlsa { usage, selector, matching, data })
                .collect();
            let _ = check(&records, &chain, "mx.example.test", now);
            for r in &records {
                let _ = r.describe();
            }
        }
    }
}
