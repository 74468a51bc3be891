//! The message and its delivery: MIME structure, list headers, and SMTP.
//!
//! Owns: building the `multipart/alternative` message (text first, HTML last, UTF-8) with its
//! `Message-ID`, `List-Id` and `List-Unsubscribe*` headers, the size its HTML part has as sent,
//! and handing it to an SMTP server, in as many transactions as its limit on recipients per
//! message asks, learning which recipients it took and which it refused.
//! Must not: decide what an issue holds, touch the store, or write files.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::address::Envelope;
use lettre::message::header::{Header, HeaderName, HeaderValue, Headers, To};
use lettre::message::{Mailbox, Mailboxes, MultiPart, SinglePart};
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{SmtpConnection, Tls, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::{Address, Message};
use url::Url;

use super::DigestError;

/// How long one SMTP command may take before the send fails.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the answer to `QUIT` is waited for.
const QUIT_TIMEOUT: Duration = Duration::from_secs(2);

/// The longest `Subject`, in characters; a longer one is cut at a word, with `…`.
pub const MAX_SUBJECT_CHARS: usize = 250;

/// The longest list name in `List-Id`, in characters, cut the same way.
pub const MAX_LIST_NAME_CHARS: usize = 200;

macro_rules! text_header {
    ($ty:ident, $name:literal) => {
        /// A header carried verbatim (ASCII only).
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $ty(pub String);

        impl Header for $ty {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($name)
            }
            fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok($ty(s.to_owned()))
            }
            fn display(&self) -> HeaderValue {
                HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}

text_header!(ListId, "List-Id");
text_header!(ListArchive, "List-Archive");
text_header!(AutoSubmitted, "Auto-Submitted");
text_header!(Precedence, "Precedence");
text_header!(ListUnsubscribe, "List-Unsubscribe");
text_header!(ListUnsubscribePost, "List-Unsubscribe-Post");

/// Everything the message is made of.
#[derive(Debug, Clone)]
pub struct MessageParts<'a> {
    /// `From`.
    pub from: &'a str,
    /// The recipients, one or more addresses. The `To` header names the only one, or, when
    /// there are several, the sender (each recipient is then reached through the envelope
    /// alone, as with `Bcc`), so no recipient learns the others' addresses.
    pub to: &'a [String],
    /// `Subject`.
    pub subject: &'a str,
    /// The `text/plain` part.
    pub text: &'a str,
    /// The `text/html` part.
    pub html: &'a str,
    /// `Message-ID` without angle brackets.
    pub message_id: &'a str,
    /// `Date`.
    pub date: DateTime<Utc>,
    /// The list's name, the `List-Id` phrase, e.g. `Negotiation Digest` (any text: it is
    /// encoded by [`list_id_value`]).
    pub list_name: &'a str,
    /// The list's id, without angle brackets, e.g. `international-negotiation.example.org`.
    pub list_id: &'a str,
    /// `unsubscribe_url`, if configured (mailto: or http(s):).
    pub unsubscribe_url: Option<&'a str>,
    /// The page listing every issue (`List-Archive`), when it is published.
    pub archive_url: Option<&'a str>,
}

/// Build the message. Addresses were validated with the configuration; a failure here names the
/// offending key.
pub fn build_message(p: &MessageParts<'_>) -> Result<Message, DigestError> {
    let from: Mailbox = p.from.parse().map(ascii_mailbox).map_err(|e| {
        DigestError::config(
            "digest.from",
            format!("invalid email address {:?}: {e}", p.from),
        )
    })?;
    // Both may hold a word too long for one header line (folding only happens at spaces):
    // cut to lengths a mail client shows anyway.
    // (`truncate` adds its `…` after the characters it keeps.)
    let subject = super::render::truncate(p.subject, MAX_SUBJECT_CHARS - 1);
    let list_name = super::render::truncate(p.list_name, MAX_LIST_NAME_CHARS - 1);
    let mut b = Message::builder()
        .from(from.clone())
        .subject(subject)
        .date(p.date.into())
        .message_id(Some(format!("<{}>", p.message_id)))
        .header(ListId(list_id_value(&list_name, p.list_id)))
        // RFC 3834: out-of-office and other automatic replies are not sent back to it.
        .header(AutoSubmitted("auto-generated".into()))
        .header(Precedence("list".into()));
    if let Some(archive) = p.archive_url {
        b = b.header(ListArchive(format!("<{archive}>")));
    }
    let mut recipients = Vec::with_capacity(p.to.len());
    for (i, to) in p.to.iter().enumerate() {
        let mb: Mailbox = to.parse().map(ascii_mailbox).map_err(|e| {
            DigestError::config(
                format!("digest.to[{i}]"),
                format!("invalid email address {to:?}: {e}"),
            )
        })?;
        recipients.push(mb);
    }
    let envelope = Envelope::new(
        Some(from.email.clone()),
        recipients.iter().map(|m| m.email.clone()).collect(),
    )
    .map_err(|e| DigestError::config("digest.to", format!("no usable recipient: {e}")))?;
    b = match recipients.as_slice() {
        [only] => b.to(only.clone()),
        _ => b.to(from),
    }
    .envelope(envelope);
    if let Some(u) = p.unsubscribe_url {
        b = b.header(ListUnsubscribe(format!("<{u}>")));
        if u.starts_with("https://") {
            b = b.header(ListUnsubscribePost("List-Unsubscribe=One-Click".into()));
        }
    }
    b.multipart(MultiPart::alternative_plain_html(
        p.text.to_owned(),
        p.html.to_owned(),
    ))
    .map_err(|e| DigestError::config("digest", format!("cannot build the message: {e}")))
}

/// `domain` in ASCII: an internationalized domain name in its IDNA (punycode) form, e.g.
/// `xn--mnchen-3ya.example` for `münchen.example`; anything else as it is.
pub fn ascii_domain(domain: &str) -> String {
    if domain.is_ascii() {
        return domain.to_owned();
    }
    match url::Host::parse(domain) {
        Ok(url::Host::Domain(d)) => d,
        _ => domain.to_owned(),
    }
}

/// `mailbox` with its address's domain in ASCII ([`ascii_domain`]): such an address needs no
/// `SMTPUTF8` from the server, and a `Message-ID` or `List-Id` made of it stays valid.
pub fn ascii_mailbox(mailbox: Mailbox) -> Mailbox {
    let domain = mailbox.email.domain();
    if domain.is_ascii() {
        return mailbox;
    }
    match Address::new(mailbox.email.user(), ascii_domain(domain)) {
        Ok(email) => Mailbox::new(mailbox.name, email),
        Err(_) => mailbox,
    }
}

/// The size of the `text/html` part [`build_message`] makes of `html`, as transmitted: its
/// headers and its body as encoded (quoted-printable or base64, with CRLF line ends), which is
/// what a mail client such as Gmail measures, not the length of `html`.
pub fn html_part_bytes(html: &str) -> usize {
    SinglePart::html(html.to_owned()).formatted().len()
}

/// The `List-Id` value `phrase <id>` (RFC 2919). The phrase is `name` encoded the way lettre
/// encodes a mailbox's display name: as is when it is one plain word, as a quoted-string (`"` and
/// `\` escaped) when it has spaces, quotes or backslashes, and as RFC 2047 encoded-words when it
/// holds non-ASCII or other specials (`<`, `@`, `,`, `&`, ...). The result is ASCII, so the
/// header carries it verbatim (folded at spaces only).
pub fn list_id_value(name: &str, id: &str) -> String {
    let phrase = encode_phrase(name);
    if phrase.is_empty() {
        format!("<{id}>")
    } else {
        format!("{phrase} <{id}>")
    }
}

/// `name` as a phrase: lettre's encoding of a display name, taken from a `To` header it
/// formats for a placeholder address and unfolded.
fn encode_phrase(name: &str) -> String {
    const USER: &str = "list";
    const DOMAIN: &str = "id.invalid";
    let Ok(address) = Address::new(USER, DOMAIN) else {
        return String::new();
    };
    let mut headers = Headers::new();
    headers.set(To::from(Mailboxes::from(Mailbox::new(
        Some(name.to_owned()),
        address,
    ))));
    // Folding inserts CRLF before a space, so removing the CRLFs unfolds.
    let line = headers.to_string().replace("\r\n", "");
    line.strip_prefix("To:")
        .and_then(|s| s.strip_suffix(&format!("<{USER}@{DOMAIN}>")))
        .map(str::trim)
        .unwrap_or_default()
        .to_owned()
}

/// How to reach the SMTP server, resolved from the configuration and the environment.
#[derive(Clone)]
pub struct SmtpSettings {
    /// `smtp://host[:port]` or `smtps://host[:port]`.
    pub url: String,
    /// Username and password, read from the environment variables the config names.
    pub credentials: Option<(String, String)>,
    /// The names of those two environment variables, for messages.
    pub credential_vars: Option<(String, String)>,
    /// For `smtp://` to a non-loopback host: refuse to send when the server offers no STARTTLS.
    pub require_tls: bool,
    /// `smtp_tls_ca`: certificates trusted besides the system's when the certificate is
    /// verified.
    pub tls_ca: Option<std::path::PathBuf>,
}

/// The certificates of `digest.smtp_tls_ca` (a PEM file of one or more), checked the way the
/// TLS connection uses them.
pub fn read_tls_ca(
    path: &std::path::Path,
) -> Result<Vec<lettre::transport::smtp::client::Certificate>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text = String::from_utf8_lossy(&pem);
    let blocks: Vec<&str> = text
        .split_inclusive("-----END CERTIFICATE-----")
        .filter(|b| b.contains("-----BEGIN CERTIFICATE-----"))
        .collect();
    if blocks.is_empty() {
        return Err(format!(
            "{}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    blocks
        .iter()
        .map(|b| {
            lettre::transport::smtp::client::Certificate::from_pem(b.as_bytes())
                .map_err(|e| format!("{}: not a usable certificate: {e}", path.display()))
        })
        .collect()
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("url", &self.url)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "<redacted>"),
            )
            .field("credential_vars", &self.credential_vars)
            .field("require_tls", &self.require_tls)
            .field("tls_ca", &self.tls_ca)
            .finish()
    }
}

/// A recipient the server refused (its answer to `RCPT TO`) while it took the message for the
/// others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The refused address.
    pub address: String,
    /// The server's answer, e.g. `permanent error (550): 5.1.1 no such user`.
    pub answer: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.address, self.answer)
    }
}

/// What [`send`] did: who the server took the message for, and who it refused for good.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// The recipients the server took the message for, as envelope addresses.
    pub reached: Vec<String>,
    /// The recipients it refused for good (a `5xx` answer to `RCPT TO`).
    pub refused: Vec<Refusal>,
}

/// A [`send`] that stopped before every recipient was offered the message, or got it: why,
/// and who got it before it stopped (the server took it for them in an earlier transaction
/// of the same session; nobody else did).
#[derive(Debug)]
pub struct SendFailure {
    /// What went wrong: a [`DigestError::Send`] (or a configuration error, before any send).
    pub error: Box<DigestError>,
    /// The recipients the server took the message for before, as envelope addresses.
    pub reached: Vec<String>,
}

impl From<DigestError> for SendFailure {
    fn from(error: DigestError) -> SendFailure {
        SendFailure {
            error: Box::new(error),
            reached: Vec::new(),
        }
    }
}

/// Hand `msg` to the server for the recipients `to` (the message's envelope sender is kept)
/// and wait for it to accept it (`250` after `DATA`). Each recipient is offered on its own
/// (`RCPT TO`): those the server refuses for good (`5xx`) are returned, named with the
/// server's answer, and the message goes to the others, once.
///
/// A server that takes only so many recipients per message says so with `452` (RFC 5321,
/// 4.5.3.1.10; or an enhanced code `4.5.3`/`5.5.3`) once it has taken some: the message goes
/// to those, and the rest are offered in a new transaction, as often as it takes.
///
/// Nothing more is sent once the server puts a recipient off for now (another `4xx`, e.g.
/// greylisting): nobody in that transaction gets the message, and the failure names the
/// recipients put off and those reached before (in earlier transactions), so that a retry can
/// offer it to the others alone: nobody gets it twice and nobody is left out. The same goes
/// for a failure when every recipient is refused. Any other refusal, connection failure or
/// dropped connection is a [`DigestError::Send`] too; so is a connection or command that gets
/// no answer within 30 s, reported as `timed out: …`.
///
/// `reached_before`: other recipients got this message on an earlier attempt, so a failure
/// never says that nothing was sent.
///
/// `smtp://` uses STARTTLS when the server offers it, and requires it for hosts that are not
/// loopback unless `require_tls` is off; `smtps://` is TLS from the first byte (default port
/// 465; `smtp://` defaults to 25).
pub fn send(
    settings: &SmtpSettings,
    msg: &Message,
    to: &[Address],
    reached_before: bool,
) -> Result<Delivery, SendFailure> {
    send_within(settings, msg, to, reached_before, SMTP_TIMEOUT)
}

/// [`send`], each SMTP command allowed `timeout`.
fn send_within(
    settings: &SmtpSettings,
    msg: &Message,
    to: &[Address],
    reached_before: bool,
    timeout: Duration,
) -> Result<Delivery, SendFailure> {
    let server = Server::new(settings, timeout)?;
    let failed = |e: SmtpError| DigestError::Send {
        server: redact(&settings.url),
        message: if timed_out(&e) {
            format!(
                "timed out: the SMTP server sent no answer within {}",
                seconds(timeout)
            )
        } else {
            explained(&e, settings)
        },
        permanent: e.is_permanent(),
    };
    let mut conn = server.connect().map_err(failed)?;
    let sent = transactions(
        &mut conn,
        msg.envelope().from(),
        to,
        &msg.formatted(),
        reached_before,
    );
    match &sent {
        // The connection broke or the server stopped answering: a QUIT would only wait out
        // another timeout. The connection is dropped.
        Err((Failure::Smtp(e), _)) if e.status().is_none() => {}
        // QUIT, then close; what the server says to it no longer matters, so it is not
        // waited for long: once the message is accepted, the issue's record waits for this.
        _ => {
            let _ = conn.set_timeout(Some(QUIT_TIMEOUT.min(timeout)));
            conn.abort();
        }
    }
    let (failure, reached) = match sent {
        Ok(delivery) => return Ok(delivery),
        Err(failed) => failed,
    };
    let error = match failure {
        Failure::Smtp(e) => failed(e),
        Failure::Unsupported(why) => DigestError::Send {
            server: redact(&settings.url),
            message: why.to_owned(),
            permanent: true,
        },
        Failure::Recipients(refused) => DigestError::Send {
            server: redact(&settings.url),
            permanent: refused.iter().all(|(_, permanent)| *permanent),
            message: refusals_message(&refused, reached.is_empty() && !reached_before),
        },
    };
    Err(SendFailure {
        error: Box::new(error),
        reached,
    })
}

/// Why nothing (more) was sent, from the refusals of the transaction that stopped: the
/// recipients put off, then those refused for good. `none_reached`: nobody got the message
/// before, in an earlier transaction.
fn refusals_message(refused: &[(Refusal, bool)], none_reached: bool) -> String {
    let list = |permanent: bool| -> Vec<String> {
        refused
            .iter()
            .filter(|(_, p)| *p == permanent)
            .map(|(r, _)| r.to_string())
            .collect()
    };
    let (put_off, gone) = (list(false), list(true));
    let mut message = Vec::new();
    if !put_off.is_empty() {
        message.push(format!(
            "the server put off {}: {}",
            if put_off.len() == 1 {
                "a recipient"
            } else {
                "recipients"
            },
            put_off.join(", ")
        ));
    }
    if !gone.is_empty() {
        message.push(format!(
            "the server refused {}: {}",
            match (gone.len(), put_off.is_empty() && none_reached) {
                (1, true) => "the recipient",
                (_, true) => "every recipient",
                (1, false) => "a recipient",
                _ => "recipients",
            },
            gone.join(", ")
        ));
    }
    let mut message = message.join("; ");
    if none_reached {
        message.push_str("; nothing was sent");
        if !put_off.is_empty() {
            message.push_str(" (to anyone: a retry then reaches every recipient once)");
        }
    }
    message
}

/// Why a transaction sent nothing.
enum Failure {
    /// A command failed, or the connection did.
    Smtp(SmtpError),
    /// The message needs an extension the server does not offer.
    Unsupported(&'static str),
    /// Every recipient was refused, or some were put off for now (a `4xx` answer), so that
    /// nobody in the transaction got it: each refused one, with whether the refusal was
    /// permanent.
    Recipients(Vec<(Refusal, bool)>),
}

/// The message to every recipient of `to`, in as many transactions as the server's limit on
/// recipients per message asks (see [`send`]): who got it and who was refused for good, or
/// why it stopped, with who got it before. Every recipient refused is a failure, unless
/// others got the message on an earlier attempt (`reached_before`).
fn transactions(
    conn: &mut SmtpConnection,
    from: Option<&Address>,
    to: &[Address],
    email: &[u8],
    reached_before: bool,
) -> Result<Delivery, (Failure, Vec<String>)> {
    let options = mail_options(conn, from, to, email).map_err(|f| (f, Vec::new()))?;
    let mut delivery = Delivery::default();
    let mut refused = Vec::new();
    let mut left = to;
    while !left.is_empty() {
        let fail = |f: Failure, d: &Delivery| (f, d.reached.clone());
        conn.command(Mail::new(from.cloned(), options.clone()))
            .map_err(|e| fail(Failure::Smtp(e), &delivery))?;
        let offered = recipients(conn, left).map_err(|e| fail(Failure::Smtp(e), &delivery))?;
        left = &left[offered.offered..];
        let put_off = offered.refused.iter().any(|(_, permanent)| !permanent);
        refused.extend(offered.refused);
        // Someone put off for now would be left out of an issue recorded as sent: nobody in
        // this transaction gets it now, and a retry offers it to them again.
        if put_off {
            let _ = conn.command(Rset);
            return Err(fail(Failure::Recipients(refused), &delivery));
        }
        if offered.accepted.is_empty() {
            // Every one refused for good, and so none left: the transaction is dropped.
            break;
        }
        conn.command(Data)
            .map_err(|e| fail(Failure::Smtp(e), &delivery))?;
        conn.message(email)
            .map_err(|e| fail(Failure::Smtp(e), &delivery))?;
        delivery.reached.extend(offered.accepted);
    }
    if delivery.reached.is_empty() && !reached_before {
        return Err((Failure::Recipients(refused), Vec::new()));
    }
    delivery.refused = refused.into_iter().map(|(r, _)| r).collect();
    Ok(delivery)
}

/// The `MAIL FROM` options lettre's own transport sends: `SMTPUTF8` for non-ASCII addresses
/// and `8BITMIME` for a non-ASCII message, each refused when the server lacks it.
fn mail_options(
    conn: &SmtpConnection,
    from: Option<&Address>,
    to: &[Address],
    email: &[u8],
) -> Result<Vec<MailParameter>, Failure> {
    let mut options = Vec::new();
    let non_ascii = |a: &Address| !AsRef::<str>::as_ref(a).is_ascii();
    if to.iter().chain(from).any(non_ascii) {
        if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Err(Failure::Unsupported(
                "an address is not ASCII, and the server does not offer SMTPUTF8",
            ));
        }
        options.push(MailParameter::SmtpUtfEight);
    }
    if !email.is_ascii() {
        if !conn.server_info().supports_feature(Extension::EightBitMime) {
            return Err(Failure::Unsupported(
                "the message is not ASCII, and the server does not offer 8BITMIME",
            ));
        }
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    Ok(options)
}

/// The answers to the `RCPT TO` of one transaction.
struct Offered {
    /// How many of the recipients were offered (the others wait for the next transaction:
    /// the server took as many as it takes per message).
    offered: usize,
    /// Those it took.
    accepted: Vec<String>,
    /// Those it refused, with whether for good.
    refused: Vec<(Refusal, bool)>,
}

/// One `RCPT TO` per recipient of `to`, until the server says it takes no more for this
/// message (see [`too_many_recipients`]) once it took some. A broken connection fails.
fn recipients(conn: &mut SmtpConnection, to: &[Address]) -> Result<Offered, SmtpError> {
    let mut offered = Offered {
        offered: to.len(),
        accepted: Vec::new(),
        refused: Vec::new(),
    };
    for (i, address) in to.iter().enumerate() {
        match conn.command(Rcpt::new(address.clone(), Vec::new())) {
            Ok(_) => offered.accepted.push(address.to_string()),
            // Before anyone was taken, it is about this recipient, or about the message: it
            // is put off (or refused) like any other answer.
            Err(e) if !offered.accepted.is_empty() && too_many_recipients(&e) => {
                offered.offered = i;
                break;
            }
            // An answer about this recipient; a broken connection fails the whole send.
            Err(e) if e.status().is_some() => offered.refused.push((
                Refusal {
                    address: address.to_string(),
                    answer: error_chain(&e),
                },
                e.is_permanent(),
            )),
            Err(e) => return Err(e),
        }
    }
    Ok(offered)
}

/// Whether an answer to `RCPT TO` says the message has as many recipients as the server takes:
/// `452` (RFC 5321, 4.5.3.1.10), or the enhanced status `4.5.3` or `5.5.3` ("too many
/// recipients", RFC 3463) with any code, as older servers answer `552`.
fn too_many_recipients(e: &SmtpError) -> bool {
    let Some(code) = e.status() else {
        return false;
    };
    if code.to_string() == "452" {
        return true;
    }
    let text = std::error::Error::source(e).map(ToString::to_string);
    let enhanced = text.as_deref().and_then(|t| t.split_whitespace().next());
    matches!(enhanced, Some("4.5.3" | "5.5.3"))
}

/// Whether `e` is a command or connection that ran out of time. lettre's own `is_timeout`
/// knows only `TimedOut` (a connect timeout); a socket read timeout surfaces as `WouldBlock`
/// ("Resource temporarily unavailable") on Unix. Its sockets are blocking, so `WouldBlock`
/// can only mean the timeout.
fn timed_out(e: &lettre::transport::smtp::Error) -> bool {
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            );
        }
        src = inner.source();
    }
    false
}

/// `30 s`, or `300 ms` below a whole second.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// The SMTP server to connect to, resolved from [`SmtpSettings`].
struct Server {
    host: String,
    port: u16,
    tls: Tls,
    credentials: Option<Credentials>,
    timeout: Duration,
}

impl Server {
    fn new(settings: &SmtpSettings, timeout: Duration) -> Result<Server, DigestError> {
        let cfg = |m: String| DigestError::config("digest.smtp_url", m);
        let url = Url::parse(&settings.url).map_err(|e| cfg(format!("invalid URL: {e}")))?;
        let host = url
            .host_str()
            .ok_or_else(|| cfg("has no host".into()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let loopback =
            host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        // A verified connection trusts the system's certificates and `smtp_tls_ca`'s.
        let verified = || {
            let mut b = TlsParameters::builder(host.clone());
            if let Some(path) = &settings.tls_ca {
                for cert in
                    read_tls_ca(path).map_err(|m| DigestError::config("digest.smtp_tls_ca", m))?
                {
                    b = b.add_root_certificate(cert);
                }
            }
            b.build()
                .map_err(|e| cfg(format!("cannot set up TLS: {e}")))
        };
        // Opportunistic STARTTLS (a relay on loopback, or `require_tls = false`) takes any
        // certificate: it would send in plain text to a server offering no STARTTLS, so
        // refusing an unverified certificate would protect nothing, and a local relay's is
        // usually self-signed (RFC 7435, opportunistic security).
        let unverified = || {
            TlsParameters::builder(host.clone())
                .dangerous_accept_invalid_certs(true)
                .dangerous_accept_invalid_hostnames(true)
                .build()
                .map_err(|e| cfg(format!("cannot set up TLS: {e}")))
        };
        let (tls, default_port) = match url.scheme() {
            "smtps" => (Tls::Wrapper(verified()?), 465),
            "smtp" if loopback || !settings.require_tls => (Tls::Opportunistic(unverified()?), 25),
            "smtp" => (Tls::Required(verified()?), 25),
            other => return Err(cfg(format!("unsupported scheme {other:?}"))),
        };
        Ok(Server {
            port: url.port().unwrap_or(default_port),
            host,
            tls,
            credentials: settings
                .credentials
                .as_ref()
                .map(|(user, pass)| Credentials::new(user.clone(), pass.clone())),
            timeout,
        })
    }

    /// A session ready for `MAIL FROM`: greeted, encrypted as `tls` asks, authenticated when
    /// there are credentials. The steps lettre's `SmtpTransport` takes, which offers no way
    /// to learn which recipients were refused.
    fn connect(&self) -> Result<SmtpConnection, SmtpError> {
        let hello = ClientId::default();
        let wrapper = match &self.tls {
            Tls::Wrapper(p) => Some(p),
            _ => None,
        };
        let mut conn = SmtpConnection::connect(
            (self.host.as_str(), self.port),
            Some(self.timeout),
            &hello,
            wrapper,
            None,
        )?;
        match &self.tls {
            Tls::Opportunistic(p) if conn.can_starttls() => conn.starttls(p, &hello)?,
            Tls::Required(p) => conn.starttls(p, &hello)?,
            _ => {}
        }
        if let Some(c) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, c)?;
        }
        Ok(conn)
    }
}

/// What went wrong with the SMTP session, in lettre's words, and what to change when the cause
/// is plain: the credentials, the TLS settings, or a server that hung up.
fn explained(e: &SmtpError, settings: &SmtpSettings) -> String {
    let words = error_chain(e);
    let code = e.status().map(|c| c.to_string());
    let vars = settings
        .credential_vars
        .as_ref()
        .map(|(u, p)| {
            format!("{u} and {p}, named by digest.smtp_username_env and smtp_password_env")
        })
        .unwrap_or_else(|| "digest.smtp_username_env and smtp_password_env".into());
    let hint = if code.as_deref() == Some("535") {
        let user = settings
            .credentials
            .as_ref()
            .map(|(u, _)| format!(" as {u:?}"))
            .unwrap_or_default();
        format!("the server refused to log in{user}: check {vars}")
    } else if code.as_deref() == Some("530") && settings.credentials.is_none() {
        "the server asks to log in first: set digest.smtp_username_env and smtp_password_env"
            .to_owned()
    } else if words.contains("No compatible authentication mechanism") {
        format!(
            "credentials are set ({vars}) but the server offers no way to log in that feedwright \
             speaks (AUTH PLAIN or LOGIN); servers often offer it only after STARTTLS"
        )
    } else if words.contains("invalid peer certificate") {
        "the server's TLS certificate is not trusted: for a certificate from a private CA, set \
         digest.smtp_tls_ca to that CA's certificate (PEM); opportunistic STARTTLS (smtp:// to \
         a relay on loopback, or with require_tls = false) checks no certificate"
            .to_owned()
    } else if settings.url.starts_with("smtps:")
        && (words.contains("corrupt message") || words.contains("InvalidContentType"))
    {
        "the server did not answer in TLS: smtps:// is TLS from the first byte (port 465); a \
         server that starts in plain text and offers STARTTLS (port 25 or 587) is smtp://"
            .to_owned()
    } else if words.contains("incomplete response") {
        "the server closed the connection before it answered".to_owned()
    } else {
        return words;
    };
    format!("{words} ({hint})")
}

/// The URL without any user info.
fn redact(u: &str) -> String {
    match Url::parse(u) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        Err(_) => u.to_owned(),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_message() -> Message {
        build_message(&MessageParts {
            from: "Digest <digest@example.org>",
            to: &["list@example.org".to_owned()],
            subject: "s",
            text: "t",
            html: "<p>h</p>",
            message_id: "m@example.org",
            date: DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            list_name: "Digest",
            list_id: "d.example.org",
            unsubscribe_url: None,
            archive_url: None,
        })
        .expect("message")
    }

    /// [`send_within`] of the sample message to its recipients: what it did, or its error.
    fn send_sample(settings: &SmtpSettings, timeout: Duration) -> Result<Delivery, DigestError> {
        let msg = sample_message();
        send_within(settings, &msg, msg.envelope().to(), false, timeout).map_err(|f| *f.error)
    }

    #[test]
    fn a_server_that_never_answers_is_reported_as_a_timeout() {
        // Accepts the connection (the kernel does, from the backlog) and never says a word.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = silent.local_addr().expect("addr").port();
        let settings = SmtpSettings {
            url: format!("smtp://127.0.0.1:{port}"),
            credentials: None,
            credential_vars: None,
            require_tls: true,
            tls_ca: None,
        };
        let err = send_sample(&settings, Duration::from_millis(300)).expect_err("no answer");
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!(
                "sending the digest via smtp://127.0.0.1:{port} failed: timed out: \
                 the SMTP server sent no answer within 300 ms"
            )),
            "{shown}"
        );
        assert!(!shown.contains("os error"), "{shown}");
        assert_eq!(err.exit_code(), 1);
        drop(silent);

        // Other failures keep lettre's own words.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let settings = SmtpSettings {
            url: format!("smtp://127.0.0.1:{closed}"),
            ..settings
        };
        let err = send_sample(&settings, Duration::from_millis(300)).expect_err("refused");
        let shown = err.to_string();
        assert!(!shown.contains("timed out"), "{shown}");
        assert!(shown.contains("Connection refused"), "{shown}");
    }

    #[test]
    fn a_server_silent_after_the_message_is_left_without_a_quit() {
        use std::io::{BufRead, BufReader, Write};
        // Answers every command until the message's final dot, then never again; records
        // every line it was sent until the client closes the connection.
        let server = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = server.local_addr().expect("addr").port();
        let seen = std::thread::spawn(move || {
            let (conn, _) = server.accept().expect("accept");
            let mut out = conn.try_clone().expect("clone");
            let mut lines = Vec::new();
            out.write_all(b"220 ready\r\n").expect("greet");
            let mut data = false;
            for line in BufReader::new(conn).lines() {
                let Ok(line) = line else { break };
                let answer: &[u8] = match line.as_str() {
                    "." => b"",
                    l if data || l.is_empty() => b"",
                    l if l.starts_with("EHLO") => b"250 hi\r\n",
                    "DATA" => b"354 go on\r\n",
                    _ => b"250 ok\r\n",
                };
                data |= line == "DATA";
                data &= line != ".";
                lines.push(line);
                out.write_all(answer).expect("answer");
            }
            lines
        });
        let settings = SmtpSettings {
            url: format!("smtp://127.0.0.1:{port}"),
            credentials: None,
            credential_vars: None,
            require_tls: true,
            tls_ca: None,
        };
        let err = send_sample(&settings, Duration::from_millis(300))
            .expect_err("no answer after the message");
        assert!(err.to_string().contains("timed out"), "{err}");
        let lines = seen.join().expect("server");
        assert!(lines.iter().any(|l| l == "."), "{lines:?}");
        assert!(!lines.iter().any(|l| l == "QUIT"), "{lines:?}");
    }

    #[test]
    fn list_id_phrases_are_quoted_or_encoded_as_needed() {
        assert_eq!(
            list_id_value("Digest", "d.example.org"),
            "Digest <d.example.org>"
        );
        assert_eq!(
            list_id_value("Negotiation Weekly", "n.example.org"),
            "\"Negotiation Weekly\" <n.example.org>"
        );
        assert_eq!(
            list_id_value(r#"Say "hi" \ there"#, "n.example.org"),
            r#""Say \"hi\" \\ there" <n.example.org>"#
        );
        // Specials other than `"` and `\`, and non-ASCII, become one encoded-word.
        assert_eq!(
            list_id_value("Main & <Feed>", "main.example.org"),
            "=?utf-8?b?TWFpbiAmIDxGZWVkPg==?= <main.example.org>"
        );
        assert!(
            list_id_value("Café", "c.example.org").starts_with("=?utf-8?b?"),
            "{}",
            list_id_value("Café", "c.example.org")
        );
        assert_eq!(list_id_value("", "e.example.org"), "<e.example.org>");
        // Long names come back unfolded: the header folds the whole value once.
        let long = "word ".repeat(40);
        let v = list_id_value(long.trim(), "l.example.org");
        assert!(!v.contains('\r') && !v.contains('\n'), "{v:?}");
        assert_eq!(v, format!("\"{}\" <l.example.org>", long.trim()));
    }
}
