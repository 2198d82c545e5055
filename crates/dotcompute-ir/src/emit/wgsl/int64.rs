//! 64-bit integers as pairs of 32-bit words, for adapters without 64-bit integers in shaders
//! (wgpu's GL backend, WebGPU in browsers, many mobile GPUs).
//!
//! An `i64` or `u64` is a `vec2<u32>`: `.x` holds the low 32 bits, `.y` the high ones, in
//! two's complement for `i64`, so both types share one representation and `as` between
//! them changes nothing. `&`, `|`, `^`, `~` and `select` work on the pair as they are; every
//! other operation is a function below, with Rust's meaning (wrapping arithmetic, shift
//! amounts masked to 0..=63, truncating division that faults on zero and on `MIN / -1`,
//! saturating float conversions, correctly rounded conversions to `f32`). The emitter calls
//! them by the names the native module uses for its own helpers (`div_u64`, `clamp_i64`,
//! `to_f32_u64`, ...), so most call sites do not change.
//!
//! Ids and indices are pairs too; the host refuses launches of 2^32 items or more on such
//! adapters, and their buffers hold fewer than 2^32 elements (bindings are at most 4 GiB).

use super::super::abi::fault_codes;
use std::fmt::Write;

/// WGSL's type for `i64` and `u64`.
pub(super) const WIDE: &str = "vec2<u32>";

/// The pair holding `bits` (an `i64`'s two's complement bits, or a `u64`).
pub(super) fn literal(bits: u64) -> String {
    format!("vec2<u32>({}u, {}u)", bits as u32, (bits >> 32) as u32)
}

/// The helper functions: arithmetic, comparisons, shifts and conversions on pairs. `zero` is
/// the pair literal of 0 (for `record_fault`'s index).
pub(super) fn helpers() -> String {
    let w = WIDE;
    let z = literal(0);
    let mut out = String::new();
    // Core arithmetic. `w_mul32` is the full product of two words, by 16-bit halves.
    let _ = write!(
        out,
        "fn w_add(a: {w}, b: {w}) -> {w} {{\n    let lo = a.x + b.x;\n    return {w}(lo, a.y + b.y + select(0u, 1u, lo < a.x));\n}}\n\
         fn w_sub(a: {w}, b: {w}) -> {w} {{\n    return {w}(a.x - b.x, a.y - b.y - select(0u, 1u, a.x < b.x));\n}}\n\
         fn w_neg(a: {w}) -> {w} {{ return w_sub({z}, a); }}\n\
         fn w_mul32(a: u32, b: u32) -> {w} {{\n    let a0 = a & 0xffffu;\n    let a1 = a >> 16u;\n    let b0 = b & 0xffffu;\n    let b1 = b >> 16u;\n    let p00 = a0 * b0;\n    let p01 = a0 * b1;\n    let p10 = a1 * b0;\n    let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);\n    return {w}((p00 & 0xffffu) | (mid << 16u), a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));\n}}\n\
         fn w_mul(a: {w}, b: {w}) -> {w} {{\n    let p = w_mul32(a.x, b.x);\n    return {w}(p.x, p.y + a.x * b.y + a.y * b.x);\n}}\n\
         fn w_eq(a: {w}, b: {w}) -> bool {{ return a.x == b.x && a.y == b.y; }}\n\
         fn w_lt_u64(a: {w}, b: {w}) -> bool {{ return a.y < b.y || (a.y == b.y && a.x < b.x); }}\n\
         fn w_lt_i64(a: {w}, b: {w}) -> bool {{\n    let ah = bitcast<i32>(a.y);\n    let bh = bitcast<i32>(b.y);\n    return ah < bh || (ah == bh && a.x < b.x);\n}}\n\
         fn w_negative(a: {w}) -> bool {{ return bitcast<i32>(a.y) < 0i; }}\n"
    );
    // Shifts by an amount already masked to 0..=63.
    let _ = write!(
        out,
        "fn w_shl(a: {w}, s: u32) -> {w} {{\n    if s == 0u {{ return a; }}\n    if s >= 32u {{ return {w}(0u, a.x << (s - 32u)); }}\n    return {w}(a.x << s, (a.y << s) | (a.x >> (32u - s)));\n}}\n\
         fn w_shr_u64(a: {w}, s: u32) -> {w} {{\n    if s == 0u {{ return a; }}\n    if s >= 32u {{ return {w}(a.y >> (s - 32u), 0u); }}\n    return {w}((a.x >> s) | (a.y << (32u - s)), a.y >> s);\n}}\n\
         fn w_shr_i64(a: {w}, s: u32) -> {w} {{\n    let h = bitcast<i32>(a.y);\n    if s == 0u {{ return a; }}\n    if s >= 32u {{ return {w}(bitcast<u32>(h >> (s - 32u)), bitcast<u32>(h >> 31u)); }}\n    return {w}((a.x >> s) | (a.y << (32u - s)), bitcast<u32>(h >> s));\n}}\n"
    );
    // Unsigned division and remainder (`d` not zero) as `vec4(quotient, remainder)`, without
    // loops (Mesa's llvmpipe allows 65,535 loop iterations per work item in all, and a loop
    // of 64 steps per division spent that in a histogram): 32-bit when both fit, else by
    // 16-bit digits on a normalised divisor (Knuth's algorithm D, as Hacker's Delight writes
    // `divlu` and `divdu`). `w_divlu(u1, u0, v)` divides `u1:u0` by `v` with `u1 < v`, so
    // that the quotient fits in a word; each digit's estimate is corrected at most twice.
    let digit = |q: &str, rhat: &str, low: &str| {
        format!(
            "    if {q} >= 0x10000u || {q} * vn0 > ((({rhat}) << 16u) | {low}) {{\n        {q} = {q} - 1u;\n        {rhat} = {rhat} + vn1;\n        if {rhat} < 0x10000u && ({q} >= 0x10000u || {q} * vn0 > ((({rhat}) << 16u) | {low})) {{\n            {q} = {q} - 1u;\n            {rhat} = {rhat} + vn1;\n        }}\n    }}\n"
        )
    };
    let _ = write!(
        out,
        "fn w_divlu(u1: u32, u0: u32, v0: u32) -> vec2<u32> {{\n    let s = countLeadingZeros(v0);\n    let v = v0 << s;\n    let vn1 = v >> 16u;\n    let vn0 = v & 0xffffu;\n    let un32 = (u1 << s) | select(0u, u0 >> (32u - s), s > 0u);\n    let un10 = u0 << s;\n    let un1 = un10 >> 16u;\n    let un0 = un10 & 0xffffu;\n    var q1 = un32 / vn1;\n    var r1 = un32 - q1 * vn1;\n{}    let un21 = (un32 << 16u) + un1 - q1 * v;\n    var q0 = un21 / vn1;\n    var r0 = un21 - q0 * vn1;\n{}    return vec2<u32>((q1 << 16u) + q0, ((un21 << 16u) + un0 - q0 * v) >> s);\n}}\n",
        digit("q1", "r1", "un1"),
        digit("q0", "r0", "un0"),
    );
    let _ = write!(
        out,
        "fn w_divrem(n: {w}, d: {w}) -> vec4<u32> {{\n    if d.y == 0u {{\n        if n.y == 0u {{ return vec4<u32>(n.x / d.x, 0u, n.x % d.x, 0u); }}\n        let hi = n.y / d.x;\n        let lo = w_divlu(n.y % d.x, n.x, d.x);\n        return vec4<u32>(lo.x, hi, lo.y, 0u);\n    }}\n    // The quotient fits in a word: estimate it from the divisor's top word, normalised,\n    // and the dividend halved (so the estimate's division cannot overflow), then correct.\n    let s = countLeadingZeros(d.y);\n    let top = w_shl(d, s).y;\n    let half = w_shr_u64(n, 1u);\n    let q1 = w_divlu(half.y, half.x, top).x;\n    var q = w_shr_u64(w_shl({w}(q1, 0u), s), 31u).x;\n    if q != 0u {{ q = q - 1u; }}\n    var r = w_sub(n, w_mul({w}(q, 0u), d));\n    if !w_lt_u64(r, d) {{\n        q = q + 1u;\n        r = w_sub(r, d);\n    }}\n    return vec4<u32>(q, 0u, r);\n}}\n"
    );
    let (zero_div, overflow) = (
        fault_codes::DIVISION_BY_ZERO,
        fault_codes::DIVISION_OVERFLOW,
    );
    let min = literal(1 << 63);
    let minus_one = literal(u64::MAX);
    for (name, part) in [("div", "xy"), ("rem", "zw")] {
        let _ = write!(
            out,
            "fn {name}_u64(a: {w}, b: {w}) -> {w} {{\n    if w_eq(b, {z}) {{ record_fault({zero_div}u, 0u, {z}); return {z}; }}\n    return w_divrem(a, b).{part};\n}}\n"
        );
        // Truncating: the quotient's sign is the operands' product's, the remainder's is
        // the dividend's. |MIN| is 2^63 as an unsigned pair.
        let sign = if name == "div" {
            "w_negative(a) != w_negative(b)"
        } else {
            "w_negative(a)"
        };
        let _ = write!(
            out,
            "fn {name}_i64(a: {w}, b: {w}) -> {w} {{\n    if w_eq(b, {z}) {{ record_fault({zero_div}u, 0u, {z}); return {z}; }}\n    if w_eq(a, {min}) && w_eq(b, {minus_one}) {{ record_fault({overflow}u, 0u, {z}); return {z}; }}\n    let m = w_divrem(select(a, w_neg(a), w_negative(a)), select(b, w_neg(b), w_negative(b))).{part};\n    return select(m, w_neg(m), {sign});\n}}\n"
        );
    }
    // Minima, maxima, clamps, absolute values, rotations and bit counts, per type.
    let clamp = fault_codes::INVALID_CLAMP;
    for n in ["u64", "i64"] {
        let _ = write!(
            out,
            "fn min_{n}(a: {w}, b: {w}) -> {w} {{ return select(a, b, w_lt_{n}(b, a)); }}\n\
             fn max_{n}(a: {w}, b: {w}) -> {w} {{ return select(a, b, w_lt_{n}(a, b)); }}\n\
             fn clamp_{n}(x: {w}, lo: {w}, hi: {w}) -> {w} {{\n    if w_lt_{n}(hi, lo) {{ record_fault({clamp}u, 0u, {z}); return x; }}\n    return min_{n}(max_{n}(x, lo), hi);\n}}\n\
             fn rotl_{n}(x: {w}, k: u32) -> {w} {{\n    let s = k & 63u;\n    if s == 0u {{ return x; }}\n    return w_shl(x, s) | w_shr_u64(x, 64u - s);\n}}\n\
             fn rotr_{n}(x: {w}, k: u32) -> {w} {{\n    let s = k & 63u;\n    if s == 0u {{ return x; }}\n    return w_shr_u64(x, s) | w_shl(x, 64u - s);\n}}\n\
             fn popcount_{n}(x: {w}) -> u32 {{ return countOneBits(x.x) + countOneBits(x.y); }}\n\
             fn clz_{n}(x: {w}) -> u32 {{\n    if x.y != 0u {{ return countLeadingZeros(x.y); }}\n    return 32u + countLeadingZeros(x.x);\n}}\n\
             fn ctz_{n}(x: {w}) -> u32 {{\n    if x.x != 0u {{ return countTrailingZeros(x.x); }}\n    return 32u + countTrailingZeros(x.y);\n}}\n"
        );
    }
    // Wrapping, as the native `0 - x`: |MIN| is MIN.
    let _ = writeln!(
        out,
        "fn iabs_i64(x: {w}) -> {w} {{ return select(x, w_neg(x), w_negative(x)); }}"
    );
    // Conversions. To `f32`: the top 24 bits rounded to nearest, ties to even, on the bits
    // (the sum of two converted words would round twice), then scaled by a power of two.
    let _ = write!(
        out,
        "fn w_to_f32(x: {w}) -> f32 {{\n    if x.y == 0u {{ return f32(x.x); }}\n    let n = countLeadingZeros(x.y);\n    let m = w_shl(x, n);\n    var mant = m.y >> 8u;\n    let rest = m.y & 0xffu;\n    if (rest & 0x80u) != 0u && ((rest & 0x7fu) != 0u || m.x != 0u || (mant & 1u) == 1u) {{ mant = mant + 1u; }}\n    return f32(mant) * bitcast<f32>((167u - n) << 23u);\n}}\n\
         fn to_f32_u64(x: {w}) -> f32 {{ return w_to_f32(x); }}\n\
         fn to_f32_i64(x: {w}) -> f32 {{\n    let f = w_to_f32(select(x, w_neg(x), w_negative(x)));\n    return select(f, -f, w_negative(x));\n}}\n"
    );
    for (to, from) in [("i64", "u64"), ("u64", "i64")] {
        let _ = writeln!(out, "fn to_{to}_{from}(x: {w}) -> {w} {{ return x; }}");
    }
    for n in ["u64", "i64"] {
        let _ = write!(
            out,
            "fn to_u32_{n}(x: {w}) -> u32 {{ return x.x; }}\n\
             fn to_i32_{n}(x: {w}) -> i32 {{ return bitcast<i32>(x.x); }}\n\
             fn to_{n}_u32(x: u32) -> {w} {{ return {w}(x, 0u); }}\n\
             fn to_{n}_i32(x: i32) -> {w} {{ return {w}(bitcast<u32>(x), select(0u, 0xffffffffu, x < 0i)); }}\n"
        );
    }
    // Saturating float-to-integer casts (NaN to 0): below the range to MIN, at or above
    // 2^64 (2^63) to MAX; otherwise the truncated value split at 2^32, exactly (powers of two
    // scale exactly, and a float below 2^64 has at most 24 significant bits).
    let _ = write!(
        out,
        "fn cast_f32_u64(x: f32) -> {w} {{\n    if isnan_f32(x) || x <= 0.0f {{ return {z}; }}\n    if x >= bitcast<f32>(0x5f800000u) {{ return {max_u}; }}\n    let t = trunc_f32(x);\n    let hi = trunc_f32(t * bitcast<f32>(0x2f800000u));\n    return {w}(u32(t - hi * bitcast<f32>(0x4f800000u)), u32(hi));\n}}\n\
         fn cast_f32_i64(x: f32) -> {w} {{\n    if isnan_f32(x) {{ return {z}; }}\n    if x <= bitcast<f32>(0xdf000000u) {{ return {min}; }}\n    if x >= bitcast<f32>(0x5f000000u) {{ return {max_i}; }}\n    let m = cast_f32_u64(abs(x));\n    return select(m, w_neg(m), x < 0.0f);\n}}\n",
        max_u = literal(u64::MAX),
        max_i = literal(i64::MAX as u64),
    );
    out
}
