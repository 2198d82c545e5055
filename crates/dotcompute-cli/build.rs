//! Builds the STREAM-style C peers with `-O3 -march=native -fopenmp` where a C compiler with
//! OpenMP exists; without one the benchmark runs without the C peer and says so.

fn main() {
    println!("cargo::rerun-if-changed=peers/stream.c");
    println!("cargo::rustc-check-cfg=cfg(dotcompute_c_peer)");
    let mut build = cc::Build::new();
    build
        .file("peers/stream.c")
        .opt_level(3)
        .flag_if_supported("-march=native")
        .flag("-fopenmp")
        .flag("-ffp-contract=off")
        .warnings(false);
    match build.try_compile("dotcompute_peers") {
        Ok(()) => {
            println!("cargo::rustc-link-lib=gomp");
            println!("cargo::rustc-cfg=dotcompute_c_peer");
        }
        Err(e) => println!("cargo::warning=C peer not built (no C compiler with OpenMP): {e}"),
    }
}
