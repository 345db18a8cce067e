//! The SMTP side of the probe: reading replies (RFC 5321 section 4.2) and sending the few
//! commands the probe uses (EHLO, STARTTLS, QUIT) over a plain or TLS stream, each bounded
//! in time. The probe never sends MAIL FROM, RCPT TO or DATA: `Conn::command` refuses to.

use rustls::{ClientConnection, StreamOwned};
use std::cell::Cell;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// A reply line longer than this (RFC 5321 allows 512) is not an SMTP server talking.
pub const MAX_LINE: usize = 4096;
/// A reply with more lines than this is not an SMTP server talking.
pub const MAX_LINES: usize = 200;

/// A complete reply: its code and the text of each line (decoded without hiding anything:
/// this is network text, and the renderers escape it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// The reply as the server sent it, lines joined with ` / ` (cut to a readable length).
    pub fn text(&self) -> String {
        let s = self
            .lines
            .iter()
            .map(|l| {
                if l.is_empty() {
                    self.code.to_string()
                } else {
                    format!("{} {l}", self.code)
                }
            })
            .collect::<Vec<_>>()
            .join(" / ");
        crate::sanitize::truncate(&s, 300).into_owned()
    }

    /// The first line only (for EHLO, whose other lines are extensions).
    pub fn first_line(&self) -> String {
        let l = self.lines.first().map(String::as_str).unwrap_or("");
        let s = format!("{} {l}", self.code);
        crate::sanitize::truncate(s.trim_end(), 200).into_owned()
    }

    /// EHLO keywords (the first word of each line after the first), upper-cased.
    pub fn ehlo_keywords(&self) -> Vec<String> {
        self.lines
            .iter()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_ascii_uppercase)
            .collect()
    }
}

/// Why the dialogue stopped.
#[derive(Debug)]
pub enum DialogueError {
    /// No complete reply within the time allowed.
    Timeout,
    /// The peer closed or reset the connection (what happened, in words).
    Closed(String),
    /// Something that is not an SMTP reply.
    Malformed(String),
    /// Another socket error.
    Io(io::Error),
}

/// Whether a socket operation ran out of its time limit (`WouldBlock` on Unix, `TimedOut`
/// on Windows).
pub fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

impl DialogueError {
    pub fn from_io(e: io::Error) -> DialogueError {
        if timed_out(&e) {
            return DialogueError::Timeout;
        }
        match e.kind() {
            io::ErrorKind::UnexpectedEof => {
                DialogueError::Closed("the server closed the connection".into())
            }
            io::ErrorKind::ConnectionReset => {
                DialogueError::Closed("the server reset the connection".into())
            }
            io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::NotConnected => {
                DialogueError::Closed(format!("the connection was closed: {e}"))
            }
            _ => DialogueError::Io(e),
        }
    }
}

/// Parses one reply line (without its line ending): `(code, is_last, text)`.
pub fn parse_line(line: &[u8]) -> Result<(u16, bool, &[u8]), String> {
    let shown = || crate::sanitize::truncate(&crate::sanitize::visible(line), 80).into_owned();
    let digits = line
        .get(..3)
        .ok_or_else(|| format!("not an SMTP reply: `{}`", shown()))?;
    // ok: `digits` has exactly three bytes
    if !digits.iter().all(u8::is_ascii_digit) || !(b'2'..=b'5').contains(&digits[0]) {
        return Err(format!("not an SMTP reply: `{}`", shown()));
    }
    let code = digits
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    // ok: line[4..] is in bounds (possibly empty) when line[3] exists
    match line.get(3) {
        None => Ok((code, true, &[])),
        Some(b' ') => Ok((code, true, &line[4..])),
        Some(b'-') => Ok((code, false, &line[4..])),
        Some(_) => Err(format!("not an SMTP reply: `{}`", shown())),
    }
}

/// A TCP stream whose every read and write ends by a shared deadline: the socket's time
/// limit is set to what is left before each of them, so a server that drips its TLS records
/// a byte at a time cannot hold one operation past its deadline (TLS reads many times to
/// complete one record).
pub struct Deadlined {
    pub tcp: TcpStream,
    pub deadline: Rc<Cell<Option<Instant>>>,
}

impl Deadlined {
    pub fn new(tcp: TcpStream) -> Deadlined {
        Deadlined {
            tcp,
            deadline: Rc::new(Cell::new(None)),
        }
    }

    /// A stream whose reads and writes all end by `deadline`.
    pub fn until(tcp: TcpStream, deadline: Instant) -> Deadlined {
        let d = Deadlined::new(tcp);
        d.deadline.set(Some(deadline));
        d
    }

    fn arm(&self) -> io::Result<()> {
        if let Some(d) = self.deadline.get() {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            self.tcp.set_read_timeout(Some(left))?;
            self.tcp.set_write_timeout(Some(left))?;
        }
        Ok(())
    }
}

impl Read for Deadlined {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.arm()?;
        self.tcp.read(buf)
    }
}

impl Write for Deadlined {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm()?;
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// The connection, plain or after STARTTLS.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, Deadlined>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock.tcp,
        }
    }

    /// Bounds every socket operation of the stream by `deadline` (TLS: each record read).
    fn bound(&self, deadline: Instant) {
        if let Stream::Tls(s) = self {
            s.sock.deadline.set(Some(deadline));
        }
    }
}

/// An SMTP client connection with its own read buffer and a time limit per operation (and
/// none past the end of the whole probe).
pub struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    timeout: Duration,
    end: Option<Instant>,
}

impl Conn {
    pub fn new(stream: Stream, timeout: Duration) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
            timeout,
            end: None,
        }
    }

    /// No operation goes on past `end` (the probe's total deadline).
    pub fn until(mut self, end: Instant) -> Conn {
        self.end = Some(end);
        self
    }

    /// The deadline of an operation starting now.
    fn deadline(&self) -> Instant {
        let d = Instant::now() + self.timeout;
        self.end.map_or(d, |e| d.min(e))
    }

    /// Gives the TCP stream back for the TLS handshake after a 220 to STARTTLS. Anything the
    /// server sent after that 220 and before the handshake is thrown away (never read as a
    /// reply: that is the STARTTLS command-injection hole of RFC 3207 section 6); returns
    /// how many bytes that was.
    pub fn into_tcp(self) -> Result<(TcpStream, usize), Conn> {
        match self.stream {
            Stream::Plain(s) => Ok((s, self.buf.len())),
            Stream::Tls(_) => Err(self),
        }
    }

    fn set_timeouts(&self, d: Duration) -> io::Result<()> {
        let tcp = self.stream.tcp();
        tcp.set_read_timeout(Some(d))?;
        tcp.set_write_timeout(Some(d))
    }

    fn remaining(deadline: Instant) -> Result<Duration, DialogueError> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(DialogueError::Timeout)
        } else {
            Ok(left)
        }
    }

    /// Reads one complete reply, within the time limit as a whole.
    pub fn read_reply(&mut self) -> Result<Reply, DialogueError> {
        let deadline = self.deadline();
        self.stream.bound(deadline);
        let mut code = None;
        let mut lines = Vec::new();
        loop {
            let line = self.read_line(deadline)?;
            let (c, last, text) = parse_line(&line).map_err(DialogueError::Malformed)?;
            if code.is_some_and(|first| first != c) {
                return Err(DialogueError::Malformed(format!(
                    "reply lines with different codes ({} then {c})",
                    code.unwrap_or(c)
                )));
            }
            code = Some(c);
            lines.push(crate::sanitize::decode(text));
            if last {
                return Ok(Reply { code: c, lines });
            }
            if lines.len() >= MAX_LINES {
                return Err(DialogueError::Malformed(format!(
                    "a reply of more than {MAX_LINES} lines"
                )));
            }
        }
    }

    /// One line without its CRLF (a bare LF is accepted).
    fn read_line(&mut self, deadline: Instant) -> Result<Vec<u8>, DialogueError> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=i).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.buf.len() > MAX_LINE {
                return Err(DialogueError::Malformed(format!(
                    "a reply line longer than {MAX_LINE} bytes"
                )));
            }
            let left = Self::remaining(deadline)?;
            self.set_timeouts(left).map_err(DialogueError::from_io)?;
            let mut chunk = [0u8; 2048];
            let n = match &mut self.stream {
                Stream::Plain(s) => s.read(&mut chunk),
                Stream::Tls(s) => s.read(&mut chunk),
            };
            match n {
                Ok(0) => {
                    return Err(if self.buf.is_empty() {
                        DialogueError::Closed("the server closed the connection".into())
                    } else {
                        DialogueError::Closed(
                            "the server closed the connection in the middle of a reply".into(),
                        )
                    });
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(DialogueError::from_io(e)),
            }
        }
    }

    /// Sends one command line (CRLF added).
    pub fn send(&mut self, line: &str) -> Result<(), DialogueError> {
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        // the probe sends no mail, whatever a caller asks
        if matches!(verb.as_str(), "MAIL" | "RCPT" | "DATA" | "BDAT") {
            return Err(DialogueError::Io(io::Error::other(
                "the probe never sends mail transaction commands",
            )));
        }
        let deadline = self.deadline();
        self.stream.bound(deadline);
        let left = Self::remaining(deadline)?;
        self.set_timeouts(left).map_err(DialogueError::from_io)?;
        let bytes = format!("{line}\r\n");
        let r = match &mut self.stream {
            Stream::Plain(s) => s.write_all(bytes.as_bytes()).and_then(|_| s.flush()),
            Stream::Tls(s) => s.write_all(bytes.as_bytes()).and_then(|_| s.flush()),
        };
        r.map_err(DialogueError::from_io)
    }

    /// Sends a command and reads its reply.
    pub fn command(&mut self, line: &str) -> Result<Reply, DialogueError> {
        self.send(line)?;
        self.read_reply()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    #[test]
    fn parses_reply_lines() {
        assert_eq!(
            parse_line(b"220 mx.test ESMTP"),
            Ok((220, true, &b"mx.test ESMTP"[..]))
        );
        assert_eq!(
            parse_line(b"250-SIZE 100"),
            Ok((250, false, &b"SIZE 100"[..]))
        );
        assert_eq!(parse_line(b"554"), Ok((554, true, &b""[..])));
        assert!(parse_line(b"HTTP/1.1 400 Bad Request").is_err());
        assert!(parse_line(b"22").is_err());
        assert!(parse_line(b"220_x").is_err());
        assert!(parse_line(b"120 x").is_err());
        assert!(parse_line(b"\x1b[2J").unwrap_err().contains("\\x1b"));
    }

    #[test]
    fn keywords_and_text() {
        let r = Reply {
            code: 250,
            lines: vec!["mx.test hello".into(), "starttls".into(), "SIZE 10".into()],
        };
        assert_eq!(r.ehlo_keywords(), vec!["STARTTLS", "SIZE"]);
        assert_eq!(r.first_line(), "250 mx.test hello");
        assert_eq!(r.code / 100, 2);
        let r = Reply {
            code: 554,
            lines: vec!["no service".into(), "".into()],
        };
        assert_eq!(r.text(), "554 no service / 554");
        assert_ne!(r.code / 100, 2);
    }

    /// A loopback server that writes `script` then waits a moment and closes.
    fn serve(script: &'static [u8]) -> Conn {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        thread::spawn(move || {
            if let Ok((mut s, _)) = l.accept() {
                let _ = s.write_all(script);
                thread::sleep(Duration::from_millis(300));
            }
        });
        let s = TcpStream::connect(addr).unwrap();
        Conn::new(Stream::Plain(s), Duration::from_secs(5))
    }

    #[test]
    fn reads_multiline_replies_over_a_socket() {
        let mut c = serve(b"220-first\r\n220 second\n250 ok\r\n");
        let r = c.read_reply().unwrap();
        assert_eq!(r.code, 220);
        assert_eq!(r.lines, vec!["first", "second"]);
        assert_eq!(c.read_reply().unwrap().code, 250);
        assert!(matches!(c.read_reply(), Err(DialogueError::Closed(_))));
    }

    #[test]
    fn rejects_mixed_codes_and_garbage() {
        let mut c = serve(b"220-a\r\n250 b\r\n");
        assert!(matches!(c.read_reply(), Err(DialogueError::Malformed(_))));
        let mut c = serve(b"SSH-2.0-OpenSSH\r\n");
        assert!(matches!(c.read_reply(), Err(DialogueError::Malformed(_))));
        let mut c = serve(b"220 partial");
        match c.read_reply() {
            Err(DialogueError::Closed(m)) => assert!(m.contains("middle")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn times_out_without_reply() {
        let mut c = serve(b"");
        c.timeout = Duration::from_millis(100);
        assert!(matches!(c.read_reply(), Err(DialogueError::Timeout)));
    }

    #[test]
    fn refuses_to_send_mail() {
        let mut c = serve(b"");
        for cmd in ["MAIL FROM:<a@b>", "rcpt to:<a@b>", "DATA", "bdat 10 LAST"] {
            assert!(c.send(cmd).is_err(), "{cmd}");
        }
    }
}
