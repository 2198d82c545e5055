//! The CPU's sums and products: the reduction kernels' combinations (see
//! [`reduce`](super::reduce)) in the same order, so with the same bits, as host code that
//! reads the input once at memory speed.
//!
//! The order suits vectors as it is: lane `l` of a chunk combines elements `l, l + 256, ..`,
//! so the 256 lane values are 16 rows of the chunk combined element-wise (contiguous loads),
//! then halved by the tree. With AVX-512 the 256 lanes of `f32` stay in 16 registers.

use super::reduce::CHUNK;
use rayon::prelude::*;

/// Lanes of a chunk, and elements per row of it.
const LANES: usize = 256;

/// The element types of the host sums and products: the kernels' combinations.
pub trait HostCombine: Copy + Send + Sync + 'static {
    /// `a + b` (floats) or the wrapping sum (integers).
    fn sum(a: Self, b: Self) -> Self;
    /// `a * b` (floats) or the wrapping product (integers).
    fn product(a: Self, b: Self) -> Self;
}

macro_rules! host_combine {
    (float $t:ty) => {
        impl HostCombine for $t {
            #[inline(always)]
            fn sum(a: $t, b: $t) -> $t {
                a + b
            }
            #[inline(always)]
            fn product(a: $t, b: $t) -> $t {
                a * b
            }
        }
    };
    (int $t:ty) => {
        impl HostCombine for $t {
            #[inline(always)]
            fn sum(a: $t, b: $t) -> $t {
                a.wrapping_add(b)
            }
            #[inline(always)]
            fn product(a: $t, b: $t) -> $t {
                a.wrapping_mul(b)
            }
        }
    };
}

host_combine!(float f32);
host_combine!(float f64);
host_combine!(int i32);
host_combine!(int u32);
host_combine!(int i64);
host_combine!(int u64);

/// `x` reduced by `T::sum` (`product: false`) or `T::product` in the kernels' order, on the
/// current rayon pool; `identity` for nothing.
pub fn reduce<T: HostCombine>(x: &[T], identity: T, product: bool) -> T {
    if product {
        passes(x, identity, T::product)
    } else {
        passes(x, identity, T::sum)
    }
}

/// Pass after pass, one value per chunk, until one is left.
fn passes<T: HostCombine, F: Fn(T, T) -> T + Copy + Send + Sync>(x: &[T], identity: T, op: F) -> T {
    let mut values: Vec<T> = x
        .par_chunks(CHUNK)
        .map(|c| chunk(c, identity, op))
        .collect();
    while values.len() > 1 {
        values = values
            .par_chunks(CHUNK)
            .map(|c| chunk(c, identity, op))
            .collect();
    }
    values.first().copied().unwrap_or(identity)
}

/// One chunk's value (the kernels' `reduce_kernel`), compiled for AVX-512 where the
/// processor has it: the same operations, wider registers.
fn chunk<T: HostCombine, F: Fn(T, T) -> T + Copy>(c: &[T], identity: T, op: F) -> T {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the processor has AVX-512F (checked above).
        return unsafe { chunk_avx512(c, identity, op) };
    }
    chunk_steps(c, identity, op)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn chunk_avx512<T: HostCombine, F: Fn(T, T) -> T + Copy>(c: &[T], identity: T, op: F) -> T {
    chunk_steps(c, identity, op)
}

#[inline(always)]
fn chunk_steps<T: HostCombine, F: Fn(T, T) -> T + Copy>(c: &[T], identity: T, op: F) -> T {
    let mut lanes = [identity; LANES];
    // Row k holds element k of every lane; a short last row leaves the lanes past its end
    // alone (the kernels skip elements past the end).
    for row in c.chunks(LANES) {
        for (lane, &v) in lanes.iter_mut().zip(row) {
            *lane = op(*lane, v);
        }
    }
    let mut s = LANES / 2;
    while s >= 1 {
        let (low, high) = lanes.split_at_mut(s);
        for (a, &b) in low.iter_mut().zip(&high[..s]) {
            *a = op(*a, b);
        }
        s /= 2;
    }
    lanes[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernels' order spelled item by item (lane loops, then the tree), as the reference.
    fn by_items(x: &[f32]) -> f32 {
        let mut values: Vec<f32> = x.to_vec();
        loop {
            let next: Vec<f32> = values
                .chunks(CHUNK)
                .map(|c| {
                    let mut tile = [-0.0f32; LANES];
                    for (lid, t) in tile.iter_mut().enumerate() {
                        for k in 0..16 {
                            if let Some(&v) = c.get(k * LANES + lid) {
                                *t += v;
                            }
                        }
                    }
                    for s in [128, 64, 32, 16, 8, 4, 2, 1] {
                        for lid in 0..s {
                            tile[lid] += tile[lid + s];
                        }
                    }
                    tile[0]
                })
                .collect();
            if next.len() == 1 {
                return next[0];
            }
            values = next;
        }
    }

    #[test]
    fn sums_have_the_kernels_bits() {
        for n in [1usize, 255, 4096, 4097, 70_001, CHUNK * CHUNK + 3] {
            let x: Vec<f32> = (0..n as u64)
                .map(|i| {
                    let h = i.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29);
                    let magnitude = [1e-6f32, 1.0, 1e7][(h % 3) as usize];
                    ((h >> 8) % 2001) as f32 / 1000.0 * magnitude - magnitude
                })
                .collect();
            assert_eq!(
                reduce(&x, -0.0, false).to_bits(),
                by_items(&x).to_bits(),
                "n = {n}"
            );
        }
        assert_eq!(
            reduce::<f64>(&[], -0.0, false).to_bits(),
            (-0.0f64).to_bits()
        );
        let ints: Vec<u32> = (1..=20).collect();
        assert_eq!(
            reduce(&ints, 1, true),
            (1..=20u32).fold(1, u32::wrapping_mul)
        );
    }
}
