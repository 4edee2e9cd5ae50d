//! GitHub's pagination: the `Link` header's `rel="next"` address.

use reqwest::header::HeaderMap;
use url::Url;

/// How many items a page asks for (GitHub's largest).
pub const PER_PAGE: &str = "100";

/// The `rel="next"` address of a `Link` header, when there is one and it
/// is on `base` (a next page elsewhere is never followed: the token would
/// go with it).
pub fn next_page(headers: &HeaderMap, base: &Url) -> Option<Url> {
    let link = headers.get(reqwest::header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (target, parameters) = part.trim().split_once(';')?;
        let is_next = parameters
            .split(';')
            .any(|parameter| matches!(parameter.trim(), "rel=\"next\"" | "rel=next"));
        if !is_next {
            return None;
        }
        let address = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let url = Url::parse(address).ok()?;
        is_under(&url, base).then_some(url)
    })
}

fn is_under(url: &Url, base: &Url) -> bool {
    url.origin() == base.origin() && url.path().starts_with(base.path().trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn link(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::LINK,
            HeaderValue::from_str(value).expect("header"),
        );
        headers
    }

    fn base() -> Url {
        Url::parse("https://api.github.com/").expect("url")
    }

    #[test]
    fn the_next_page_is_read_among_the_others() {
        let headers = link(
            "<https://api.github.com/repositories/1/issues?per_page=100&page=1>; rel=\"prev\", \
             <https://api.github.com/repositories/1/issues?per_page=100&page=3>; rel=\"next\", \
             <https://api.github.com/repositories/1/issues?per_page=100&page=5>; rel=\"last\"",
        );
        let next = next_page(&headers, &base()).expect("a next page");
        assert_eq!(next.query(), Some("per_page=100&page=3"));
    }

    #[test]
    fn the_last_page_has_no_next() {
        let headers = link("<https://api.github.com/x?page=1>; rel=\"first\"");
        assert_eq!(next_page(&headers, &base()), None);
        assert_eq!(next_page(&HeaderMap::new(), &base()), None);
    }

    #[test]
    fn a_next_page_on_another_host_is_not_followed() {
        let headers = link("<https://elsewhere.example/x?page=2>; rel=\"next\"");
        assert_eq!(next_page(&headers, &base()), None);
        let enterprise = Url::parse("https://github.example.com/api/v3/").expect("url");
        let outside = link("<https://github.example.com/other?page=2>; rel=\"next\"");
        assert_eq!(next_page(&outside, &enterprise), None);
        let inside = link("<https://github.example.com/api/v3/x?page=2>; rel=\"next\"");
        assert!(next_page(&inside, &enterprise).is_some());
    }

    proptest::proptest! {
        #[test]
        fn a_followed_next_page_is_always_on_the_api_server(
            host in "[a-z]{1,8}(\\.[a-z]{1,5})?",
            path in "(/[a-z0-9]{1,6}){0,3}",
            port in proptest::option::of(1u16..),
        ) {
            let port = port.map(|port| format!(":{port}")).unwrap_or_default();
            let address = format!("https://{host}{port}{path}?page=2");
            let headers = link(&format!("<{address}>; rel=\"next\""));
            if let Some(next) = next_page(&headers, &base()) {
                proptest::prop_assert_eq!(next.origin(), base().origin());
            }
        }
    }
}
