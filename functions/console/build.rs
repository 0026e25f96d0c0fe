//! Builds the console's front end (web/) and embeds it in the binary.
//!
//! 1. Copies the sources of `web/` (package.json, package-lock.json, index.html, Vite and
//!    TypeScript configuration, `src/`) into `$OUT_DIR/web`: the build writes nothing
//!    outside `OUT_DIR`, so parallel builds of other profiles never share a `node_modules`.
//! 2. `npm ci` there when package-lock.json differs from the one last installed (the pinned
//!    versions only; npm's cache makes a reinstall quick).
//! 3. `tsc --noEmit` (the types) and `vite build` into `$OUT_DIR/dist`.
//! 4. Lists `dist/` and writes the embedded file table (`$OUT_DIR/console_files.rs`,
//!    included by src/files.rs): each file as it is, brotli (quality 11) and gzip (best)
//!    forms of text made here, its type and a strong ETag (SHA-256). Files are always
//!    embedded and nothing is compressed or hashed at run time: the function reads no file
//!    and does no work on them at start.
//!
//! Needs Node.js (20.19 or later, Vite 8's floor) and npm on PATH, or `NPM` / `NODE` naming
//! them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// The files of web/ the build reads (besides src/).
const WEB_FILES: [&str; 5] = [
    "package.json",
    "package-lock.json",
    "index.html",
    "vite.config.ts",
    "tsconfig.json",
];

fn main() {
    let manifest = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env("OUT_DIR"));
    let web = manifest.join("web");
    for file in WEB_FILES {
        println!("cargo::rerun-if-changed={}", web.join(file).display());
    }
    println!("cargo::rerun-if-changed={}", web.join("src").display());
    println!("cargo::rerun-if-env-changed=NPM");
    println!("cargo::rerun-if-env-changed=NODE");

    let stage = out.join("web");
    stage_sources(&web, &stage);
    install(&stage);
    let dist = out.join("dist");
    build(&stage, &dist);

    let code = embed(&dist, &out.join("encoded"));
    write(&out.join("console_files.rs"), code.as_bytes());
}

/// The Rust expression of every file under `dist`, each with its brotli and gzip forms
/// made now (written under `encoded`), its type and its strong ETag: the function does no
/// work on them at start.
fn embed(dist: &Path, encoded: &Path) -> String {
    let mut files = Vec::new();
    list_files(dist, &mut files);
    files.sort();
    let mut code = String::from("&[\n");
    for path in files {
        let relative = path.strip_prefix(dist).expect("under dist");
        let route = format!("/{}", relative.to_string_lossy().replace('\\', "/"));
        let bytes = fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let content_type = content_type(&path);
        let etag: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut forms = Vec::new();
        for (ext, encoded_bytes) in [("br", brotli(&bytes)), ("gz", gzip(&bytes))] {
            // Only text is compressed, and only when it gets smaller.
            let kept = compressible(content_type) && encoded_bytes.len() < bytes.len();
            if kept {
                let target = encoded.join(format!("{}.{ext}", relative.to_string_lossy()));
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent)
                        .unwrap_or_else(|e| panic!("creating {}: {e}", parent.display()));
                }
                write(&target, &encoded_bytes);
                forms.push(format!(
                    "Some(include_bytes!({:?}))",
                    target.display().to_string()
                ));
            } else {
                forms.push("None".to_owned());
            }
        }
        // A strong ETag: the file's SHA-256, quoted.
        let etag = format!("\"{etag}\"");
        code.push_str(&format!(
            "    File {{ route: {route:?}, content_type: {content_type:?}, etag: {etag:?}, \
             identity: include_bytes!({:?}), brotli: {}, gzip: {} }},\n",
            path.display().to_string(),
            forms[0],
            forms[1],
        ));
    }
    code.push(']');
    code
}

fn list_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
            .path();
        if path.is_dir() {
            list_files(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// The `Content-Type` of a built file, by its extension.
fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html",
        "js" | "mjs" => "text/javascript",
        "css" => "text/css",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain",
        other => panic!("the console's build made a .{other} file: give it a Content-Type"),
    }
}

fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type == "application/json"
        || content_type == "image/svg+xml"
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("brotli in memory");
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("gzip in memory");
    encoder.finish().expect("gzip in memory")
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set (run by cargo)"))
}

fn stage_sources(web: &Path, stage: &Path) {
    let src = stage.join("src");
    if src.exists() {
        fs::remove_dir_all(&src).unwrap_or_else(|e| panic!("removing {}: {e}", src.display()));
    }
    fs::create_dir_all(stage).unwrap_or_else(|e| panic!("creating {}: {e}", stage.display()));
    for file in WEB_FILES {
        copy(&web.join(file), &stage.join(file));
    }
    copy_tree(&web.join("src"), &src);
}

fn copy(from: &Path, to: &Path) {
    // Only when the content differs: an unchanged file keeps its mtime (Vite's cache).
    let bytes = fs::read(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display()));
    if fs::read(to).ok().as_deref() != Some(bytes.as_slice()) {
        write(to, &bytes);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("creating {}: {e}", to.display()));
    let entries = fs::read_dir(from).unwrap_or_else(|e| panic!("listing {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("listing {}: {e}", from.display()));
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            copy(&path, &target);
        }
    }
}

fn write(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// `npm ci` unless node_modules already holds exactly this package-lock.json.
fn install(stage: &Path) {
    let lock = stage.join("package-lock.json");
    let stamp = stage
        .join("node_modules")
        .join(".console-installed-lock.json");
    let wanted = fs::read(&lock).unwrap_or_else(|e| panic!("reading {}: {e}", lock.display()));
    if fs::read(&stamp).ok().as_deref() == Some(wanted.as_slice()) {
        return;
    }
    let npm = std::env::var("NPM").unwrap_or_else(|_| "npm".to_owned());
    run(
        Command::new(npm)
            .args([
                "ci",
                "--no-audit",
                "--no-fund",
                "--prefer-offline",
                "--loglevel=error",
            ])
            .current_dir(stage),
        "npm ci (the console's front end; needs Node.js >= 20.19 and npm)",
    );
    write(&stamp, &wanted);
}

fn build(stage: &Path, dist: &Path) {
    let node = std::env::var("NODE").unwrap_or_else(|_| "node".to_owned());
    let bin = stage.join("node_modules");
    run(
        Command::new(&node)
            .arg(bin.join("typescript").join("bin").join("tsc"))
            .args(["--noEmit", "-p", "tsconfig.json"])
            .current_dir(stage),
        "tsc --noEmit (the console's TypeScript)",
    );
    run(
        Command::new(&node)
            .arg(bin.join("vite").join("bin").join("vite.js"))
            .args(["build", "--emptyOutDir", "--logLevel", "warn", "--outDir"])
            .arg(dist)
            .current_dir(stage),
        "vite build (the console's front end)",
    );
}

fn run(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: could not start {:?}: {e}", command.get_program()));
    if !output.status.success() {
        panic!(
            "{what} failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
