//! The two shipped signers must agree byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[test]
fn the_python_and_rust_signers_print_the_same_authorization() {
    let args = [
        "--access-key",
        "869525871671777281",
        "--secret-key",
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "--header",
        "Host=cc.example.com",
        "--header",
        "content-type=application/json;charset=UTF-8",
        "--query",
        "t=1 2",
        "--body",
        r#"{"thirdUserName":"张三","thirdUserId":"u-1001"}"#,
        "--timestamp",
        "2026-11-24T08:00:00.123Z",
    ];
    let rust = Command::new(env!("CARGO_BIN_EXE_auth-v2-signer"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        rust.status.success(),
        "{}",
        String::from_utf8_lossy(&rust.stderr)
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/sign.py");
    let python = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs the standalone signer");
    assert!(
        python.status.success(),
        "{}",
        String::from_utf8_lossy(&python.stderr)
    );
    let printed = String::from_utf8(rust.stdout).unwrap();
    assert!(printed
        .starts_with("auth-v2/869525871671777281/2026-11-24T08:00:00.123Z/content-type;host/"));
    assert_eq!(printed, String::from_utf8(python.stdout).unwrap());
}
