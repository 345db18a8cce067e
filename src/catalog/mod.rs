//! The code catalog: `data/codes/*.json` compiled into the binary, parsed once, looked up
//! with fallbacks (exact -> range -> registry `X.S.D` -> subject `X.S.0` -> class `X.0.0`).
//! `code` spells codes and keys, `entry` holds an entry's types (shared with `build.rs`),
//! `table` indexes and looks up, `overlay` lays local runbooks over it.
//!
//! This module is a leaf: it knows nothing of input, extraction or rendering.

mod code;
mod entry;
mod overlay;
mod table;

pub use code::{Code, Key, OTHER};
pub(crate) use entry::Severity;
pub use entry::{Entry, Lang, Texts};
pub use table::{Catalog, CatalogError, Lookup, Match};

use std::sync::LazyLock;

static BUILTIN: LazyLock<Result<Catalog, CatalogError>> = LazyLock::new(Catalog::from_index);

/// The built-in catalog exactly as compiled in (tests use it to check the data).
pub fn builtin() -> Result<&'static Catalog, &'static CatalogError> {
    BUILTIN.as_ref()
}

/// The built-in catalog, or an empty one should the built-in data ever be broken (it is
/// not: the build checks every entry): every code then gets no explanation, not a panic.
/// The default of the stages' options; the application passes its own (with overlays).
pub fn builtin_or_empty() -> &'static Catalog {
    static EMPTY: LazyLock<Catalog> = LazyLock::new(|| Catalog::with_capacity(0));
    BUILTIN.as_ref().unwrap_or(&EMPTY)
}

/// The built-in file names and texts (for `codes --format json` and tests).
pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
    table::CATALOG_FILES
}

#[cfg(test)]
mod tests {
    use super::table::CATALOG_FILES;
    use super::*;

    #[test]
    fn parses_spellings() {
        assert_eq!(
            Code::parse_spelling("450 4.4.316"),
            Some((Code::new(4, 4, 316), Some(450)))
        );
        assert_eq!(
            Code::parse_spelling("450-4.4.316"),
            Some((Code::new(4, 4, 316), Some(450)))
        );
        assert_eq!(
            Code::parse_spelling(" 5.4.316 "),
            Some((Code::new(5, 4, 316), None))
        );
        assert_eq!(
            Code::parse_spelling("X.1.1"),
            Some((Code::new(0, 1, 1), None))
        );
        assert_eq!(Code::parse("4.4"), None);
        assert_eq!(Code::parse("3.1.1"), None);
        assert_eq!(Code::parse("4.4.3166"), None);
        assert_eq!(Code::parse("4.04.1"), None);
        assert_eq!(Code::parse("4.4.1.1"), None);
        assert_eq!(Code::new(0, 7, 1).to_string(), "X.7.1");
    }

    #[test]
    fn keys() {
        assert_eq!(
            Key::parse("5.7.606-649"),
            Some(Key::Range {
                class: 5,
                subject: 7,
                lo: 606,
                hi: 649
            })
        );
        assert!(Key::parse("5.7.649-606").is_none());
        assert!(Key::parse("X.7.1-5").is_none());
        let r = Key::parse("5.7.606-649").unwrap();
        assert!(r.covers(Code::new(5, 7, 606)) && r.covers(Code::new(5, 7, 649)));
        assert!(!r.covers(Code::new(5, 7, 650)) && !r.covers(Code::new(4, 7, 610)));
        assert!(Key::parse("X.1.1").unwrap().covers(Code::new(4, 1, 1)));
    }

    fn mini() -> Catalog {
        let t = |s: &str| {
            format!(
                r#"{{"title":"{s}","summary":"s","causes":["c"],"fixes":["f1","f2"],"verify":["v"]}}"#
            )
        };
        let e = |code: &str, also: &str| {
            format!(
                r#"{{"code":"{code}","also":[{also}],"reply":550,"category":"cat-{code}","severity":"permanent","source":"iana","owner":"sender","en":{},"ja":{},"references":[]}}"#,
                t(code),
                t(code)
            )
        };
        let text = format!(
            r#"{{"schema":1,"codes":[{},{},{},{},{},{}]}}"#,
            e("X.0.0", ""),
            e("X.4.0", ""),
            e("X.1.1", ""),
            e("4.4.316", "\"5.4.316\""),
            e("5.7.606-649", ""),
            e("other", "")
        );
        Catalog::from_files([("mini.json", text.as_str())]).unwrap()
    }

    #[test]
    fn lookup_falls_back() {
        let c = mini();
        let l = c.lookup(Code::new(5, 4, 316)).unwrap();
        assert_eq!((l.entry.code.as_str(), l.how), ("4.4.316", Match::Exact));
        let l = c.lookup(Code::new(5, 7, 610)).unwrap();
        assert_eq!(
            (l.entry.code.as_str(), l.how),
            ("5.7.606-649", Match::Range)
        );
        let l = c.lookup(Code::new(4, 1, 1)).unwrap();
        assert_eq!((l.entry.code.as_str(), l.how), ("X.1.1", Match::Registry));
        let l = c.lookup(Code::new(4, 4, 399)).unwrap();
        assert_eq!((l.entry.code.as_str(), l.how), ("X.4.0", Match::Subject));
        let l = c.lookup(Code::new(5, 6, 3)).unwrap();
        assert_eq!((l.entry.code.as_str(), l.how), ("X.0.0", Match::Class));
        let l = c.lookup(Code::new(0, 4, 316)).unwrap();
        assert_eq!((l.entry.code.as_str(), l.how), ("4.4.316", Match::Exact));
        assert_eq!(c.other().unwrap().code, "other");
    }

    #[test]
    fn overlays_extend_replace_and_add() {
        let mut c = mini();
        let o = r#"{"schema": 1, "codes": [
          {"code": "4.4.316", "en": {"fixes": ["Open a ticket in queue NET-FW"]}},
          {"code": "X.1.1", "mode": "replace", "ja": {"causes": ["only this"]}},
          {"code": "5.9.1", "reply": 550, "category": "local-policy", "severity": "permanent",
           "en": {"title": "Local policy", "summary": "s", "causes": ["c"], "fixes": ["f"]}}
        ]}"#;
        c.overlay("local.json", o).unwrap();
        let e = c.by_key("4.4.316").unwrap();
        assert_eq!(
            e.en.fixes.last().map(String::as_str),
            Some("Open a ticket in queue NET-FW")
        );
        assert_eq!(e.en.fixes.len(), 3);
        assert_eq!(c.by_key("X.1.1").unwrap().ja.causes, ["only this"]);
        let l = c.lookup(Code::new(5, 9, 1)).unwrap();
        assert_eq!(
            (l.entry.category.as_str(), l.how),
            ("local-policy", Match::Exact)
        );
        assert_eq!(l.entry.ja.title, "Local policy");
        // the 5.4.316 spelling still resolves after the rebuild
        assert_eq!(
            c.lookup(Code::new(5, 4, 316)).unwrap().entry.code,
            "4.4.316"
        );
    }

    #[test]
    fn overlay_errors_name_file_line_and_column() {
        let mut c = mini();
        let e = c
            .overlay(
                "bad.json",
                "{\"schema\": 1,\n \"codes\": [\n {\"code\": \"4.4.316\", \"fixes\": []}]}",
            )
            .unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("bad.json", 3));
        assert!(e.message.contains("fixes"), "{e}");
        let e = c
            .overlay(
                "new.json",
                "{\"schema\": 1, \"codes\": [\n\n  {\"code\": \"5.9.2\", \"reply\": 550}]}",
            )
            .unwrap_err();
        assert_eq!((e.line, e.column), (3, 12));
        assert!(e.to_string().starts_with("new.json:3:12: new entry"), "{e}");
        assert!(
            c.overlay("x.json", r#"{"schema": 1, "codes": [{"code": "4.4"}]}"#)
                .is_err()
        );
    }

    #[test]
    fn the_index_and_the_files_agree() {
        // every built-in entry parses (the lazy table relies on it) and is indexed
        let full = Catalog::from_files(CATALOG_FILES.iter().copied()).unwrap();
        let lazy = builtin().unwrap();
        assert_eq!(full.entries().len(), lazy.entries().len());
        for (a, b) in full.entries().iter().zip(lazy.entries()) {
            assert_eq!(a.code, b.code);
            assert_eq!(a.en.title, b.en.title);
            assert_eq!(a.ja.fixes, b.ja.fixes);
        }
    }

    #[test]
    fn duplicates_are_errors() {
        let one = r#"{"code":"X.0.0","reply":550,"category":"a","severity":"permanent","source":"iana","owner":"sender","en":{"title":"t","summary":"s","causes":[],"fixes":[]},"ja":{"title":"t","summary":"s","causes":[],"fixes":[]},"references":[]}"#;
        let text = format!(r#"{{"schema":1,"codes":[{one},{one}]}}"#);
        let err = Catalog::from_files([("dup.json", text.as_str())])
            .err()
            .unwrap();
        assert!(err.message.contains("twice"), "{err}");
        let err = Catalog::from_files([("bad.json", "{\"schema\":1,\n \"codes\": [}")])
            .err()
            .unwrap();
        assert_eq!((err.line, err.file.as_str()), (2, "bad.json"));
    }
}
