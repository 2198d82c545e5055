//! The host scan's two steps for a full chunk of 32-bit elements with AVX-512: sixteen lanes
//! at a time, each lane's sixteen elements transposed into sixteen vectors (vector `m` holds
//! element `m` of every lane), so that adding the vectors in order performs each lane's
//! additions in the scalar order, sixteen lanes per instruction. The bits are those of the
//! scalar route ([`super::host_scan`]): the same IEEE (or wrapping) additions of the same
//! operands.

use super::host_scan::LANES;
use super::reduce::CHUNK;

/// The 32-bit element types of the route: whether their sum is a float sum.
pub trait Word32: bytemuck::Pod {
    /// `true` for `f32` (IEEE addition); `false` for `i32`/`u32` (wrapping addition).
    const FLOAT: bool;
}

impl Word32 for f32 {
    const FLOAT: bool = true;
}
impl Word32 for i32 {
    const FLOAT: bool = false;
}
impl Word32 for u32 {
    const FLOAT: bool = false;
}

/// [`super::host_scan::lane_totals`] of a full chunk; `false` (nothing done) without
/// AVX-512F or when `x` is not a full chunk.
pub fn lane_totals<T: Word32>(x: &[T], lanes: &mut [T; LANES]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if x.len() == CHUNK && std::arch::is_x86_feature_detected!("avx512f") {
        let x: &[u32] = bytemuck::cast_slice(x);
        let lanes: &mut [u32] = bytemuck::cast_slice_mut(lanes);
        // SAFETY: the processor has AVX-512F (checked above).
        unsafe {
            match T::FLOAT {
                true => x86::lane_totals::<true>(x, lanes),
                false => x86::lane_totals::<false>(x, lanes),
            }
        }
        return true;
    }
    let _ = (x, lanes);
    false
}

/// [`super::host_scan::prefixes`] of a full chunk; `false` (nothing done) without AVX-512F
/// or when `x` or `y` is not a full chunk. `stream` writes `y` past the caches (when it is
/// aligned to 64 bytes): for outputs too large to stay cached, it saves reading each line
/// of `y` before writing it.
pub fn prefixes<T: Word32>(
    x: &[T],
    starts: &[T; LANES],
    exclusive: bool,
    stream: bool,
    y: &mut [T],
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if x.len() == CHUNK && y.len() == CHUNK && std::arch::is_x86_feature_detected!("avx512f") {
        let x: &[u32] = bytemuck::cast_slice(x);
        let starts: &[u32] = bytemuck::cast_slice(starts);
        let y: &mut [u32] = bytemuck::cast_slice_mut(y);
        let stream = stream && y.as_ptr().align_offset(64) == 0;
        // SAFETY: the processor has AVX-512F (checked above).
        unsafe {
            match (T::FLOAT, exclusive) {
                (true, true) => x86::prefixes::<true, true>(x, starts, stream, y),
                (true, false) => x86::prefixes::<true, false>(x, starts, stream, y),
                (false, true) => x86::prefixes::<false, true>(x, starts, stream, y),
                (false, false) => x86::prefixes::<false, false>(x, starts, stream, y),
            }
        }
        return true;
    }
    let _ = (x, starts, exclusive, stream, y);
    false
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{CHUNK, LANES};
    use std::arch::x86_64::{
        __m512i, _mm_sfence, _mm512_add_epi32, _mm512_add_ps, _mm512_castps_si512,
        _mm512_castsi512_ps, _mm512_loadu_si512, _mm512_permutex2var_epi32, _mm512_storeu_si512,
        _mm512_stream_si512,
    };

    /// Elements per lane, and lanes per vector.
    const W: usize = 16;

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn add<const FLOAT: bool>(a: __m512i, b: __m512i) -> __m512i {
        if FLOAT {
            _mm512_castps_si512(_mm512_add_ps(
                _mm512_castsi512_ps(a),
                _mm512_castsi512_ps(b),
            ))
        } else {
            _mm512_add_epi32(a, b)
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn load(words: &[u32]) -> __m512i {
        let row = &words[..W];
        // SAFETY: `row` holds 16 words (64 bytes); the load has no alignment requirement.
        unsafe { _mm512_loadu_si512(row.as_ptr().cast()) }
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn store(words: &mut [u32], v: __m512i) {
        let row = &mut words[..W];
        // SAFETY: `row` holds 16 words (64 bytes), borrowed mutably; no alignment needed.
        unsafe { _mm512_storeu_si512(row.as_mut_ptr().cast(), v) }
    }

    /// A non-temporal store of a row aligned to 64 bytes.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn store_past_caches(words: &mut [u32], v: __m512i) {
        let row = &mut words[..W];
        debug_assert!(row.as_ptr().align_offset(64) == 0);
        // SAFETY: `row` holds 16 words (64 bytes), borrowed mutably; the caller checked that
        // `y` is aligned to 64 bytes, and rows lie at multiples of 64 bytes from its start.
        unsafe { _mm512_stream_si512(row.as_mut_ptr().cast(), v) }
    }

    /// The permutation indices of one step of [`transpose`] (`d` = 8, 4, 2, 1): the new top
    /// row takes its own left half and the bottom row's left half into its right half (`16 +`
    /// selects the bottom row); the new bottom row the top's right half and its own.
    const fn step_indices(d: i32) -> ([i32; W], [i32; W]) {
        let mut top = [0; W];
        let mut bottom = [0; W];
        let mut j = 0;
        while j < W as i32 {
            top[j as usize] = if j & d == 0 { j } else { 16 + j - d };
            bottom[j as usize] = if j & d == 0 { j + d } else { 16 + j };
            j += 1;
        }
        (top, bottom)
    }

    const STEPS: [([i32; W], [i32; W]); 4] = [
        step_indices(8),
        step_indices(4),
        step_indices(2),
        step_indices(1),
    ];

    /// Transposes 16 x 16 words: in every 2d x 2d block, the top-right and bottom-left d x d
    /// blocks trade places, for d = 8, 4, 2, 1 (each step exchanges bit d of the row and
    /// column numbers where they differ; after all four, all bits are exchanged).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn transpose(rows: [__m512i; W]) -> [__m512i; W] {
        let mut rows = rows;
        // Unrolled by hand: row numbers known at compile time keep the rows in registers.
        macro_rules! step {
            ($s:literal, $d:literal, [$($i:literal)*]) => {{
                let top = load_indices(&STEPS[$s].0);
                let bottom = load_indices(&STEPS[$s].1);
                $(
                    let (a, b) = (rows[$i], rows[$i + $d]);
                    rows[$i] = _mm512_permutex2var_epi32(a, top, b);
                    rows[$i + $d] = _mm512_permutex2var_epi32(a, bottom, b);
                )*
            }};
        }
        step!(0, 8, [0 1 2 3 4 5 6 7]);
        step!(1, 4, [0 1 2 3 8 9 10 11]);
        step!(2, 2, [0 1 4 5 8 9 12 13]);
        step!(3, 1, [0 2 4 6 8 10 12 14]);
        rows
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn load_indices(indices: &[i32; W]) -> __m512i {
        // SAFETY: 16 i32 (64 bytes); the load has no alignment requirement.
        unsafe { _mm512_loadu_si512(indices.as_ptr().cast()) }
    }

    /// Lane `16 b + l` of the chunk as row `l` of block `b`, transposed.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn block_columns(x: &[u32], b: usize) -> [__m512i; W] {
        let block = &x[W * W * b..W * W * (b + 1)];
        transpose(std::array::from_fn(|l| load(&block[W * l..])))
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(super) fn lane_totals<const FLOAT: bool>(x: &[u32], lanes: &mut [u32]) {
        debug_assert!(x.len() == CHUNK && lanes.len() == LANES);
        let identity = if FLOAT { (-0.0f32).to_bits() } else { 0 };
        for b in 0..LANES / W {
            let columns = block_columns(x, b);
            let mut total = load(&[identity; W]);
            for column in columns {
                total = add::<FLOAT>(total, column);
            }
            store(&mut lanes[W * b..], total);
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(super) fn prefixes<const FLOAT: bool, const EXCLUSIVE: bool>(
        x: &[u32],
        starts: &[u32],
        stream: bool,
        y: &mut [u32],
    ) {
        debug_assert!(x.len() == CHUNK && y.len() == CHUNK && starts.len() == LANES);
        for b in 0..LANES / W {
            let mut columns = block_columns(x, b);
            let mut running = load(&starts[W * b..]);
            for column in columns.iter_mut() {
                let next = add::<FLOAT>(running, *column);
                *column = if EXCLUSIVE { running } else { next };
                running = next;
            }
            let rows = transpose(columns);
            let out = &mut y[W * W * b..W * W * (b + 1)];
            for (l, row) in rows.iter().enumerate() {
                if stream {
                    store_past_caches(&mut out[W * l..], *row);
                } else {
                    store(&mut out[W * l..], *row);
                }
            }
        }
        if stream {
            // Streaming stores are weakly ordered: make them visible before the caller
            // hands `y` to another thread.
            _mm_sfence();
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::super::host_scan::{HostScan, LANE};
    use super::*;

    /// The scalar steps, as `host_scan` runs them without this route.
    fn scalar_totals<T: HostScan>(x: &[T]) -> Vec<T> {
        x.chunks(LANE)
            .map(|lane| lane.iter().fold(T::IDENTITY, |a, &b| T::add(a, b)))
            .collect()
    }

    fn scalar_prefixes<T: HostScan>(x: &[T], starts: &[T], exclusive: bool) -> Vec<T> {
        let mut y = Vec::with_capacity(x.len());
        for (lane, &start) in x.chunks(LANE).zip(starts) {
            let mut running = start;
            for &v in lane {
                let next = T::add(running, v);
                y.push(if exclusive { running } else { next });
                running = next;
            }
        }
        y
    }

    /// Same bits as the scalar steps (where the processor has AVX-512F; elsewhere the route
    /// declines, which is checked instead).
    #[test]
    fn the_route_gives_the_scalar_bits() {
        let x: Vec<f32> = (0..CHUNK as u32)
            .map(|i| {
                let h = i.wrapping_mul(0x9e37_79b9).rotate_left(13);
                f32::from_bits(h % 0x7f00_0000) * if h % 3 == 0 { -1.0 } else { 1.0 }
            })
            .collect();
        let starts: Vec<f32> = (0..LANES).map(|l| l as f32 * 0.37 - 40.0).collect();
        let starts: [f32; LANES] = starts.try_into().unwrap_or([0.0; LANES]);
        let mut lanes = [0.0f32; LANES];
        if !lane_totals(&x, &mut lanes) {
            assert!(!std::arch::is_x86_feature_detected!("avx512f"));
            return;
        }
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&lanes), bits(&scalar_totals(&x)));
        for exclusive in [false, true] {
            let mut y = vec![0.0f32; CHUNK];
            assert!(prefixes(&x, &starts, exclusive, exclusive, &mut y));
            assert_eq!(bits(&y), bits(&scalar_prefixes(&x, &starts, exclusive)));
        }
        let words: Vec<u32> = x.iter().map(|f| f.to_bits()).collect();
        let starts: [u32; LANES] = std::array::from_fn(|l| u32::MAX - l as u32);
        let mut lanes = [0u32; LANES];
        assert!(lane_totals(&words, &mut lanes));
        assert_eq!(lanes.to_vec(), scalar_totals(&words));
        let mut y = vec![0u32; CHUNK];
        assert!(prefixes(&words, &starts, false, true, &mut y));
        assert_eq!(y, scalar_prefixes(&words, &starts, false));
    }
}
