//! Lists `gallery/*.toml` so that every gallery template is compiled into the
//! binary: adding an app to the gallery is adding a file, nothing else.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dir = manifest.join("gallery");
    // A directory here makes cargo rerun this script when a file is added or removed.
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files = Vec::new();
    for entry in fs::read_dir(&dir).expect("crates/idp/gallery exists") {
        let path = entry.expect("gallery directory entry").path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            let stem = path.file_stem().and_then(|s| s.to_str()).expect("UTF-8 file name").to_string();
            let path = path.to_str().expect("UTF-8 path").to_string();
            files.push((stem, path));
        }
    }
    files.sort();
    let mut out = String::from("&[\n");
    for (stem, path) in &files {
        writeln!(out, "    ({stem:?}, include_str!({path:?})),").expect("write to a String");
    }
    out.push_str("]\n");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out_dir.join("gallery_files.rs"), out).expect("write gallery_files.rs");
}
