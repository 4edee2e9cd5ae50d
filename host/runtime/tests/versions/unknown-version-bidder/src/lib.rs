//! A bidder built against `ralph:plugin@0.9.0`, a version no host runs: it
//! exports the bidder world's functions, so only its contract version can
//! be why it fails to load. Its types are the simplest, since it never runs.

wit_bindgen::generate!({
    inline: r#"
        package ralph:plugin@0.9.0;

        interface types {
            record metadata {
                name: string,
            }
        }

        interface log {
            log: func(message: string);
        }

        world bidder {
            use types.{metadata};

            import log;

            export metadata: func() -> metadata;
            export propose: func(title: string) -> string;
        }
    "#,
});

struct UnknownVersion;

impl Guest for UnknownVersion {
    fn metadata() -> ralph::plugin::types::Metadata {
        ralph::plugin::types::Metadata {
            name: "unknown-version-bidder".to_owned(),
        }
    }

    fn propose(title: String) -> String {
        ralph::plugin::log::log(&title);
        title
    }
}

export!(UnknownVersion);
