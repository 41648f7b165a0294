//! Client certificates refused in the handshake (mutual TLS), logged so an
//! operator can see why a client cannot connect: which rule failed
//! (`reason`), the client's address, and the certificate's subject, issuer
//! and serial number — never key material.
//!
//! rustls hands the verifier the certificate but not the connection, and
//! the acceptor the failure but not the certificate: [`Recorded`] wraps the
//! verifier and, when it refuses, leaves the certificate's fields in a
//! task-local slot that [`recording`] scopes around each handshake.
//!
//! Rate limit: at most one line per client address (IPv6: per /64) and
//! reason per minute ([`INTERVAL`]); the next line for that pair says how
//! many were not logged in between (`suppressed`). At most [`MAX_TRACKED`]
//! pairs are remembered; when more were refused within a minute, one line
//! says so and new ones go unlogged for that minute. Every refusal counts in
//! `docker_agent_auth_failures_total{credential="client_certificate"}`.

use super::x509;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// How often one client address may log a refusal for one reason.
pub const INTERVAL: Duration = Duration::from_secs(60);
/// Client and reason pairs remembered at once (about 64 bytes each).
pub const MAX_TRACKED: usize = 1024;

tokio::task_local! {
    /// The fields of the certificate the verifier refused in this handshake.
    static PRESENTED: RefCell<Option<Presented>>;
}

/// What a refused client certificate says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    version: u8,
    subject: String,
    issuer: String,
    serial: String,
    validity: x509::Validity,
}

impl Presented {
    fn of(der: &[u8]) -> Option<Presented> {
        let c = x509::read(der)?;
        Some(Presented {
            version: c.version,
            subject: c.subject(),
            issuer: c.issuer(),
            serial: c.serial(),
            validity: c.validity,
        })
    }

    /// Leaves the fields of `der` for [`recording`] (nothing outside it).
    fn record(der: &[u8]) {
        let _ = PRESENTED.try_with(|slot| *slot.borrow_mut() = Presented::of(der));
    }
}

/// Runs `handshake` and returns its outcome with the certificate the
/// verifier refused in it, if any.
pub async fn recording<F: Future>(handshake: F) -> (F::Output, Option<Presented>) {
    let mut scoped = std::pin::pin!(PRESENTED.scope(RefCell::new(None), handshake));
    let outcome = scoped.as_mut().await;
    let presented = scoped.as_mut().take_value().and_then(RefCell::into_inner);
    (outcome, presented)
}

/// `verdict`, having recorded `cert` when it is a refusal.
fn recorded<T>(verdict: Result<T, Error>, cert: &CertificateDer<'_>) -> Result<T, Error> {
    if verdict.is_err() {
        Presented::record(cert);
    }
    verdict
}

/// A client certificate verifier that records what it refuses.
#[derive(Debug)]
pub struct Recorded(pub Arc<dyn ClientCertVerifier>);

impl ClientCertVerifier for Recorded {
    fn offer_client_auth(&self) -> bool {
        self.0.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.0.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.0.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        recorded(
            self.0.verify_client_cert(end_entity, intermediates, now),
            end_entity,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        recorded(self.0.verify_tls12_signature(message, cert, dss), cert)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        recorded(self.0.verify_tls13_signature(message, cert, dss), cert)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.0.requires_raw_public_keys()
    }
}

/// Why the handshake that ended with `error` refused the client's
/// certificate: a short token and an explanation; `None` when the error is
/// about something else (a client that hung up, or does not trust ours).
pub fn reason(error: &Error, presented: Option<&Presented>) -> Option<(&'static str, String)> {
    let Error::InvalidCertificate(e) = error else {
        return matches!(error, Error::NoCertificatesPresented)
            .then(|| ("no_certificate", "the client sent no certificate".into()));
    };
    let validity = presented.map(|p| p.validity);
    Some(match e {
        // webpki refuses v1 and v2 certificates before anything else.
        _ if presented.is_some_and(|p| p.version < 3) => (
            "not_v3",
            format!(
                "an X.509 v{} certificate: only v3 certificates (with extensions) are accepted",
                presented.map_or(1, |p| p.version)
            ),
        ),
        CertificateError::UnknownIssuer => (
            "unknown_issuer",
            "not issued by a CA of TLS_CLIENT_CA_FILE".into(),
        ),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => (
            "expired",
            validity.map_or("expired".into(), |v| {
                format!("expired at {}", x509::date(v.not_after))
            }),
        ),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => (
            "not_yet_valid",
            validity.map_or("not valid yet".into(), |v| {
                format!("not valid before {}", x509::date(v.not_before))
            }),
        ),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => (
            "wrong_purpose",
            "its extended key usage does not include client authentication (clientAuth)".into(),
        ),
        CertificateError::BadSignature => (
            "bad_signature",
            "a signature does not verify (the certificate's, or the client's proof that it holds the key)".into(),
        ),
        CertificateError::BadEncoding => ("malformed", "not a well-formed certificate".into()),
        other => ("other", other.to_string()),
    })
}

/// The refusals of one listener and their rate limit.
#[derive(Default)]
pub struct Refusals(Mutex<Throttle>);

impl Refusals {
    /// Counts and logs (rate-limited) a handshake with `peer` that `error`
    /// ended, when it refused the client's certificate; `false` when the
    /// error is about something else.
    pub fn note(&self, peer: SocketAddr, error: &Error, presented: Option<&Presented>) -> bool {
        let Some((reason, detail)) = reason(error, presented) else {
            return false;
        };
        crate::counters::auth_failure("client_certificate");
        let client = crate::net::canonical(peer.ip());
        let verdict = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .admit((crate::net::client_key(client), reason), Instant::now());
        let client = client.to_string();
        let (client, detail) = (client.as_str(), detail.as_str());
        match (verdict, presented) {
            (Verdict::Quiet, _) => {}
            (Verdict::Crowded, _) => log::warn!(
                tracked = MAX_TRACKED;
                "TLS client certificates refused from too many client addresses within a minute: \
                 not logging new ones for a minute; docker_agent_auth_failures_total counts them all"
            ),
            (Verdict::Log { suppressed }, Some(p)) => log::warn!(
                client = client, reason = reason, detail = detail,
                subject = p.subject.as_str(), issuer = p.issuer.as_str(),
                serial = p.serial.as_str(), suppressed = suppressed;
                "TLS client certificate refused"
            ),
            (Verdict::Log { suppressed }, None) => log::warn!(
                client = client, reason = reason, detail = detail, suppressed = suppressed;
                "TLS client certificate refused"
            ),
        }
        true
    }
}

/// When each client and reason pair last logged, and how many it did not since.
#[derive(Default)]
struct Throttle {
    marks: HashMap<(IpAddr, &'static str), Logged>,
    /// When the line about too many addresses was last logged.
    crowded: Option<Instant>,
}

struct Logged {
    logged: Instant,
    suppressed: u64,
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Log this one, saying how many were not logged since the last line.
    Log {
        suppressed: u64,
    },
    /// Too many pairs to remember: log that once a minute.
    Crowded,
    Quiet,
}

impl Throttle {
    fn admit(&mut self, key: (IpAddr, &'static str), now: Instant) -> Verdict {
        if let Some(mark) = self.marks.get_mut(&key) {
            if now.duration_since(mark.logged) < INTERVAL {
                mark.suppressed += 1;
                return Verdict::Quiet;
            }
            mark.logged = now;
            return Verdict::Log {
                suppressed: std::mem::take(&mut mark.suppressed),
            };
        }
        if self.marks.len() >= MAX_TRACKED {
            self.marks
                .retain(|_, m| now.duration_since(m.logged) < INTERVAL);
        }
        if self.marks.len() >= MAX_TRACKED {
            if self
                .crowded
                .is_some_and(|t| now.duration_since(t) < INTERVAL)
            {
                return Verdict::Quiet;
            }
            self.crowded = Some(now);
            return Verdict::Crowded;
        }
        let mark = Logged {
            logged: now,
            suppressed: 0,
        };
        self.marks.insert(key, mark);
        Verdict::Log { suppressed: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::from(n.to_be_bytes())
    }

    #[test]
    fn one_line_per_client_and_reason_per_interval_then_the_count_of_the_rest() {
        let mut t = Throttle::default();
        let start = Instant::now();
        let at = |secs: u64| start + Duration::from_secs(secs);
        let log = |suppressed| Verdict::Log { suppressed };
        assert_eq!(t.admit((ip(1), "expired"), at(0)), log(0));
        assert_eq!(t.admit((ip(1), "expired"), at(1)), Verdict::Quiet);
        assert_eq!(t.admit((ip(1), "expired"), at(59)), Verdict::Quiet);
        assert_eq!(t.admit((ip(1), "unknown_issuer"), at(2)), log(0));
        assert_eq!(t.admit((ip(2), "expired"), at(3)), log(0));
        assert_eq!(t.admit((ip(1), "expired"), at(60)), log(2));
        assert_eq!(t.admit((ip(1), "expired"), at(61)), Verdict::Quiet);
        assert_eq!(t.admit((ip(1), "expired"), at(200)), log(1));
    }

    #[test]
    fn too_many_addresses_log_one_line_a_minute_and_memory_stays_bounded() {
        let mut t = Throttle::default();
        let start = Instant::now();
        let at = |secs: u64| start + Duration::from_secs(secs);
        for n in 0..MAX_TRACKED as u32 {
            assert_eq!(
                t.admit((ip(n), "expired"), at(0)),
                Verdict::Log { suppressed: 0 }
            );
        }
        let crowd = MAX_TRACKED as u32;
        assert_eq!(t.admit((ip(crowd), "expired"), at(1)), Verdict::Crowded);
        assert_eq!(t.admit((ip(crowd + 1), "expired"), at(2)), Verdict::Quiet);
        assert_eq!(t.marks.len(), MAX_TRACKED);
        // A minute on, the old marks make room.
        assert_eq!(
            t.admit((ip(crowd + 2), "expired"), at(61)),
            Verdict::Log { suppressed: 0 }
        );
        assert_eq!(t.marks.len(), 1);
    }

    #[test]
    fn only_certificate_refusals_have_a_reason() {
        let v1 = Presented {
            version: 1,
            subject: "CN=a".into(),
            issuer: "CN=ca".into(),
            serial: "01".into(),
            validity: x509::Validity {
                not_before: 0,
                not_after: 86_400,
            },
        };
        let invalid = |e| Error::InvalidCertificate(e);
        let of = |e: Error, p: Option<&Presented>| reason(&e, p).map(|(r, _)| r);
        assert_eq!(
            of(Error::NoCertificatesPresented, None),
            Some("no_certificate")
        );
        assert_eq!(
            of(invalid(CertificateError::UnknownIssuer), Some(&v1)),
            Some("not_v3")
        );
        let v3 = Presented { version: 3, ..v1 };
        assert_eq!(
            of(invalid(CertificateError::UnknownIssuer), Some(&v3)),
            Some("unknown_issuer")
        );
        let (token, detail) = reason(&invalid(CertificateError::Expired), Some(&v3)).unwrap();
        assert_eq!(
            (token, detail.as_str()),
            ("expired", "expired at 1970-01-02T00:00:00.000Z")
        );
        assert_eq!(
            of(invalid(CertificateError::InvalidPurpose), None),
            Some("wrong_purpose")
        );
        assert_eq!(of(invalid(CertificateError::Revoked), None), Some("other"));
        assert_eq!(of(Error::DecryptError, None), None);
        assert_eq!(
            of(
                Error::AlertReceived(rustls::AlertDescription::UnknownCA),
                None
            ),
            None
        );
    }
}
