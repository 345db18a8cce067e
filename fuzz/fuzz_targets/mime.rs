//! MIME decoding: any bytes as a message, then scanned as a bounce.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndr_doctor::extract::{self, Options, Origin};
use ndr_doctor::input::mime;

fuzz_target!(|data: &[u8]| {
    let doc = mime::document(data, 1);
    for p in &doc.parts {
        assert!(p.start_line >= 1);
    }
    let origin = Origin {
        path: "fuzz",
        message: 1,
    };
    let mut out = Vec::new();
    extract::scan_document(&doc, &origin, &Options::default(), &mut out, &mut Default::default());
});
