//! The macro's errors for code outside the kernel language: each at the construct's span,
//! saying what is not supported and what to write instead.

#[test]
fn unsupported_kernel_code_is_a_compile_error() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
