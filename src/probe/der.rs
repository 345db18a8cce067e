//! Just enough DER to describe a server certificate in a message: subject, issuer, validity,
//! and whether it issued itself. Validation is rustls's job; this only reads, and gives up
//! (returns `None`) on anything it does not expect.

/// What the probe says about a certificate. Names are decoded without hiding anything (see
/// `sanitize::decode`): they come from the network, and the renderers escape them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// Issuer and subject are the same name: a self-signed (or self-issued) certificate.
    pub self_issued: bool,
    pub not_before: String,
    pub not_after: String,
}

struct Tlv<'a> {
    tag: u8,
    body: &'a [u8],
    whole: &'a [u8],
}

/// One tag-length-value, and what follows it. Definite lengths of up to 4 bytes only.
fn read_tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = input.get(2..2 + n)?;
        let len = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    let whole = input.get(..end)?;
    let body = input.get(header..end)?;
    let rest = input.get(end..)?;
    Some((Tlv { tag, body, whole }, rest))
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;

/// Reads the parts of a certificate the messages need.
pub fn cert_info(der: &[u8]) -> Option<CertInfo> {
    let f = tbs_fields(der)?;
    let (nb, after) = read_tlv(f.validity.body)?;
    let (na, _) = read_tlv(after)?;
    Some(CertInfo {
        subject: name_to_string(f.subject.body),
        issuer: name_to_string(f.issuer.body),
        self_issued: f.issuer.whole == f.subject.whole,
        not_before: time_to_string(&nb)?,
        not_after: time_to_string(&na)?,
    })
}

/// The tbsCertificate's fields the probe reads, and what follows the subject.
struct TbsFields<'a> {
    issuer: Tlv<'a>,
    validity: Tlv<'a>,
    subject: Tlv<'a>,
    /// From the subjectPublicKeyInfo on.
    rest: &'a [u8],
}

/// The tbsCertificate's fields up to the subject (each checked to be a SEQUENCE), and what
/// follows it.
fn tbs_fields(der: &[u8]) -> Option<TbsFields<'_>> {
    let (cert, _) = read_tlv(der)?;
    if cert.tag != SEQUENCE {
        return None;
    }
    let (tbs, _) = read_tlv(cert.body)?;
    if tbs.tag != SEQUENCE {
        return None;
    }
    let (mut item, mut rest) = read_tlv(tbs.body)?;
    if item.tag == 0xa0 {
        // [0] EXPLICIT version
        (item, rest) = read_tlv(rest)?;
    }
    // item: serialNumber
    if item.tag != 0x02 {
        return None;
    }
    let (_signature, rest) = read_tlv(rest)?;
    let (issuer, rest) = read_tlv(rest)?;
    let (validity, rest) = read_tlv(rest)?;
    let (subject, rest) = read_tlv(rest)?;
    if issuer.tag != SEQUENCE || validity.tag != SEQUENCE || subject.tag != SEQUENCE {
        return None;
    }
    Some(TbsFields {
        issuer,
        validity,
        subject,
        rest,
    })
}

/// The certificate's SubjectPublicKeyInfo as it is encoded in it, tag and length included:
/// what a TLSA record with selector 1 hashes or holds.
pub fn spki(der: &[u8]) -> Option<&[u8]> {
    let (spki, _) = read_tlv(tbs_fields(der)?.rest)?;
    (spki.tag == SEQUENCE).then_some(spki.whole)
}

/// The certificate's validity as seconds since 1970 (negative before): (notBefore, notAfter).
pub fn validity(der: &[u8]) -> Option<(i64, i64)> {
    let (nb, after) = read_tlv(tbs_fields(der)?.validity.body)?;
    let (na, _) = read_tlv(after)?;
    Some((time_to_unix(&nb)?, time_to_unix(&na)?))
}

/// `CN=mx.contoso.com, O=Contoso` from an X.501 Name (the RDN sequence's contents). Only the
/// common attributes are shown; an empty name reads `(empty name)`.
fn name_to_string(mut rdns: &[u8]) -> String {
    let mut parts = Vec::new();
    while let Some((set, rest)) = read_tlv(rdns) {
        rdns = rest;
        if set.tag != SET {
            continue;
        }
        let mut attrs = set.body;
        while let Some((atv, rest)) = read_tlv(attrs) {
            attrs = rest;
            let Some((oid, after)) = read_tlv(atv.body) else {
                continue;
            };
            let Some((value, _)) = read_tlv(after) else {
                continue;
            };
            let label = match oid.body {
                [0x55, 0x04, 0x03] => "CN",
                [0x55, 0x04, 0x0a] => "O",
                [0x55, 0x04, 0x0b] => "OU",
                [0x55, 0x04, 0x06] => "C",
                _ => continue,
            };
            parts.push(format!("{label}={}", string_value(&value)));
        }
    }
    if parts.is_empty() {
        "(empty name)".to_string()
    } else {
        parts.join(", ")
    }
}

fn string_value(v: &Tlv<'_>) -> String {
    match v.tag {
        // BMPString: UTF-16BE
        0x1e => {
            // ok: `chunks` never yields an empty chunk, so c[0] exists
            let units: Vec<u16> = v
                .body
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            char::decode_utf16(units)
                .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
        _ => crate::sanitize::decode(v.body),
    }
}

/// UTCTime `YYMMDDHHMMSSZ` or GeneralizedTime `YYYYMMDDHHMMSSZ` as `YYYY-MM-DD HH:MM:SS UTC`.
fn time_to_string(t: &Tlv<'_>) -> Option<String> {
    let s = std::str::from_utf8(t.body).ok()?;
    let digits = s.strip_suffix('Z')?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let full = match (t.tag, digits.len()) {
        (0x17, 12) => {
            let yy: u32 = digits.get(..2)?.parse().ok()?;
            format!("{}{}", if yy >= 50 { "19" } else { "20" }, digits)
        }
        (0x18, 14) => digits.to_string(),
        _ => return None,
    };
    Some(format!(
        "{}-{}-{} {}:{}:{} UTC",
        full.get(0..4)?,
        full.get(4..6)?,
        full.get(6..8)?,
        full.get(8..10)?,
        full.get(10..12)?,
        full.get(12..14)?
    ))
}

/// UTCTime or GeneralizedTime as seconds since 1970, through `time_to_string`'s reading.
fn time_to_unix(t: &Tlv<'_>) -> Option<i64> {
    let s = time_to_string(t)?;
    let civil: jiff::civil::DateTime = s.strip_suffix(" UTC")?.parse().ok()?;
    let at = jiff::tz::TimeZone::UTC.to_timestamp(civil).ok()?;
    Some(at.as_second())
}

/// Seconds since 1970 as `YYYY-MM-DD HH:MM:SS UTC` (proleptic Gregorian calendar).
pub fn unix_to_string(secs: u64) -> String {
    match i64::try_from(secs).map(jiff::Timestamp::from_second) {
        Ok(Ok(t)) => t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
        _ => format!("{secs} seconds after 1970"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if body.len() < 0x80 {
            v.push(body.len() as u8);
        } else {
            v.push(0x82);
            v.extend_from_slice(&(body.len() as u16).to_be_bytes());
        }
        v.extend_from_slice(body);
        v
    }

    fn name(cn: &str) -> Vec<u8> {
        let atv = tlv(
            SEQUENCE,
            &[tlv(0x06, &[0x55, 0x04, 0x03]), tlv(0x0c, cn.as_bytes())].concat(),
        );
        tlv(SEQUENCE, &tlv(SET, &atv))
    }

    fn cert(issuer: &str, subject: &str) -> Vec<u8> {
        let tbs = [
            tlv(0xa0, &tlv(0x02, &[2])),
            tlv(0x02, &[1, 2, 3]),
            tlv(SEQUENCE, &tlv(0x06, &[1, 2])),
            name(issuer),
            tlv(
                SEQUENCE,
                &[tlv(0x17, b"000101000000Z"), tlv(0x18, b"20510203040506Z")].concat(),
            ),
            name(subject),
            tlv(SEQUENCE, &[0u8; 200]),
        ]
        .concat();
        tlv(
            SEQUENCE,
            &[tlv(SEQUENCE, &tbs), tlv(SEQUENCE, &[]), tlv(0x03, &[0])].concat(),
        )
    }

    #[test]
    fn reads_names_and_times() {
        let info = cert_info(&cert("Test CA", "mx.probe.test")).unwrap();
        assert_eq!(info.subject, "CN=mx.probe.test");
        assert_eq!(info.issuer, "CN=Test CA");
        assert!(!info.self_issued);
        assert_eq!(info.not_before, "2000-01-01 00:00:00 UTC");
        assert_eq!(info.not_after, "2051-02-03 04:05:06 UTC");
        assert!(cert_info(&cert("same", "same")).unwrap().self_issued);
    }

    #[test]
    fn gives_up_on_garbage() {
        assert_eq!(cert_info(b""), None);
        assert_eq!(cert_info(b"\x30\x84\xff\xff\xff\xff"), None);
        assert_eq!(cert_info(&[0x30, 0x03, 0x30, 0x01]), None);
        let c = cert("a", "b");
        for cut in 0..c.len() {
            let _ = cert_info(&c[..cut]);
        }
    }

    #[test]
    fn reads_spki_and_validity() {
        use rcgen::{CertificateParams, KeyPair, PublicKeyData};
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(vec!["mx.probe.test".to_string()]).unwrap();
        p.not_before = rcgen::date_time_ymd(2000, 1, 1);
        p.not_after = rcgen::date_time_ymd(2051, 2, 3);
        let c = p.self_signed(&key).unwrap();
        let der = c.der().as_ref();
        assert_eq!(spki(der), Some(key.subject_public_key_info().as_slice()));
        assert_eq!(validity(der), Some((946_684_800, 2_558_995_200)));
        // the hand-made one: a GeneralizedTime with seconds
        let c = cert("a", "b");
        assert_eq!(validity(&c), Some((946_684_800, 2_559_009_906)));
        assert_eq!(spki(&c).map(<[u8]>::len), Some(204));
        for cut in 0..c.len() {
            let _ = (spki(&c[..cut]), validity(&c[..cut]));
        }
        assert_eq!(spki(b"\x30\x03\x30\x01\x02"), None);
        assert_eq!(validity(b""), None);
    }

    #[test]
    fn formats_unix_time() {
        assert_eq!(unix_to_string(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(unix_to_string(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(unix_to_string(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }
}
