fn main() {
    napi_build::setup();
    // The napi and libuv symbols come from the `node` binary at load time. Unit tests (and
    // fuzz targets) run outside Node and never call them, so their executables must link
    // without them (bound lazily, so never looked up); a shared library allows them
    // unresolved anyway.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg=-Wl,--unresolved-symbols=ignore-all");
        println!("cargo:rustc-link-arg=-Wl,-z,lazy");
    }
}
