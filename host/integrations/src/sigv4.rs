//! AWS Signature Version 4, for requests without a query string.
//!
//! Ralph's AWS requests are all `POST /` with a JSON body, so the canonical
//! query string is always empty and the path is `/` or another path that
//! needs no encoding.

use std::fmt;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// AWS credentials; `Debug` shows the key id's first four characters only.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix: String = self.access_key_id.chars().take(4).collect();
        formatter
            .debug_struct("Credentials")
            .field("access_key_id", &format!("{prefix}…"))
            .finish_non_exhaustive()
    }
}

/// The parts of a request that are signed.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The `Host` header as sent: `host` or `host:port` for a non-default port.
    pub host: &'a str,
    pub path: &'a str,
    /// Headers besides `Host`, `X-Amz-Date` and `X-Amz-Security-Token`.
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: &'a [u8],
}

/// The scope a signature is valid for.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub region: &'a str,
    pub service: &'a str,
    pub time: DateTime<Utc>,
}

/// The headers to add to `request`: `X-Amz-Date`, `X-Amz-Security-Token`
/// when there is a session token, and `Authorization`.
pub fn sign(
    request: &Request<'_>,
    credentials: &Credentials,
    scope: &Scope<'_>,
) -> Vec<(String, String)> {
    let timestamp = scope.time.format("%Y%m%dT%H%M%SZ").to_string();
    let date = scope.time.format("%Y%m%d").to_string();
    let mut added = vec![("x-amz-date".to_owned(), timestamp.clone())];
    if let Some(token) = &credentials.session_token {
        added.push(("x-amz-security-token".to_owned(), token.clone()));
    }
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), normalize_value(value)))
        .chain([("host".to_owned(), request.host.to_owned())])
        .chain(added.iter().cloned())
        .collect();
    headers.sort();
    let signed_headers = headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let canonical_request = format!(
        "{}\n{}\n\n{canonical_headers}\n{signed_headers}\n{}",
        request.method,
        request.path,
        hex(&Sha256::digest(request.payload))
    );
    let credential_scope = format!("{date}/{}/{}/aws4_request", scope.region, scope.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{timestamp}\n{credential_scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let key = signing_key(
        &credentials.secret_access_key,
        &date,
        scope.region,
        scope.service,
    );
    let signature = hex(&hmac(&key, string_to_sign.as_bytes()));
    added.push((
        "authorization".to_owned(),
        format!(
            "{ALGORITHM} Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
            credentials.access_key_id
        ),
    ));
    added
}

/// The key derived for one day, region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let date_key = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let region_key = hmac(&date_key, region.as_bytes());
    let service_key = hmac(&region_key, service.as_bytes());
    hmac(&service_key, b"aws4_request")
}

/// Trimmed, with runs of spaces folded to one.
fn normalize_value(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    // The example credentials of AWS's SigV4 documentation and test suite.
    fn credentials(session_token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned(),
            session_token: session_token.map(str::to_owned),
        }
    }

    fn scope(service: &'static str) -> Scope<'static> {
        Scope {
            region: "us-east-1",
            service,
            time: Utc
                .with_ymd_and_hms(2015, 8, 30, 12, 36, 0)
                .single()
                .expect("valid time"),
        }
    }

    fn authorization(headers: &[(String, String)]) -> &str {
        headers
            .iter()
            .find(|(name, _)| name == "authorization")
            .map(|(_, value)| value.as_str())
            .expect("authorization header")
    }

    #[test]
    fn the_test_suites_get_vanilla_request_signs_as_published() {
        let request = Request {
            method: "GET",
            host: "example.amazonaws.com",
            path: "/",
            headers: &[],
            payload: b"",
        };
        let headers = sign(&request, &credentials(None), &scope("service"));
        assert_eq!(
            headers[0],
            ("x-amz-date".to_owned(), "20150830T123600Z".to_owned())
        );
        assert_eq!(
            authorization(&headers),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn a_json_post_with_a_session_token_signs_every_header() {
        // Checked against an independent SigV4 implementation (botocore).
        let request = Request {
            method: "POST",
            host: "127.0.0.1:5000",
            path: "/",
            headers: &[
                ("Content-Type", "application/x-amz-json-1.1"),
                (
                    "X-Amz-Target",
                    "AmazonEC2ContainerServiceV20141113.DescribeServices",
                ),
            ],
            payload: br#"{"cluster":"c"}"#,
        };
        let headers = sign(&request, &credentials(Some("session-token")), &scope("ecs"));
        assert!(headers.contains(&(
            "x-amz-security-token".to_owned(),
            "session-token".to_owned()
        )));
        assert_eq!(
            authorization(&headers),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ecs/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, \
             Signature=6f90425c2309572a1e30bdc0e91a3653f2abad8827b97fece2ba39920b1f59f6"
        );
    }

    #[test]
    fn the_documented_signing_key_derivation_holds() {
        // AWS's documentation example: IAM in us-east-1 on 2012-02-15.
        assert_eq!(
            hex(&signing_key(
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                "20120215",
                "us-east-1",
                "iam"
            )),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let shown = format!("{:?}", credentials(Some("token")));
        assert!(shown.contains("AKID"));
        assert!(!shown.contains("EXAMPLEKEY") && !shown.contains("token"));
    }
}
