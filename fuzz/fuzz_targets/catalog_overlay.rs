//! Local runbook loading: any text laid over the built-in catalog; an error must name a
//! place, a success must leave a catalog whose every entry can be looked up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndr_doctor::catalog;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut cat = catalog::builtin().expect("built-in catalog").clone();
    match cat.overlay("fuzz.json", text) {
        Ok(()) => {
            for e in cat.entries() {
                assert!(cat.by_key(&e.code).is_some(), "{} lost", e.code);
                assert!(!e.code.chars().any(|c| c.is_control()));
            }
        }
        Err(e) => {
            assert!(e.to_string().starts_with("fuzz.json:"));
        }
    }
});
