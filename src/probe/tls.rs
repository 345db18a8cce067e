//! The TLS side of the probe: the handshake after STARTTLS and the certificate check, with
//! rustls, against the built-in public roots (Mozilla's, from `webpki-roots`: close to the
//! public-CA trust a Microsoft 365 connector applies, and the same on every machine) or the
//! roots of `--ca-file`. A certificate failure says which: expired, not yet valid, wrong
//! name, untrusted issuer, self-signed.

use super::der::{self, CertInfo};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore,
    SignatureScheme, StreamOwned,
};
use std::io;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Why a file of trusted certificates cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RootsError {
    /// The file could not be read.
    #[error("{0}")]
    Read(#[source] io::Error),
    /// Not PEM text.
    #[error("not a PEM file: {0}")]
    NotPem(String),
    /// Certificates, none of which can be a trust anchor.
    #[error("none of its {0} certificates can be used as a root")]
    Unusable(usize),
    /// No certificate at all.
    #[error("no certificate (-----BEGIN CERTIFICATE-----) in it")]
    NoCertificate,
}

/// The trust anchors to validate against.
#[derive(Debug)]
pub struct Roots {
    store: Arc<RootCertStore>,
    /// `None` for the built-in set.
    pub file: Option<PathBuf>,
    /// The certificates of `--ca-file` as they are: one of them presented by the server is
    /// trusted as itself (pinned), whatever its CA flag, as openssl and curl do.
    pinned: Arc<Vec<Vec<u8>>>,
}

impl Roots {
    pub fn builtin() -> Roots {
        Roots {
            store: Arc::new(RootCertStore::from_iter(
                webpki_roots::TLS_SERVER_ROOTS.iter().cloned(),
            )),
            file: None,
            pinned: Arc::default(),
        }
    }

    /// Reads the CA certificates of a PEM file. An error is one line for the user.
    pub fn from_pem_file(path: &Path) -> Result<Roots, RootsError> {
        let bytes = std::fs::read(path).map_err(RootsError::Read)?;
        let mut store = RootCertStore::empty();
        let mut pinned = Vec::new();
        let mut bad = 0usize;
        for cert in CertificateDer::pem_slice_iter(&bytes) {
            let cert = cert.map_err(|e| RootsError::NotPem(e.to_string()))?;
            pinned.push(cert.as_ref().to_vec());
            if store.add(cert).is_err() {
                bad += 1;
            }
        }
        if store.is_empty() && pinned.is_empty() {
            return Err(if bad > 0 {
                RootsError::Unusable(bad)
            } else {
                RootsError::NoCertificate
            });
        }
        Ok(Roots {
            store: Arc::new(store),
            file: Some(path.to_path_buf()),
            pinned: Arc::new(pinned),
        })
    }
}

/// What the server presented, kept by the verifier so that a failure can be explained.
#[derive(Debug, Default, Clone)]
struct Seen {
    end_entity: Vec<u8>,
    intermediates: usize,
}

/// rustls's own verifier, recording the chain it was shown.
#[derive(Debug)]
struct Recorder {
    inner: Arc<WebPkiServerVerifier>,
    seen: Mutex<Option<Seen>>,
    pinned: Arc<Vec<Vec<u8>>>,
    /// With `Check::Keep`: any chain is let through (the handshake's signature is still
    /// checked), and the PKIX verdict kept here for the caller.
    any_chain: bool,
    refused: Mutex<Option<rustls::Error>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut g) = self.seen.lock() {
            *g = Some(Seen {
                end_entity: end_entity.as_ref().to_vec(),
                intermediates: intermediates.len(),
            });
        }
        let verdict = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let verdict = match verdict {
            // the very certificate the user trusts (pinned in --ca-file): its issuer and CA
            // flag do not matter, its dates and name still do
            Err(rustls::Error::InvalidCertificate(ref ce))
                if self
                    .pinned
                    .iter()
                    .any(|p| p.as_slice() == end_entity.as_ref())
                    && !matches!(
                        ce,
                        CertificateError::Expired
                            | CertificateError::ExpiredContext { .. }
                            | CertificateError::NotValidYet
                            | CertificateError::NotValidYetContext { .. }
                            | CertificateError::NotValidForName
                            | CertificateError::NotValidForNameContext { .. }
                            | CertificateError::Revoked
                    ) =>
            {
                let ee = webpki::EndEntityCert::try_from(end_entity).map_err(|_| {
                    rustls::Error::InvalidCertificate(CertificateError::BadEncoding)
                })?;
                ee.verify_is_valid_for_subject_name(server_name)
                    .map_err(|_| {
                        rustls::Error::InvalidCertificate(CertificateError::NotValidForName)
                    })?;
                Ok(ServerCertVerified::assertion())
            }
            v => v,
        };
        if !self.any_chain {
            return verdict;
        }
        if let (Err(e), Ok(mut g)) = (verdict, self.refused.lock()) {
            *g = Some(e);
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Why the TLS step failed.
#[derive(Debug)]
pub enum TlsError {
    /// The certificate was refused: a short reason (`expired`, `wrong name`, ...) and the
    /// whole sentence.
    Certificate {
        reason: &'static str,
        detail: String,
    },
    /// The handshake failed for another reason (no common protocol or cipher, an alert).
    Negotiation(String),
    /// The socket failed (time-out, reset, closed).
    Io(io::Error),
    /// Our side could not even start (a name rustls cannot use, a broken setup).
    Setup(String),
}

/// A completed handshake.
pub struct Session {
    pub stream: StreamOwned<ClientConnection, super::smtp::Deadlined>,
    /// `TLS 1.3, TLS13_AES_256_GCM_SHA384; certificate CN=... issued by CN=..., valid until ...`
    pub summary: String,
    /// The certificates the server presented (DER), its own first.
    pub chain: Vec<Vec<u8>>,
    /// With `Check::Keep`, why the certificate fails PKIX validation (a short reason and the
    /// whole sentence, as in `TlsError::Certificate`), `None` when it passes.
    pub pkix: Option<(&'static str, String)>,
}

/// How the server's certificate is judged in the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Against the trusted roots, for the name (PKIX): a failure ends the handshake.
    Pkix,
    /// The same check, but its verdict is kept in the session instead of ending the
    /// handshake: for DANE (the records decide) and opportunistic TLS (mail goes anyway).
    Keep,
}

/// rustls's own PKIX verifier (webpki, ring) over the trusted roots.
pub(super) fn pkix_verifier(roots: &Roots) -> Result<Arc<WebPkiServerVerifier>, String> {
    WebPkiServerVerifier::builder_with_provider(roots.store.clone(), Arc::new(ring_provider()))
        .build()
        .map_err(|e| format!("cannot use the trusted roots: {e}"))
}

/// A TLS client configuration of the probe (ring, the safe protocol versions, no client
/// certificate) whose certificates `verifier` judges.
pub(super) fn client_config(verifier: Arc<dyn ServerCertVerifier>) -> Result<ClientConfig, String> {
    Ok(
        ClientConfig::builder_with_provider(Arc::new(ring_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth(),
    )
}

fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Performs the handshake on `tcp` for `name` (a DNS name or an IP address), within
/// `timeout` as a whole, and checks the certificate as `check` says.
pub fn handshake(
    mut tcp: TcpStream,
    name: &str,
    roots: &Roots,
    timeout: Duration,
    check: Check,
) -> Result<Session, TlsError> {
    let recorder = Arc::new(Recorder {
        inner: pkix_verifier(roots).map_err(TlsError::Setup)?,
        seen: Mutex::new(None),
        pinned: roots.pinned.clone(),
        any_chain: check == Check::Keep,
        refused: Mutex::new(None),
    });
    let config = client_config(recorder.clone()).map_err(TlsError::Setup)?;
    let server_name = ServerName::try_from(name.trim_end_matches('.').to_string())
        .map_err(|_| TlsError::Setup(format!("`{name}` is not a host name or an IP address")))?;
    let mut conn = ClientConnection::new(Arc::new(config), server_name)
        .map_err(|e| TlsError::Setup(e.to_string()))?;

    let deadline = Instant::now() + timeout;
    while conn.is_handshaking() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(TlsError::Io(io::ErrorKind::TimedOut.into()));
        }
        tcp.set_read_timeout(Some(left)).map_err(TlsError::Io)?;
        tcp.set_write_timeout(Some(left)).map_err(TlsError::Io)?;
        while conn.wants_write() {
            conn.write_tls(&mut tcp).map_err(TlsError::Io)?;
        }
        if !conn.is_handshaking() {
            break;
        }
        if conn.wants_read() {
            let n = match conn.read_tls(&mut tcp) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(TlsError::Io(e)),
            };
            if n == 0 {
                return Err(TlsError::Io(io::ErrorKind::UnexpectedEof.into()));
            }
            if let Err(e) = conn.process_new_packets() {
                // tell the server why (the alert is queued), then explain
                while conn.wants_write() {
                    if conn.write_tls(&mut tcp).is_err() {
                        break;
                    }
                }
                let seen = recorder.seen.lock().ok().and_then(|g| g.clone());
                return Err(classify(&e, seen.as_ref()));
            }
        }
    }
    while conn.wants_write() {
        conn.write_tls(&mut tcp).map_err(TlsError::Io)?;
    }
    let summary = describe(&conn);
    let chain = conn
        .peer_certificates()
        .map(|c| c.iter().map(|d| d.as_ref().to_vec()).collect())
        .unwrap_or_default();
    let refused = recorder.refused.lock().ok().and_then(|mut g| g.take());
    let pkix = refused.map(|e| {
        let seen = recorder.seen.lock().ok().and_then(|g| g.clone());
        match classify(&e, seen.as_ref()) {
            TlsError::Certificate { reason, detail } => (reason, detail),
            TlsError::Negotiation(d) | TlsError::Setup(d) => ("invalid", d),
            TlsError::Io(e) => ("invalid", e.to_string()),
        }
    });
    Ok(Session {
        stream: StreamOwned::new(conn, super::smtp::Deadlined::new(tcp)),
        summary,
        chain,
        pkix,
    })
}

fn describe(conn: &ClientConnection) -> String {
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3".to_string(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2".to_string(),
        Some(v) => format!("{v:?}"),
        None => "TLS".to_string(),
    };
    let suite = conn
        .negotiated_cipher_suite()
        .map(|s| format!(", {:?}", s.suite()))
        .unwrap_or_default();
    let cert = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|c| der::cert_info(c.as_ref()))
        .map(|i| {
            format!(
                "; certificate {} issued by {}, valid until {}",
                i.subject, i.issuer, i.not_after
            )
        })
        .unwrap_or_default();
    format!("{version}{suite}{cert}")
}

/// `DnsName("mx.contoso.com")` or `IpAddress(192.0.2.1)` (how webpki lists the names in a
/// certificate) as `mx.contoso.com` or `192.0.2.1`; other kinds are kept as they are.
pub(super) fn presented_name(n: &str) -> &str {
    n.strip_prefix("DnsName(\"")
        .and_then(|r| r.strip_suffix("\")"))
        .or_else(|| {
            n.strip_prefix("IpAddress(")
                .and_then(|r| r.strip_suffix(')'))
        })
        .unwrap_or(n)
}

/// Turns a rustls error into what the user reads.
fn classify(e: &rustls::Error, seen: Option<&Seen>) -> TlsError {
    let info: Option<CertInfo> = seen.and_then(|s| der::cert_info(&s.end_entity));
    let who = info
        .as_ref()
        .map(|i| format!("the certificate {}", i.subject))
        .unwrap_or_else(|| "the certificate".to_string());
    let cert = |reason: &'static str, detail: String| TlsError::Certificate { reason, detail };
    match e {
        rustls::Error::InvalidCertificate(ce) => match ce {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                let when = match (ce, &info) {
                    (_, Some(i)) => i.not_after.clone(),
                    (CertificateError::ExpiredContext { not_after, .. }, None) => {
                        der::unix_to_string(not_after.as_secs())
                    }
                    _ => "an earlier date".to_string(),
                };
                cert("expired", format!("expired: {who} expired on {when}"))
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                let when = match (ce, &info) {
                    (_, Some(i)) => i.not_before.clone(),
                    (CertificateError::NotValidYetContext { not_before, .. }, None) => {
                        der::unix_to_string(not_before.as_secs())
                    }
                    _ => "a later date".to_string(),
                };
                cert(
                    "not yet valid",
                    format!(
                        "not yet valid: {who} is valid only from {when} (check the clocks too)"
                    ),
                )
            }
            CertificateError::NotValidForNameContext {
                expected,
                presented,
            } => cert(
                "wrong name",
                format!(
                    "wrong name: {who} is not valid for {}; it names {}",
                    expected.to_str(),
                    if presented.is_empty() {
                        "no host at all".to_string()
                    } else {
                        presented
                            .iter()
                            .map(|n| presented_name(n))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
            ),
            CertificateError::NotValidForName => cert(
                "wrong name",
                format!("wrong name: {who} is not valid for the expected name"),
            ),
            CertificateError::UnknownIssuer => match (&info, seen) {
                (Some(i), _) if i.self_issued => cert(
                    "self-signed",
                    format!(
                        "self-signed: {who} is signed by itself, not by a trusted certificate authority"
                    ),
                ),
                (Some(i), Some(s)) => cert(
                    "untrusted issuer",
                    format!(
                        "untrusted issuer: {who} is issued by {}, which does not lead to a trusted root{}",
                        i.issuer,
                        if s.intermediates == 0 {
                            " (the server sent no intermediate certificate: is the chain incomplete?)"
                        } else {
                            ""
                        }
                    ),
                ),
                _ => cert(
                    "untrusted issuer",
                    format!("untrusted issuer: {who} does not lead to a trusted root"),
                ),
            },
            CertificateError::BadSignature => cert(
                "bad signature",
                format!("bad signature: {who} is not correctly signed by its issuer"),
            ),
            CertificateError::Revoked => cert("revoked", format!("revoked: {who} was revoked")),
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                cert(
                    "invalid purpose",
                    format!("invalid purpose: {who} is not for server authentication"),
                )
            }
            CertificateError::Other(o) if format!("{o:?}").contains("CaUsedAsEndEntity") => cert(
                "ca as server certificate",
                format!(
                    "a CA certificate as the server's: {who} is a certificate authority's (CA:TRUE), not a server's; name it in --ca-file to trust it as itself"
                ),
            ),
            other => cert("invalid", format!("invalid: {who} was refused ({other})")),
        },
        rustls::Error::AlertReceived(alert) => TlsError::Negotiation(format!(
            "the server ended the TLS handshake with the alert {alert:?}"
        )),
        other => TlsError::Negotiation(format!("TLS negotiation failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_certificate_errors() {
        let reason = |e: rustls::Error| match classify(&e, None) {
            TlsError::Certificate { reason, detail } => {
                assert!(detail.starts_with(reason), "{detail}");
                reason
            }
            other => panic!("{other:?}"),
        };
        use CertificateError as C;
        assert_eq!(reason(C::Expired.into()), "expired");
        assert_eq!(reason(C::NotValidYet.into()), "not yet valid");
        assert_eq!(reason(C::NotValidForName.into()), "wrong name");
        assert_eq!(reason(C::UnknownIssuer.into()), "untrusted issuer");
        assert_eq!(reason(C::BadSignature.into()), "bad signature");
        let ctx = C::ExpiredContext {
            time: UnixTime::since_unix_epoch(Duration::from_secs(1_700_000_000)),
            not_after: UnixTime::since_unix_epoch(Duration::from_secs(0)),
        };
        match classify(&ctx.into(), None) {
            TlsError::Certificate { detail, .. } => {
                assert!(detail.contains("1970-01-01"), "{detail}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify(&rustls::Error::HandshakeNotComplete, None),
            TlsError::Negotiation(_)
        ));
    }

    #[test]
    fn tidies_presented_names() {
        assert_eq!(presented_name("DnsName(\"mx.test\")"), "mx.test");
        assert_eq!(presented_name("IpAddress(192.0.2.1)"), "192.0.2.1");
        assert_eq!(presented_name("DirectoryName"), "DirectoryName");
        let e = CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("mx.test").unwrap(),
            presented: vec!["DnsName(\"a.test\")".into(), "IpAddress(192.0.2.1)".into()],
        };
        match classify(&e.into(), None) {
            TlsError::Certificate { detail, .. } => {
                assert!(detail.ends_with("it names a.test, 192.0.2.1"), "{detail}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_ca_files() {
        let dir = std::env::temp_dir().join(format!("ndr-doctor-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "nothing here\n").unwrap();
        assert!(
            Roots::from_pem_file(&empty)
                .unwrap_err()
                .to_string()
                .contains("no certificate")
        );
        assert!(Roots::from_pem_file(&dir.join("missing.pem")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!Roots::builtin().store.is_empty());
    }
}
