//! `http-get`: a GET to an origin allow-listed for the calling plugin.
//!
//! An allow-list entry is `https://host[:port]` (or `http://…`, written so
//! explicitly), where `*.` before the host stands for one or more labels.
//! A URL is refused unless its scheme, host and port match an entry for
//! that plugin; IP-literal hosts and URLs with user information are always
//! refused. Redirects are followed by hand, at most [`MAX_REDIRECTS`], each
//! target checked again; the body is cut at the configured size.

use std::fmt;
use std::str::FromStr;

use ralph_runtime::integrations::{HttpResponse, IntegrationError};
use reqwest::Client;
use serde::{Deserialize, Deserializer};
use url::{Host, Url};

use crate::transport::{read_capped, request_failed};

/// How many redirects one call follows.
pub const MAX_REDIRECTS: usize = 3;

const SERVICE: &str = "http-get";

/// One allowed origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowRule {
    https: bool,
    /// Lower case, without the `*.`.
    host: String,
    /// Whether `*.` came first: then only sub-domains of `host` match.
    wildcard: bool,
    port: u16,
}

impl FromStr for AllowRule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (https, rest) = if let Some(rest) = text.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = text.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(format!("`{text}` must start with `https://` or `http://`"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@', '\\']) || rest.is_empty() {
            return Err(format!(
                "`{text}` must be an origin only: scheme, host and an optional port"
            ));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => {
                let port = port
                    .parse::<u16>()
                    .ok()
                    .filter(|port| *port != 0)
                    .ok_or_else(|| format!("`{text}`: `{port}` is not a port"))?;
                (host, port)
            }
            None => (rest, if https { 443 } else { 80 }),
        };
        let (wildcard, host) = match host.strip_prefix("*.") {
            Some(host) => (true, host),
            None => (false, host),
        };
        let host = host.to_ascii_lowercase();
        let labels_valid = host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        });
        if !labels_valid {
            return Err(format!("`{text}`: `{host}` is not a host name"));
        }
        if host.parse::<std::net::Ipv4Addr>().is_ok()
            || host
                .bytes()
                .all(|byte| byte.is_ascii_digit() || byte == b'.')
        {
            return Err(format!("`{text}`: IP addresses cannot be allow-listed"));
        }
        Ok(Self {
            https,
            host,
            wildcard,
            port,
        })
    }
}

impl<'de> Deserialize<'de> for AllowRule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for AllowRule {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        let wildcard = if self.wildcard { "*." } else { "" };
        write!(
            formatter,
            "{scheme}://{wildcard}{}:{}",
            self.host, self.port
        )
    }
}

impl AllowRule {
    fn matches(&self, https: bool, host: &str, port: u16) -> bool {
        if self.https != https || self.port != port {
            return false;
        }
        if self.wildcard {
            host.strip_suffix(self.host.as_str())
                .and_then(|prefix| prefix.strip_suffix('.'))
                .is_some_and(|prefix| !prefix.is_empty())
        } else {
            host == self.host
        }
    }
}

/// Checks `text` against `rules`: the URL to request, or why not.
pub fn check(plugin: &str, rules: &[AllowRule], text: &str) -> Result<Url, IntegrationError> {
    let url = Url::parse(text).map_err(|error| {
        IntegrationError::InvalidRequest(format!("`{text}` is not a URL: {error}"))
    })?;
    check_url(plugin, rules, &url)?;
    Ok(url)
}

fn check_url(plugin: &str, rules: &[AllowRule], url: &Url) -> Result<(), IntegrationError> {
    let denied = |why: String| IntegrationError::Denied(format!("{url}: {why}"));
    let https = match url.scheme() {
        "https" => true,
        "http" => false,
        other => {
            return Err(denied(format!(
                "the scheme `{other}` is not allowed; only http and https are"
            )));
        }
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(denied(
            "URLs with user information are not allowed".to_owned(),
        ));
    }
    let host = match url.host() {
        Some(Host::Domain(host)) => host.to_ascii_lowercase(),
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => {
            return Err(denied(
                "IP-address hosts are not allowed; use an allow-listed name".to_owned(),
            ));
        }
        None => return Err(denied("the URL has no host".to_owned())),
    };
    let Some(port) = url.port_or_known_default() else {
        return Err(denied("the URL has no port".to_owned()));
    };
    if rules.iter().any(|rule| rule.matches(https, &host, port)) {
        Ok(())
    } else {
        Err(denied(format!(
            "`{}://{host}:{port}` is not on plugin `{plugin}`'s allow-list; add it under \
             `integrations.http_get.allow.{plugin}` in .ralph/config.json",
            url.scheme()
        )))
    }
}

/// Performs allow-listed GETs.
pub struct HttpGet {
    client: Client,
    max_bytes: u64,
}

impl HttpGet {
    /// `client` must not follow redirects itself.
    pub fn new(client: Client, max_bytes: u64) -> Self {
        Self { client, max_bytes }
    }

    /// GETs `text` for `plugin`, following redirects within the allow-list.
    pub async fn get(
        &self,
        plugin: &str,
        rules: &[AllowRule],
        text: &str,
    ) -> Result<HttpResponse, IntegrationError> {
        let mut url = check(plugin, rules, text)?;
        for _ in 0..=MAX_REDIRECTS {
            let response = self
                .client
                .get(url.clone())
                .send()
                .await
                .map_err(|error| request_failed(SERVICE, error))?;
            let status = response.status();
            if status.is_redirection()
                && let Some(location) = response.headers().get(reqwest::header::LOCATION)
            {
                let location = location.to_str().map_err(|_| {
                    IntegrationError::Failed(format!(
                        "{SERVICE}: a redirect's location is not text"
                    ))
                })?;
                let next = url.join(location).map_err(|error| {
                    IntegrationError::Failed(format!(
                        "{SERVICE}: a redirect to `{location}` is not a URL: {error}"
                    ))
                })?;
                check_url(plugin, rules, &next).map_err(|error| match error {
                    IntegrationError::Denied(why) => {
                        IntegrationError::Denied(format!("redirect refused: {why}"))
                    }
                    other => other,
                })?;
                url = next;
                continue;
            }
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            let (body, truncated) = read_capped(response, self.max_bytes)
                .await
                .map_err(|error| request_failed(SERVICE, error))?;
            return Ok(HttpResponse {
                status: status.as_u16(),
                content_type,
                body: String::from_utf8_lossy(&body).into_owned(),
                truncated,
            });
        }
        Err(IntegrationError::Failed(format!(
            "{SERVICE}: more than {MAX_REDIRECTS} redirects"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(entries: &[&str]) -> Vec<AllowRule> {
        entries
            .iter()
            .map(|entry| entry.parse().expect("valid rule"))
            .collect()
    }

    fn allowed(entries: &[&str], url: &str) -> bool {
        check("reader", &rules(entries), url).is_ok()
    }

    #[test]
    fn rules_are_origins_with_default_ports() {
        let rule: AllowRule = "https://API.example.com".parse().expect("valid");
        assert_eq!(rule.to_string(), "https://api.example.com:443");
        let rule: AllowRule = "http://localhost:8080/".parse().expect("valid");
        assert_eq!(rule.to_string(), "http://localhost:8080");
        let rule: AllowRule = "https://*.example.org:8443".parse().expect("valid");
        assert_eq!(rule.to_string(), "https://*.example.org:8443");
    }

    #[test]
    fn malformed_rules_are_refused() {
        for entry in [
            "api.example.com",
            "ftp://example.com",
            "https://example.com/path",
            "https://user@example.com",
            "https://example.com:99999",
            "https://example.com:0",
            "https://",
            "https://exa mple.com",
            "https://127.0.0.1",
            "https://2130706433",
            "https://[::1]",
            "https://*.",
        ] {
            assert!(entry.parse::<AllowRule>().is_err(), "{entry} accepted");
        }
    }

    #[test]
    fn an_exact_origin_allows_any_path_on_it() {
        assert!(allowed(
            &["https://api.example.com"],
            "https://api.example.com/v1/status?x=1"
        ));
        assert!(allowed(
            &["https://api.example.com"],
            "https://API.Example.com:443/"
        ));
    }

    #[test]
    fn another_host_is_refused() {
        assert!(!allowed(
            &["https://api.example.com"],
            "https://example.com/"
        ));
        assert!(!allowed(
            &["https://api.example.com"],
            "https://api.example.com.evil.com/"
        ));
        assert!(!allowed(
            &["https://api.example.com"],
            "https://evilapi.example.com/"
        ));
    }

    #[test]
    fn a_wildcard_stands_for_one_or_more_labels() {
        let entries = &["https://*.example.org"];
        assert!(allowed(entries, "https://a.example.org/"));
        assert!(allowed(entries, "https://a.b.example.org/"));
        assert!(!allowed(entries, "https://example.org/"));
        assert!(!allowed(entries, "https://badexample.org/"));
    }

    #[test]
    fn the_port_and_scheme_must_match() {
        assert!(!allowed(
            &["https://api.example.com"],
            "https://api.example.com:8443/"
        ));
        assert!(!allowed(
            &["https://api.example.com"],
            "http://api.example.com/"
        ));
        assert!(!allowed(
            &["http://localhost:8080"],
            "http://localhost:8081/"
        ));
        assert!(allowed(
            &["http://localhost:8080"],
            "http://localhost:8080/x"
        ));
        assert!(!allowed(
            &["https://api.example.com"],
            "ftp://api.example.com/"
        ));
        assert!(!allowed(&["https://api.example.com"], "file:///etc/passwd"));
    }

    #[test]
    fn ip_literals_are_refused_in_every_spelling() {
        let entries = &["http://localhost:80", "https://api.example.com"];
        for url in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            let error = check("reader", &rules(entries), url).expect_err(url);
            assert!(
                error.to_string().contains("IP-address hosts"),
                "{url}: {error}"
            );
        }
    }

    #[test]
    fn user_information_tricks_are_refused() {
        let entries = &["https://allowed.com"];
        for url in [
            "https://allowed.com@evil.com/",
            "https://user:pw@allowed.com/",
            "https://user@allowed.com/",
        ] {
            assert!(!allowed(entries, url), "{url}");
        }
    }

    #[test]
    fn the_denial_names_the_plugin_and_the_config_key() {
        let error = check("reader", &[], "https://api.example.com/").expect_err("denied");
        let IntegrationError::Denied(message) = error else {
            panic!("not a denial");
        };
        assert!(message.contains("plugin `reader`"), "{message}");
        assert!(
            message.contains("integrations.http_get.allow.reader"),
            "{message}"
        );
    }

    #[test]
    fn text_that_is_not_a_url_is_an_invalid_request() {
        assert!(matches!(
            check("reader", &[], "not a url"),
            Err(IntegrationError::InvalidRequest(_))
        ));
    }
}
