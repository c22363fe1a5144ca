//! Link options for the binary. Packed relative relocations (RELR) shrink the table the dynamic
//! loader walks at every start from about 1.4 MB to a few KB: measurable for the commands a
//! status bar runs every few seconds (`next`, `agenda`). Only where the linker knows them.

fn main() {
    println!("cargo:rerun-if-changed=src/build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.contains("linux-gnu") && linker_supports_relr() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether the system linker accepts `-z pack-relative-relocs` (GNU ld 2.38 and later, lld).
fn linker_supports_relr() -> bool {
    std::process::Command::new("cc")
        .args([
            "-Wl,-z,pack-relative-relocs",
            "-x",
            "c",
            "-",
            "-o",
            "/dev/null",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(b"int main(void){return 0;}")?;
            }
            child.wait()
        })
        .is_ok_and(|status| status.success())
}
