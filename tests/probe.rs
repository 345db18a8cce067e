//! End-to-end tests of `probe` against small servers each test starts on 127.0.0.1 (a random
//! port, one connection, in a thread, bounded in time). Nothing here contacts an address
//! outside the loopback range: hosts are given as 127.0.0.1, certificate names are checked
//! with --cert-name, names under .invalid are refused without a look-up, and --mx asks a
//! DNS responder on 127.0.0.1.

mod common;

use assert_cmd::Command;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};
use tempfile::TempDir;

const NAME: &str = "mx.probe.test";

fn cmd() -> Command {
    let mut c = common::cmd();
    c.timeout(Duration::from_secs(30));
    c
}

/// Runs `probe --format json ARGS`: the exit status and the object.
fn probe(args: &[&str]) -> (i32, Value) {
    let out = cmd()
        .args(["probe", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), v)
}

fn failed_step(v: &Value) -> &Value {
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["ok"] == false)
        .unwrap_or_else(|| panic!("no failed step: {v}"))
}

fn step<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no step {name}: {v}"))
}

/// A listener on 127.0.0.1 that hands its first connection to `serve` in a thread. Gives up
/// after 20 s without a connection; the connection's own reads and writes time out too.
fn server(serve: impl FnOnce(TcpStream) + Send + 'static) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    l.set_nonblocking(true).unwrap();
    thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            match l.accept() {
                Ok((s, _)) => {
                    let _ = s.set_nonblocking(false);
                    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                    let _ = s.set_write_timeout(Some(Duration::from_secs(10)));
                    serve(s);
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    thread::sleep(Duration::from_millis(10))
                }
                Err(_) => return,
            }
        }
    });
    port
}

fn read_line(s: &mut impl Read) -> Option<String> {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    loop {
        match s.read(&mut b) {
            Ok(1) if b[0] == b'\n' => break,
            Ok(1) => line.push(b[0]),
            _ => return None,
        }
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line).ok()
}

type Log = Arc<Mutex<Vec<String>>>;

/// An SMTP dialogue until QUIT or STARTTLS; returns true when STARTTLS was accepted.
fn dialogue(s: &mut (impl Read + Write), starttls: bool, log: &Log) -> bool {
    while let Some(line) = read_line(s) {
        log.lock().unwrap().push(line.clone());
        let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
        let reply = match verb.as_str() {
            "EHLO" => {
                if starttls {
                    "250-mx.probe.test hello\r\n250-SIZE 1000000\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
                } else {
                    "250-mx.probe.test hello\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n"
                }
            }
            "STARTTLS" if starttls => {
                let _ = s.write_all(b"220 2.0.0 go ahead\r\n");
                return true;
            }
            "QUIT" => {
                let _ = s.write_all(b"221 2.0.0 bye\r\n");
                return false;
            }
            _ => "502 5.5.2 not in this test\r\n",
        };
        if s.write_all(reply.as_bytes()).is_err() {
            return false;
        }
    }
    false
}

/// A plain SMTP server (no TLS).
fn smtp_server(starttls: bool) -> (u16, Log) {
    let log: Log = Arc::default();
    let l2 = log.clone();
    let port = server(move |mut s| {
        let _ = s.write_all(b"220 mx.probe.test ESMTP test\r\n");
        dialogue(&mut s, starttls, &l2);
    });
    (port, log)
}

/// An SMTP server that offers STARTTLS and presents `chain` with `key`.
/// A TLS server configuration presenting `chain` with `key`.
fn server_config(chain: Vec<CertificateDer<'static>>, key: Vec<u8>) -> rustls::ServerConfig {
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)))
        .unwrap()
}

fn tls_server(chain: Vec<CertificateDer<'static>>, key: Vec<u8>) -> (u16, Log) {
    tls_server_then(chain, key, |tls, log| {
        dialogue(tls, false, log);
        tls.conn.send_close_notify();
        let _ = tls.flush();
    })
}

/// An SMTP server that offers STARTTLS with this certificate and, once TLS is up, does
/// `then` (the normal dialogue, or something a hostile server would do).
fn tls_server_then(
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
    then: impl FnOnce(&mut rustls::StreamOwned<rustls::ServerConnection, TcpStream>, &Log)
    + Send
    + 'static,
) -> (u16, Log) {
    let log: Log = Arc::default();
    let l2 = log.clone();
    let config = server_config(chain, key);
    let port = server(move |mut s| {
        let _ = s.write_all(b"220 mx.probe.test ESMTP test\r\n");
        if !dialogue(&mut s, true, &l2) {
            return;
        }
        let Ok(conn) = rustls::ServerConnection::new(Arc::new(config)) else {
            return;
        };
        let mut tls = rustls::StreamOwned::new(conn, s);
        then(&mut tls, &l2);
    });
    (port, log)
}

struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
    ca_file: PathBuf,
    /// holds `ca_file`: removed with it when the test ends
    _dir: TempDir,
}

/// A file `name` holding `contents` in a directory of its own, removed (also when the test
/// fails) when the returned guard is dropped: keep it for as long as the path is used.
fn temp_file(name: &str, contents: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("ndr-doctor-probe-")
        .tempdir()
        .unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, contents).unwrap();
    (dir, p)
}

fn test_ca() -> Pki {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(DnType::CommonName, "ndr-doctor Test CA");
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap();
    let (dir, ca_file) = temp_file("ca.pem", &ca.pem());
    Pki {
        ca,
        ca_file,
        _dir: dir,
    }
}

/// A server certificate for `names`, valid between the two years, signed by the test CA.
fn leaf(
    pki: &Pki,
    names: &[&str],
    from: i32,
    until: i32,
) -> (Vec<CertificateDer<'static>>, Vec<u8>) {
    let key = KeyPair::generate().unwrap();
    let mut p =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name.push(DnType::CommonName, names[0]);
    p.not_before = rcgen::date_time_ymd(from, 1, 1);
    p.not_after = rcgen::date_time_ymd(until, 1, 1);
    let cert = p.signed_by(&key, &pki.ca).unwrap();
    (
        vec![cert.der().clone(), pki.ca.der().clone()],
        key.serialize_der(),
    )
}

fn addr(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

/// A port held on 127.0.0.1 for as long as the returned listener lives, so that no test
/// running alongside can be given it: at 127.0.0.2 and up nothing listens on it, and a
/// connection there is refused. (A port freed by dropping its listener could be handed to
/// another test's server in the meantime.)
fn held_port() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

#[test]
fn closed_port_is_refused_4_4_316() {
    let (_held, port) = held_port();
    let (code, v) = probe(&[&format!("127.0.0.2:{port}")]);
    assert_eq!(code, 1);
    assert_eq!(v["code"], "4.4.316");
    assert_eq!(v["category"], "connection-refused");
    assert_eq!(v["host"], "127.0.0.2");
    assert_eq!(v["port"], port);
    assert_eq!(failed_step(&v)["step"], "connect");
    assert!(
        failed_step(&v)["detail"]
            .as_str()
            .unwrap()
            .contains("refused")
    );
    assert!(!v["fixes"].as_array().unwrap().is_empty());
    assert!(v["steps"][0]["millis"].is_u64());
}

#[test]
fn accept_and_close_is_4_4_318() {
    let port = server(drop);
    let (code, v) = probe(&[&addr(port), "--timeout", "5s"]);
    assert_eq!(code, 1);
    assert_eq!(v["code"], "4.4.318", "{v}");
    assert_eq!(failed_step(&v)["step"], "banner");
}

#[test]
fn silent_server_times_out_4_4_315() {
    // the server says nothing and holds the connection open until the probe has returned
    // (20 s at most): so 4.4.315 (timed out), not 4.4.318 (closed), proves the 500 ms limit
    // ended the wait
    let (release, held) = mpsc::channel::<()>();
    let port = server(move |s| {
        let _ = held.recv_timeout(Duration::from_secs(20));
        drop(s);
    });
    let (code, v) = probe(&[&addr(port), "--timeout", "500ms"]);
    drop(release);
    assert_eq!(code, 1);
    assert_eq!(v["code"], "4.4.315");
    let s = failed_step(&v);
    assert_eq!(s["step"], "banner");
    assert!(s["detail"].as_str().unwrap().contains("500ms"), "{s}");
    assert!(s["millis"].as_u64().unwrap() >= 400);
}

#[test]
fn no_service_banner_is_4_4_317() {
    let log: Log = Arc::default();
    let l2 = log.clone();
    let port = server(move |mut s| {
        let _ = s.write_all(b"554 no service\r\n");
        dialogue(&mut s, false, &l2);
    });
    let (code, v) = probe(&[&addr(port)]);
    assert_eq!(code, 1);
    assert_eq!(v["code"], "4.4.317");
    let s = failed_step(&v);
    assert_eq!(s["step"], "banner");
    assert!(
        s["detail"].as_str().unwrap().contains("554 no service"),
        "{s}"
    );
    assert_eq!(log.lock().unwrap().as_slice(), ["QUIT"]);
}

#[test]
fn missing_starttls_fails_only_when_required() {
    let (port, log) = smtp_server(false);
    let (code, v) = probe(&[&addr(port), "--require-tls"]);
    assert_eq!(code, 1);
    assert_eq!(v["code"], "4.4.317");
    let s = failed_step(&v);
    assert_eq!(s["step"], "starttls");
    assert!(s["detail"].as_str().unwrap().contains("STARTTLS"));
    // no mail, and a polite QUIT after the failure
    assert_eq!(log.lock().unwrap().as_slice(), ["EHLO [127.0.0.1]", "QUIT"]);

    let (port, log) = smtp_server(false);
    let (code, v) = probe(&[&addr(port), "--helo", "probe.example"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["code"], Value::Null);
    assert!(
        step(&v, "starttls")["detail"]
            .as_str()
            .unwrap()
            .contains("not offered")
    );
    assert_eq!(step(&v, "quit")["ok"], true);
    // the probe sends no mail
    assert_eq!(
        log.lock().unwrap().as_slice(),
        ["EHLO probe.example", "QUIT"]
    );
}

fn tls_failure(v: &Value, reason: &str) -> String {
    assert_eq!(v["code"], "4.7.320", "{v}");
    assert_eq!(v["category"], "certificate-invalid");
    assert_eq!(v["reason"], reason);
    let s = failed_step(v);
    assert_eq!(s["step"], "tls");
    let d = s["detail"].as_str().unwrap().to_string();
    assert!(d.starts_with(reason), "{d}");
    d
}

#[test]
fn self_signed_certificate_is_4_7_320() {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![NAME.to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, NAME);
    let cert = p.self_signed(&key).unwrap();
    let (port, _) = tls_server(vec![cert.der().clone()], key.serialize_der());
    let (code, v) = probe(&[&addr(port), "--cert-name", NAME, "--timeout", "10s"]);
    assert_eq!(code, 1);
    let d = tls_failure(&v, "self-signed");
    assert!(d.contains(NAME), "{d}");
}

#[test]
fn expired_certificate_is_4_7_320() {
    let pki = test_ca();
    let (chain, key) = leaf(&pki, &[NAME], 2000, 2001);
    let (port, _) = tls_server(chain, key);
    let ca = pki.ca_file.to_str().unwrap();
    let (code, v) = probe(&[&addr(port), "--cert-name", NAME, "--ca-file", ca]);
    assert_eq!(code, 1);
    let d = tls_failure(&v, "expired");
    assert!(d.contains("2001-01-01"), "{d}");
}

#[test]
fn not_yet_valid_certificate_is_4_7_320() {
    let pki = test_ca();
    let (chain, key) = leaf(&pki, &[NAME], 2090, 2095);
    let (port, _) = tls_server(chain, key);
    let ca = pki.ca_file.to_str().unwrap();
    let (code, v) = probe(&[&addr(port), "--cert-name", NAME, "--ca-file", ca]);
    assert_eq!(code, 1);
    let d = tls_failure(&v, "not yet valid");
    assert!(d.contains("2090-01-01"), "{d}");
}

#[test]
fn wrong_name_certificate_is_4_7_320() {
    let pki = test_ca();
    let (chain, key) = leaf(&pki, &["other.probe.test"], 2020, 2090);
    let (port, _) = tls_server(chain, key);
    let ca = pki.ca_file.to_str().unwrap();
    let (code, v) = probe(&[&addr(port), "--cert-name", NAME, "--ca-file", ca]);
    assert_eq!(code, 1);
    let d = tls_failure(&v, "wrong name");
    assert!(d.contains(NAME) && d.contains("other.probe.test"), "{d}");
}

#[test]
fn private_ca_without_ca_file_is_an_untrusted_issuer() {
    let pki = test_ca();
    let (chain, key) = leaf(&pki, &[NAME], 2020, 2090);
    let (port, _) = tls_server(chain, key);
    let (code, v) = probe(&[&addr(port), "--cert-name", NAME]);
    assert_eq!(code, 1);
    let d = tls_failure(&v, "untrusted issuer");
    assert!(d.contains("ndr-doctor Test CA"), "{d}");
}

#[test]
fn valid_chain_from_ca_file_is_clean() {
    let pki = test_ca();
    let (chain, key) = leaf(&pki, &[NAME, "127.0.0.1"], 2020, 2090);
    let ca = pki.ca_file.to_str().unwrap().to_string();

    let (port, log) = tls_server(chain.clone(), key.clone());
    let (code, v) = probe(&[
        &addr(port),
        "--cert-name",
        NAME,
        "--ca-file",
        &ca,
        "--require-tls",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["code"], Value::Null);
    assert_eq!(v["category"], Value::Null);
    assert_eq!(v["fixes"], Value::Array(vec![]));
    let names: Vec<&str> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "resolve", "connect", "banner", "ehlo", "starttls", "tls", "ehlo-tls", "quit"
        ]
    );
    assert!(
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["ok"] == true)
    );
    assert!(
        step(&v, "tls")["detail"]
            .as_str()
            .unwrap()
            .contains("TLS 1.")
    );
    assert_eq!(
        log.lock().unwrap().as_slice(),
        ["EHLO [127.0.0.1]", "STARTTLS", "EHLO [127.0.0.1]", "QUIT"]
    );

    // the default name to check is HOST (here an IP address in the certificate)
    let (port, _) = tls_server(chain, key);
    let out = cmd()
        .args(["probe", &addr(port), "--ca-file", &ca, "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Clean"), "{text}");
    assert!(text.contains("ok    tls"), "{text}");
}

#[test]
fn invalid_name_is_a_dns_failure_at_once() {
    // "at once" is no look-up, not a time measured here (each run is bounded by cmd()'s
    // timeout): the probe says nothing was asked, and a resolver given to --mx gets no question
    let (code, v) = probe(&["mx.ndr-doctor.invalid", "--timeout", "2s"]);
    assert_eq!(code, 1);
    assert_eq!(v["code"], "4.4.312");
    assert_eq!(v["category"], "dns-query-failed");
    assert_eq!(failed_step(&v)["step"], "resolve");
    assert!(
        failed_step(&v)["detail"]
            .as_str()
            .unwrap()
            .contains("nothing was asked"),
        "{v}"
    );
    assert_eq!(v["steps"].as_array().unwrap().len(), 1);

    let resolver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let dns = resolver.local_addr().unwrap().to_string();
    let (code, v) = probe(&[
        "--mx",
        "ndr-doctor.invalid",
        "--resolver",
        &dns,
        "--timeout",
        "2s",
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["code"], "4.4.312");
    // the probe has ended: a question it sent over the loopback would be queued by now
    resolver.set_nonblocking(true).unwrap();
    let asked = resolver.recv_from(&mut [0u8; 512]);
    assert!(
        matches!(&asked, Err(e) if e.kind() == io::ErrorKind::WouldBlock),
        "the resolver was asked: {asked:?}"
    );
}

#[test]
fn fail_on_decides_the_exit_status() {
    let (_held, port) = held_port();
    let closed = || format!("127.0.0.2:{port}");
    for (policy, want) in [
        ("none", 0),
        ("certificate-invalid", 0),
        ("4.4.316", 1),
        ("connection-refused,4.7.320", 1),
        ("transient", 1),
        ("permanent", 0),
    ] {
        let (code, v) = probe(&[&closed(), "--fail-on", policy]);
        assert_eq!(code, want, "{policy}");
        assert_eq!(v["code"], "4.4.316");
    }
}

#[test]
fn human_output_names_the_code_and_escapes_network_text() {
    let port = server(|mut s| {
        let _ = s.write_all(b"554 \x1b[2Jevil\x07 \xff banner\r\n");
        thread::sleep(Duration::from_millis(500));
    });
    let out = cmd()
        .args(["probe", &addr(port), "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("\\x1b[2Jevil\\x07 \\xff banner"), "{text}");
    assert!(text.contains("FAIL  banner"), "{text}");
    assert!(text.contains("450 4.4.317"), "{text}");
    assert!(text.contains("How to fix it"), "{text}");

    // the same in JSON: valid, and the controls escaped
    let port = server(|mut s| {
        let _ = s.write_all(b"554 \x1b[2Jevil\xe2\x80\xae\r\n");
        thread::sleep(Duration::from_millis(500));
    });
    let out = cmd()
        .args(["probe", &addr(port), "--format", "ndjson"])
        .output()
        .unwrap();
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(
        !line.contains('\u{1b}') && !line.contains('\u{202e}'),
        "{line:?}"
    );
    assert_eq!(line.lines().count(), 1);
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["code"], "4.4.317");
}

#[test]
fn usage_errors_are_one_line_and_exit_2() {
    for args in [
        &["probe", "127.0.0.1", "--timeout", "soon"][..],
        &["probe", "127.0.0.1", "--timeout", "0s"],
        &["probe", "bad host name"],
        &["probe", "127.0.0.1:99999"],
        &["probe", "127.0.0.1", "--ca-file", "/nonexistent/ca.pem"],
        &["probe", "127.0.0.1", "--fail-on", "nonsense-thing"],
        &["probe", "127.0.0.1:25", "--port", "26"],
        &[
            "probe",
            "--smart-host",
            "127.0.0.1",
            "--mta-sts-url",
            "https://127.0.0.1/",
        ],
        &[
            "probe",
            "--mx",
            "example.test",
            "--mta-sts-url",
            "http://127.0.0.1/",
        ],
        &[
            "probe",
            "--smart-host",
            "127.0.0.1:25",
            "--smart-host",
            "127.0.0.2:26",
        ],
    ] {
        let out = cmd().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("ndr-doctor: "), "{err}");
        assert!(out.stdout.is_empty());
    }
    let (_dir, not_pem) = temp_file("not.pem", "hello\n");
    let out = cmd()
        .args(["probe", "127.0.0.1", "--ca-file", not_pem.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no certificate"));
}

// --- --mx, against a DNS responder on 127.0.0.1 ---

/// Encodes a domain name as DNS labels.
fn labels(name: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for l in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        v.push(l.len() as u8);
        v.extend_from_slice(l.as_bytes());
    }
    v.push(0);
    v
}

/// A test zone: records by name and type, the names answered as DNSSEC-authenticated (the
/// AD bit, as a validating resolver sets it) and those answered SERVFAIL (what a validating
/// resolver answers for bogus data).
#[derive(Default)]
struct Zone {
    records: Vec<(String, u16, Vec<u8>)>,
    signed: Vec<String>,
    servfail: Vec<String>,
}

const A: u16 = 1;
const AAAA: u16 = 28;
const MX: u16 = 15;
const TXT: u16 = 16;
const CNAME: u16 = 5;
const TLSA: u16 = 52;

impl Zone {
    fn add(mut self, name: &str, rtype: u16, rdata: Vec<u8>) -> Zone {
        self.records.push((name.to_string(), rtype, rdata));
        self
    }
    fn mx(self, domain: &str, pref: u16, host: &str) -> Zone {
        let mut rd = pref.to_be_bytes().to_vec();
        rd.extend(labels(host));
        self.add(domain, MX, rd)
    }
    fn a(self, host: &str, ip: [u8; 4]) -> Zone {
        self.add(host, A, ip.to_vec())
    }
    fn cname(self, alias: &str, target: &str) -> Zone {
        self.add(alias, CNAME, labels(target))
    }
    fn aaaa(self, host: &str, ip: std::net::Ipv6Addr) -> Zone {
        self.add(host, AAAA, ip.octets().to_vec())
    }
    fn txt(self, name: &str, text: &str) -> Zone {
        let mut rd = Vec::new();
        for chunk in text.as_bytes().chunks(255) {
            rd.push(chunk.len() as u8);
            rd.extend_from_slice(chunk);
        }
        self.add(name, TXT, rd)
    }
    /// A TLSA record `_PORT._tcp.HOST`, answered with the AD bit, as HOST's records are.
    fn tlsa(mut self, name: &str, usage: u8, selector: u8, matching: u8, data: &[u8]) -> Zone {
        let mut rd = vec![usage, selector, matching];
        rd.extend_from_slice(data);
        self.signed.push(name.to_string());
        let host = name.splitn(3, '.').nth(2).unwrap_or(name);
        self.signed.push(host.to_string());
        self.add(name, TLSA, rd)
    }
}

/// Answers from `zone` on 127.0.0.1 for 20 s, then stops: NXDOMAIN for a name it does not
/// hold, no data for a type it does not hold. Returns `127.0.0.1:PORT` for --resolver.
fn dns_zone(zone: Zone) -> String {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut buf = [0u8; 1500];
        while Instant::now() < deadline {
            let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                continue;
            };
            let q = &buf[..n];
            if n < 12 {
                continue;
            }
            // the question: labels, then type and class
            let mut i = 12;
            let mut name = Vec::new();
            while i < n && q[i] != 0 {
                let len = q[i] as usize;
                name.push(String::from_utf8_lossy(&q[i + 1..(i + 1 + len).min(n)]).to_lowercase());
                i += 1 + len;
            }
            let qend = i + 5;
            if qend > n {
                continue;
            }
            let qtype = u16::from_be_bytes([q[i + 1], q[i + 2]]);
            let name = name.join(".");
            let mut answers: Vec<&(String, u16, Vec<u8>)> = zone
                .records
                .iter()
                .filter(|(n, t, _)| *n == name && *t == qtype)
                .collect();
            // an alias: its CNAME, then the target's records of the type asked (one link)
            let mut signed = zone.signed.contains(&name);
            if answers.is_empty()
                && let Some(c) = zone
                    .records
                    .iter()
                    .find(|(n, t, _)| *n == name && *t == CNAME)
            {
                let target = zone
                    .records
                    .iter()
                    .find_map(|(n, t, rd)| (*t == CNAME && *n == name).then_some(rd))
                    .map(|rd| {
                        let mut parts = Vec::new();
                        let mut i = 0;
                        while i < rd.len() && rd[i] != 0 {
                            let len = rd[i] as usize;
                            parts.push(
                                String::from_utf8_lossy(&rd[i + 1..i + 1 + len]).into_owned(),
                            );
                            i += 1 + len;
                        }
                        parts.join(".")
                    })
                    .unwrap_or_default();
                signed &= zone.signed.contains(&target);
                answers.push(c);
                answers.extend(
                    zone.records
                        .iter()
                        .filter(|(n, t, _)| *n == target && *t == qtype),
                );
            }
            let rcode = if zone.servfail.contains(&name) {
                2
            } else if zone.records.iter().any(|(n, _, _)| *n == name) {
                0
            } else {
                3 // NXDOMAIN
            };
            let answers = if rcode == 0 { answers } else { Vec::new() };
            let ad = if rcode == 0 && signed { 0x20 } else { 0 };
            let mut r = Vec::new();
            r.extend_from_slice(&q[0..2]);
            r.extend_from_slice(&[0x84 | (q[2] & 0x01), 0x80 | ad | rcode]);
            r.extend_from_slice(&1u16.to_be_bytes());
            r.extend_from_slice(&(answers.len() as u16).to_be_bytes());
            r.extend_from_slice(&[0, 0, 0, 0]);
            r.extend_from_slice(&q[12..qend]);
            for (owner, t, rd) in answers {
                if *owner == name {
                    r.extend_from_slice(&[0xc0, 0x0c]);
                } else {
                    r.extend(labels(owner));
                }
                r.extend_from_slice(&t.to_be_bytes());
                r.extend_from_slice(&1u16.to_be_bytes());
                r.extend_from_slice(&60u32.to_be_bytes());
                r.extend_from_slice(&(rd.len() as u16).to_be_bytes());
                r.extend_from_slice(rd);
            }
            let _ = sock.send_to(&r, peer);
        }
    });
    format!("127.0.0.1:{port}")
}

/// The zone of the first --mx tests: probe.test (one MX) and many.test (one MX host of 25
/// addresses, 12 of them distinct).
fn dns_server() -> String {
    let mut z = Zone::default()
        .mx("probe.test", 10, "mx.probe.test")
        .a("mx.probe.test", [127, 0, 0, 1])
        .mx("many.test", 10, "mx.many.test");
    for i in 0..25u8 {
        z = z.a("mx.many.test", [127, 0, 0, 2 + i % 12]);
    }
    dns_zone(z)
}

#[test]
fn mx_lookup_probes_the_preferred_host() {
    let dns = dns_server();
    let (port, log) = smtp_server(false);
    let port = port.to_string();
    let (code, v) = probe_mx("probe.test", &dns, &port, &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["code"], Value::Null);
    assert_eq!(v["domain"], "probe.test");
    assert_eq!(v["host"], NAME);
    assert_eq!(v["address"], format!("127.0.0.1:{port}"));
    let d = step(&v, "resolve")["detail"].as_str().unwrap();
    assert!(
        d.contains("MX 10 mx.probe.test") && d.contains("127.0.0.1"),
        "{d}"
    );
    assert_eq!(log.lock().unwrap().last().map(String::as_str), Some("QUIT"));

    let (code, v) = probe(&["--mx", "gone.test", "--resolver", &dns, "--timeout", "5s"]);
    assert_eq!(code, 1);
    assert_eq!(v["code"], "4.4.312");
    assert!(
        failed_step(&v)["detail"]
            .as_str()
            .unwrap()
            .contains("NXDOMAIN"),
        "{v}"
    );
}

#[test]
fn a_ca_true_self_signed_certificate_named_in_ca_file_is_trusted_as_itself() {
    // what `openssl req -x509 -newkey ... -subj /CN=localhost` makes: CA:TRUE, self-signed
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, "localhost");
    let cert = p.self_signed(&key).unwrap();
    let (_dir, ca) = temp_file("self.pem", &cert.pem());
    let ca = ca.to_str().unwrap().to_string();
    let chain = vec![cert.der().clone()];
    let (port, _) = tls_server(chain.clone(), key.serialize_der());
    let (code, v) = probe(&[&addr(port), "--cert-name", "localhost", "--ca-file", &ca]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["code"], Value::Null, "{v}");
    // pinned, its name is still checked
    let (port, _) = tls_server(chain, key.serialize_der());
    let (_, v) = probe(&[
        &addr(port),
        "--cert-name",
        "mx.other.test",
        "--ca-file",
        &ca,
    ]);
    assert_eq!(v["code"], "4.7.320", "{v}");
    assert!(
        !failed_step(&v)["detail"]
            .as_str()
            .unwrap()
            .contains("OtherError"),
        "{v}"
    );
}

#[test]
fn a_server_that_drips_its_tls_records_ends_at_the_deadline() {
    let pki = test_ca();
    let (chain, key) = leaf(&pki, &[NAME, "127.0.0.1"], 2020, 2090);
    let ca = pki.ca_file.to_str().unwrap().to_string();
    // whether the server dripped the whole reply (true) or found the client gone (false)
    let (dripped, drip) = mpsc::channel::<bool>();
    let (port, _) = tls_server_then(chain, key, move |tls, _| {
        let Some(_ehlo) = read_line(tls) else {
            return;
        };
        // the reply, encrypted, one byte every 200 ms: 12 s and more for the whole record
        let _ = tls
            .conn
            .writer()
            .write_all(b"250-mx.probe.test hello\r\n250 8BITMIME\r\n");
        let mut records = Vec::new();
        while tls.conn.wants_write() {
            if tls.conn.write_tls(&mut records).is_err() {
                return;
            }
        }
        for b in records {
            if tls.sock.write_all(&[b]).is_err() {
                let _ = dripped.send(false);
                return;
            }
            thread::sleep(Duration::from_millis(200));
        }
        let _ = dripped.send(true);
    });
    let (code, v) = probe(&[
        &addr(port),
        "--cert-name",
        NAME,
        "--ca-file",
        &ca,
        "--timeout",
        "1s",
    ]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(failed_step(&v)["step"], "ehlo-tls", "{v}");
    assert_eq!(v["code"], "4.4.315", "{v}");
    // the drip would take 12 s and more, and no single read waits 1 s: a timed-out ehlo-tls
    // is the 1 s step limit, and the server, finding the client gone before the end of the
    // reply, shows the probe did not wait for the drip to end (bounded wait for its word)
    let whole = drip
        .recv_timeout(Duration::from_secs(30))
        .expect("the server's word on the drip");
    assert!(
        !whole,
        "the probe read the whole dripped reply before it ended"
    );
}

#[test]
fn a_name_of_many_addresses_is_tried_once_each_and_at_most_ten() {
    let dns = dns_server();
    // a port nothing listens on, at 127.0.0.2 and up
    let (_held, closed) = held_port();
    let closed = closed.to_string();
    let (code, v) = probe(&[
        "--mx",
        "many.test",
        "--resolver",
        &dns,
        "--port",
        &closed,
        "--timeout",
        "2s",
    ]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["code"], "4.4.316", "{v}");
    // each address is an attempt of its own, a row each
    let connects = steps_named(&v, "connect");
    assert_eq!(connects.len(), 10, "{v}");
    assert!(
        connects
            .iter()
            .all(|s| s["ok"] == false && s["detail"].as_str().unwrap().contains(" refused"))
    );
    assert_eq!(v["attempts"].as_array().unwrap().len(), 10, "{v}");
    let note = v["notes"][0].as_str().unwrap();
    assert!(note.contains("2 more addresses not tried"), "{note}");
}

// --- walking a domain's MX hosts, DANE and MTA-STS, against our own DNS, SMTP and HTTPS ---

/// `probe --mx DOMAIN --resolver DNS --port PORT --timeout 5s EXTRA...`: the exit status
/// and the JSON object.
fn probe_mx(domain: &str, dns: &str, port: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "--mx",
        domain,
        "--resolver",
        dns,
        "--port",
        port,
        "--timeout",
        "5s",
    ];
    args.extend_from_slice(extra);
    probe(&args)
}

/// The steps of one name, in order.
fn steps_named<'a>(v: &'a Value, name: &str) -> Vec<&'a Value> {
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step"] == name)
        .collect()
}

#[test]
fn the_first_mx_refuses_and_the_second_accepts() {
    // the SMTP server listens on 127.0.0.1 only: at 127.0.0.2, the same port refuses
    let (port, log) = smtp_server(false);
    let dns = dns_zone(
        Zone::default()
            .mx("walk.test", 20, "mx2.walk.test")
            .mx("walk.test", 10, "mx1.walk.test")
            .a("mx1.walk.test", [127, 0, 0, 2])
            .a("mx2.walk.test", [127, 0, 0, 1]),
    );
    let port = port.to_string();
    let (code, v) = probe_mx("walk.test", &dns, &port, &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["code"], Value::Null, "{v}");
    assert_eq!(v["host"], "mx2.walk.test");
    // both rows: the preferred host first (refused), then the other (accepted)
    let connects = steps_named(&v, "connect");
    assert_eq!(connects.len(), 2, "{v}");
    assert_eq!(connects[0]["host"], "mx1.walk.test");
    assert_eq!(connects[0]["ok"], false);
    assert!(connects[0]["detail"].as_str().unwrap().contains("refused"));
    assert_eq!(connects[1]["host"], "mx2.walk.test");
    assert_eq!(connects[1]["ok"], true);
    let attempts = v["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["code"], "4.4.316");
    assert_eq!(attempts[1]["ok"], true);
    assert_eq!(log.lock().unwrap().last().map(String::as_str), Some("QUIT"));
    // each host's DANE check is a row of its own: an unsigned zone here
    let dane = steps_named(&v, "dane");
    assert_eq!(dane.len(), 2);
    assert!(
        dane[0]["detail"]
            .as_str()
            .unwrap()
            .contains("not DNSSEC-signed"),
        "{v}"
    );
    // and the domain's MTA-STS: no policy
    assert!(
        step(&v, "mta-sts")["detail"]
            .as_str()
            .unwrap()
            .contains("no MTA-STS policy")
    );

    // the human output names each host before its rows, and says delivery is late
    let (port2, _) = smtp_server(false);
    let port2 = port2.to_string();
    let dns = dns_zone(
        Zone::default()
            .mx("walk.test", 10, "mx1.walk.test")
            .mx("walk.test", 20, "mx2.walk.test")
            .a("mx1.walk.test", [127, 0, 0, 2])
            .a("mx2.walk.test", [127, 0, 0, 1]),
    );
    let out = cmd()
        .args([
            "probe",
            "--mx",
            "walk.test",
            "--resolver",
            &dns,
            "--port",
            &port2,
        ])
        .args(["--timeout", "5s", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    let mx1 = text.find("\n  mx1.walk.test:\n").expect(&text);
    let mx2 = text.find("\n  mx2.walk.test:\n").expect(&text);
    assert!(mx1 < mx2, "{text}");
    assert!(
        text.contains("Delivered, late: mx2.walk.test accepted after 1 failed attempt."),
        "{text}"
    );
    assert!(text.contains("4.4.316"), "{text}");
}

#[test]
fn every_mx_refusing_predicts_4_4_316_after_both() {
    let (_held, port) = held_port();
    let port = port.to_string();
    let dns = dns_zone(
        Zone::default()
            .mx("down.test", 10, "mx1.down.test")
            .mx("down.test", 20, "mx2.down.test")
            .a("mx1.down.test", [127, 0, 0, 2])
            .a("mx2.down.test", [127, 0, 0, 3]),
    );
    let (code, v) = probe_mx("down.test", &dns, &port, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["code"], "4.4.316", "{v}");
    let connects = steps_named(&v, "connect");
    assert_eq!(connects.len(), 2, "{v}");
    assert_eq!(connects[0]["address"], format!("127.0.0.2:{port}"));
    assert_eq!(connects[1]["address"], format!("127.0.0.3:{port}"));
    assert!(connects.iter().all(|s| s["ok"] == false));
    assert_eq!(v["host"], "mx2.down.test");
}

#[test]
fn a_host_that_cannot_be_tried_predicts_nothing() {
    // mx2 has no address (and a TLSA name that would fail): only mx1's refusal counts, and
    // mx2 gets no row of its own
    let (_held, port) = held_port();
    let mut zone = Zone::default()
        .mx("half.test", 10, "mx1.half.test")
        .mx("half.test", 20, "mx2.half.test")
        .a("mx1.half.test", [127, 0, 0, 2]);
    zone.servfail.push(format!("_{port}._tcp.mx2.half.test"));
    zone.servfail.push("mx2.half.test".into());
    let dns = dns_zone(zone);
    let port_s = port.to_string();
    let (code, v) = probe_mx("half.test", &dns, &port_s, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["code"], "4.4.316", "{v}");
    assert_eq!(v["host"], "mx1.half.test", "{v}");
    assert_eq!(v["attempts"].as_array().unwrap().len(), 1, "{v}");
    assert!(
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["host"] != "mx2.half.test"),
        "{v}"
    );
    assert!(
        step(&v, "resolve")["detail"]
            .as_str()
            .unwrap()
            .contains("mx2.half.test:"),
        "{v}"
    );
}

#[test]
fn each_address_of_a_host_is_an_attempt_ipv4_then_ipv6() {
    // whether this machine has IPv6 on loopback or not, [::1] is tried, after 127.0.0.2
    let (_held, port) = held_port();
    let port = port.to_string();
    let dns = dns_zone(
        Zone::default()
            .mx("dual.test", 10, "mx.dual.test")
            .aaaa("mx.dual.test", std::net::Ipv6Addr::LOCALHOST)
            .a("mx.dual.test", [127, 0, 0, 2]),
    );
    let (code, v) = probe_mx("dual.test", &dns, &port, &[]);
    assert_eq!(code, 1, "{v}");
    let connects = steps_named(&v, "connect");
    assert_eq!(connects.len(), 2, "{v}");
    assert_eq!(connects[0]["address"], format!("127.0.0.2:{port}"));
    assert_eq!(connects[1]["address"], format!("[::1]:{port}"));
    let d = step(&v, "resolve")["detail"].as_str().unwrap();
    assert!(d.contains("mx.dual.test: 127.0.0.2, ::1"), "{d}");
}

#[test]
fn equal_preferences_keep_the_order_dns_gave() {
    let (_held, port) = held_port();
    let port = port.to_string();
    let dns = dns_zone(
        Zone::default()
            .mx("same.test", 10, "zz.same.test")
            .mx("same.test", 10, "aa.same.test")
            .a("zz.same.test", [127, 0, 0, 2])
            .a("aa.same.test", [127, 0, 0, 3]),
    );
    let (_, v) = probe_mx("same.test", &dns, &port, &[]);
    let hosts: Vec<&str> = v["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["zz.same.test", "aa.same.test"], "{v}");
}

#[test]
fn a_null_mx_predicts_5_1_10() {
    let dns = dns_zone(Zone::default().mx("nomail.test", 0, "."));
    let (code, v) = probe(&["--mx", "nomail.test", "--resolver", &dns, "--timeout", "5s"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["code"], "5.1.10", "{v}");
    let f = failed_step(&v);
    assert_eq!(f["step"], "resolve");
    assert!(f["detail"].as_str().unwrap().contains("null MX"), "{v}");
    assert!(steps_named(&v, "connect").is_empty());
}

#[test]
fn a_domain_given_as_host_with_mx_and_no_address_is_walked() {
    let (port, _) = smtp_server(false);
    let port = port.to_string();
    let dns = dns_zone(
        Zone::default()
            .mx("bare.test", 10, "mx.bare.test")
            .a("mx.bare.test", [127, 0, 0, 1]),
    );
    let (code, v) = probe(&[
        "bare.test",
        "--resolver",
        &dns,
        "--port",
        &port,
        "--timeout",
        "5s",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["domain"], "bare.test");
    assert_eq!(v["host"], "mx.bare.test");
    let d = step(&v, "resolve")["detail"].as_str().unwrap();
    assert!(
        d.contains("it has MX records") && d.contains("MX 10 mx.bare.test"),
        "{d}"
    );
}

#[test]
fn smart_hosts_are_tried_in_the_order_given_without_mx() {
    let (port, _) = smtp_server(false);
    let port = port.to_string();
    // no MX in this zone: a smart host walk never asks for one
    let dns = dns_zone(
        Zone::default()
            .a("relay1.smart.test", [127, 0, 0, 2])
            .a("relay2.smart.test", [127, 0, 0, 1]),
    );
    let (code, v) = probe(&[
        "--smart-host",
        "relay1.smart.test",
        "--smart-host",
        "relay2.smart.test",
        "--resolver",
        &dns,
        "--port",
        &port,
        "--timeout",
        "5s",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["host"], "relay2.smart.test");
    assert_eq!(v["attempts"][0]["code"], "4.4.316", "{v}");
    assert!(steps_named(&v, "dane").is_empty() && steps_named(&v, "mta-sts").is_empty());
}

/// SHA-256 of bytes.
fn sha256(b: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, b)
        .as_ref()
        .to_vec()
}

/// A self-signed certificate for `name` and its key (what DANE-EE lets a server use).
fn self_signed(name: &str) -> (Vec<CertificateDer<'static>>, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![name.to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, name);
    let cert = p.self_signed(&key).unwrap();
    (vec![cert.der().clone()], key)
}

#[test]
fn dane_ee_decides_the_certificate_not_the_public_roots() {
    // a self-signed certificate no public root trusts: its TLSA 3 1 1 record makes it good
    let (chain, key) = self_signed("mx.dane.test");
    let spki = sha256(&rcgen::PublicKeyData::subject_public_key_info(&key));
    let (port, log) = tls_server(chain.clone(), key.serialize_der());
    let dns = dns_zone(
        Zone::default()
            .mx("dane.test", 10, "mx.dane.test")
            .a("mx.dane.test", [127, 0, 0, 1])
            .tlsa(&format!("_{port}._tcp.mx.dane.test"), 3, 1, 1, &spki),
    );
    let port_s = port.to_string();
    let (code, v) = probe_mx("dane.test", &dns, &port_s, &[]);
    assert_eq!(code, 0, "{v}");
    let dane = steps_named(&v, "dane");
    assert_eq!(dane.len(), 2, "{v}");
    assert!(
        dane[0]["detail"].as_str().unwrap().contains("AD bit"),
        "{v}"
    );
    assert_eq!(dane[1]["ok"], true, "{v}");
    assert_eq!(log.lock().unwrap().last().map(String::as_str), Some("QUIT"));

    // a record of another key: 4.7.323
    let (port, _) = tls_server(chain, key.serialize_der());
    let dns = dns_zone(
        Zone::default()
            .mx("dane.test", 10, "mx.dane.test")
            .a("mx.dane.test", [127, 0, 0, 1])
            .tlsa(&format!("_{port}._tcp.mx.dane.test"), 3, 1, 1, &[0xab; 32]),
    );
    let port_s = port.to_string();
    let (code, v) = probe_mx("dane.test", &dns, &port_s, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["code"], "4.7.323", "{v}");
    assert_eq!(failed_step(&v)["step"], "dane");

    // the same zone unsigned (no AD bit anywhere): DANE does not apply, and the mail goes
    // with opportunistic TLS; the certificate's failure is reported, not predicted
    let (chain, key) = self_signed("mx.dane.test");
    let (port, _) = tls_server(chain, key.serialize_der());
    let mut zone = Zone::default()
        .mx("dane.test", 10, "mx.dane.test")
        .a("mx.dane.test", [127, 0, 0, 1])
        .tlsa(&format!("_{port}._tcp.mx.dane.test"), 3, 1, 1, &[0xab; 32]);
    zone.signed.clear();
    let dns = dns_zone(zone);
    let port_s = port.to_string();
    let (code, v) = probe_mx("dane.test", &dns, &port_s, &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["code"], Value::Null, "{v}");
    assert!(
        steps_named(&v, "dane")[0]["detail"]
            .as_str()
            .unwrap()
            .contains("not DNSSEC-signed"),
        "{v}"
    );
    let tls = step(&v, "tls")["detail"].as_str().unwrap();
    assert!(
        tls.contains("fails validation") && tls.contains("self-signed") && tls.contains("4.7.320"),
        "{tls}"
    );

    // --require-tls makes the walk judge certificates as a connector that validates them
    let (chain, key) = self_signed("mx.dane.test");
    let (port, _) = tls_server(chain, key.serialize_der());
    let dns = dns_zone(
        Zone::default()
            .mx("dane.test", 10, "mx.dane.test")
            .a("mx.dane.test", [127, 0, 0, 1]),
    );
    let port_s = port.to_string();
    let (_, v) = probe_mx("dane.test", &dns, &port_s, &["--require-tls"]);
    assert_eq!(v["code"], "4.7.320", "{v}");
}

#[test]
fn dane_follows_a_signed_cname_to_the_tlsa_records_at_its_end() {
    // the MX host is an alias: the TLSA records are found at the end of the chain (RFC 7672
    // section 2.2.2), and a DANE-EE record there makes the self-signed certificate good
    let (chain, key) = self_signed("real.cname.test");
    let spki = sha256(&rcgen::PublicKeyData::subject_public_key_info(&key));
    let (port, _) = tls_server(chain, key.serialize_der());
    let mut zone = Zone::default()
        .mx("cname.test", 10, "alias.cname.test")
        .cname("alias.cname.test", "real.cname.test")
        .a("real.cname.test", [127, 0, 0, 1])
        .tlsa(&format!("_{port}._tcp.real.cname.test"), 3, 1, 1, &spki);
    zone.signed.push("alias.cname.test".into());
    let dns = dns_zone(zone);
    let (code, v) = probe_mx("cname.test", &dns, &port.to_string(), &[]);
    assert_eq!(code, 0, "{v}");
    let dane = steps_named(&v, "dane");
    assert!(
        dane[0]["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("TLSA _{port}._tcp.real.cname.test")),
        "{v}"
    );
    assert_eq!(dane[1]["ok"], true, "{v}");
}

#[test]
fn tlsa_without_starttls_is_4_7_321_and_bogus_dnssec_4_7_324() {
    let (port, _) = smtp_server(false);
    let dns = dns_zone(
        Zone::default()
            .mx("plain.test", 10, "mx.plain.test")
            .a("mx.plain.test", [127, 0, 0, 1])
            .tlsa(&format!("_{port}._tcp.mx.plain.test"), 3, 1, 1, &[0xcd; 32]),
    );
    let port_s = port.to_string();
    let (code, v) = probe_mx("plain.test", &dns, &port_s, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["code"], "4.7.321", "{v}");
    assert_eq!(failed_step(&v)["step"], "starttls");

    // authenticated records that SMTP cannot use (PKIX-EE, 1 1 1): TLS is still required
    let (port, _) = smtp_server(false);
    let dns = dns_zone(
        Zone::default()
            .mx("plain.test", 10, "mx.plain.test")
            .a("mx.plain.test", [127, 0, 0, 1])
            .tlsa(&format!("_{port}._tcp.mx.plain.test"), 1, 1, 1, &[0xcd; 32]),
    );
    let port_s = port.to_string();
    let (_, v) = probe_mx("plain.test", &dns, &port_s, &[]);
    assert_eq!(v["code"], "4.7.321", "{v}");
    assert!(
        step(&v, "dane")["detail"]
            .as_str()
            .unwrap()
            .contains("none usable"),
        "{v}"
    );

    // SERVFAIL for the TLSA name (a validating resolver's answer to bogus data): 4.7.324,
    // and the host is not connected to
    let (_held, port) = held_port();
    let mut zone = Zone::default()
        .mx("bogus.test", 10, "mx.bogus.test")
        .a("mx.bogus.test", [127, 0, 0, 1]);
    zone.signed.push("mx.bogus.test".into());
    zone.servfail.push(format!("_{port}._tcp.mx.bogus.test"));
    let dns = dns_zone(zone);
    let port_s = port.to_string();
    let (code, v) = probe_mx("bogus.test", &dns, &port_s, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["code"], "4.7.324", "{v}");
    assert!(steps_named(&v, "connect").is_empty(), "{v}");
    assert_eq!(v["attempts"][0]["address"], Value::Null);
}

/// An HTTPS server on 127.0.0.1 answering one request with `body` (HTTP 200), presenting
/// `chain`. Returns its URL for --mta-sts-url.
fn policy_server(chain: Vec<CertificateDer<'static>>, key: Vec<u8>, body: &'static str) -> String {
    let config = Arc::new(server_config(chain, key));
    let port = server(move |s| {
        let Ok(conn) = rustls::ServerConnection::new(config) else {
            return;
        };
        let mut tls = rustls::StreamOwned::new(conn, s);
        let mut request = Vec::new();
        let mut b = [0u8; 1];
        while !request.ends_with(b"\r\n\r\n") && request.len() < 8192 {
            match tls.read(&mut b) {
                Ok(1) => request.push(b[0]),
                _ => return,
            }
        }
        let reply = format!(
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let _ = tls.write_all(reply.as_bytes());
        tls.conn.send_close_notify();
        let _ = tls.flush();
    });
    format!("https://127.0.0.1:{port}/.well-known/mta-sts.txt")
}

/// `probe --mx sts.test` where the MX host `mx.sts.test` is an SMTP server (with STARTTLS or
/// not) and the domain publishes `policy`, served over HTTPS by a certificate of `pki`'s:
/// the exit status, the JSON object and the SMTP server's log.
fn sts_case(pki: &Pki, policy: &'static str, starttls: bool) -> (i32, Value, Log) {
    let ca = pki.ca_file.to_str().unwrap().to_string();
    let (chain, key) = leaf(pki, &["mta-sts.sts.test"], 2020, 2090);
    let url = policy_server(chain, key, policy);
    let (port, log) = smtp_server(starttls);
    let dns = dns_zone(
        Zone::default()
            .mx("sts.test", 10, "mx.sts.test")
            .a("mx.sts.test", [127, 0, 0, 1])
            .txt("_mta-sts.sts.test", "v=STSv1; id=20261201T000000"),
    );
    let (code, v) = probe_mx(
        "sts.test",
        &dns,
        &port.to_string(),
        &["--mta-sts-url", &url, "--ca-file", &ca],
    );
    (code, v, log)
}

#[test]
fn an_enforce_policy_that_does_not_list_the_mx_is_4_4_8() {
    let pki = test_ca();
    // the MX host would accept: the policy alone stops the delivery
    let (code, v, log) = sts_case(
        &pki,
        "version: STSv1\r\nmode: enforce\r\nmx: mail.elsewhere.test\r\nmax_age: 86400\r\n",
        true,
    );
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["code"], "4.4.8", "{v}");
    let sts = steps_named(&v, "mta-sts");
    assert_eq!(sts.len(), 2, "{v}");
    let policy = sts[0]["detail"].as_str().unwrap();
    assert!(
        policy.contains("mode enforce") && policy.contains("mail.elsewhere.test"),
        "{policy}"
    );
    assert_eq!(sts[1]["ok"], false);
    assert_eq!(sts[1]["host"], "mx.sts.test");
    assert!(steps_named(&v, "connect").is_empty(), "{v}");
    assert!(log.lock().unwrap().is_empty());

    // the same policy in testing mode: reported, and the mail goes
    let (code, v, _) = sts_case(
        &pki,
        "version: STSv1\nmode: testing\nmx: mail.elsewhere.test\nmax_age: 86400\n",
        false,
    );
    assert_eq!(code, 0, "{v}");
    let sts = steps_named(&v, "mta-sts");
    assert!(
        sts[1]["detail"].as_str().unwrap().contains("testing mode"),
        "{v}"
    );
}

#[test]
fn an_enforce_policy_listing_the_mx_requires_a_valid_certificate_4_7_5() {
    let pki = test_ca();
    let ca = pki.ca_file.to_str().unwrap().to_string();
    let (chain, key) = leaf(&pki, &["mta-sts.sts2.test"], 2020, 2090);
    let url = policy_server(
        chain,
        key,
        "version: STSv1\nmode: enforce\nmx: *.sts2.test\nmax_age: 86400\n",
    );
    // the MX host's certificate names another host
    let (chain, key) = leaf(&pki, &["other.example.test"], 2020, 2090);
    let (port, _) = tls_server(chain, key);
    let dns = dns_zone(
        Zone::default()
            .mx("sts2.test", 10, "mx.sts2.test")
            .a("mx.sts2.test", [127, 0, 0, 1])
            .txt("_mta-sts.sts2.test", "v=STSv1; id=7"),
    );
    let port_s = port.to_string();
    let (code, v) = probe_mx(
        "sts2.test",
        &dns,
        &port_s,
        &["--mta-sts-url", &url, "--ca-file", &ca],
    );
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["code"], "4.7.5", "{v}");
    assert_eq!(failed_step(&v)["step"], "tls");
}

#[test]
fn human_rows_line_up_in_japanese_and_name_an_address_host_once() {
    let (_held, port) = held_port();
    let port = port.to_string();
    let out = cmd()
        .args([
            "probe",
            "--smart-host",
            "127.0.0.2",
            "--smart-host",
            "127.0.0.3",
        ])
        .args([
            "--port",
            &port,
            "--timeout",
            "5s",
            "--color",
            "never",
            "--lang",
            "ja",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    // `失敗` is four columns wide, as `FAIL` is: the step names start in one column
    assert!(text.contains("\n  失敗  connect "), "{text}");
    assert!(text.contains("\n  OK    resolve "), "{text}");
    assert!(
        text.contains(&format!(
            "127.0.0.2:{port} (4.4.316); 127.0.0.3:{port} (4.4.316)"
        )),
        "{text}"
    );
}
