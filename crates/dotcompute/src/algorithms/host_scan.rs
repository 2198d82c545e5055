//! The CPU's prefix sums: the additions of the scan kernels (see [`scan`](super::scan)), in
//! the same order and so with the same bits, in one sweep over memory instead of two.
//!
//! The kernels read the input twice (chunk totals, then prefixes). Here the input goes by in
//! blocks of [`BLOCK_CHUNKS`] chunks: the threads compute each chunk's lane totals and their
//! Hillis-Steele scan (the block is then in the cache), one thread turns the chunk totals into
//! carries, and the threads write the prefixes from the cached block. The carries are the
//! exclusive scan of the chunk totals in the kernels' order, computed as the totals arrive
//! ([`CarryLevel`]): a carry needs only the totals before it.
//!
//! Full chunks of 32-bit elements go through AVX-512 where the processor has it
//! ([`super::host_scan_avx512`]): each lane's elements are summed in order exactly as below,
//! sixteen lanes at a time after a transpose.

use super::reduce::CHUNK;
use rayon::prelude::*;

/// Lanes per chunk (one per item of a kernel group); each owns [`LANE`] contiguous elements.
pub const LANES: usize = 256;
/// Elements per lane.
pub const LANE: usize = CHUNK / LANES;
/// Chunks per block of the sweep: 2M elements, a few MiB that stay in the cache between the
/// two halves of a block's work, and few enough blocks that starting the threads twice per
/// block costs little.
pub const BLOCK_CHUNKS: usize = 512;
/// Outputs larger than this are written with streaming stores where a fast route has them:
/// well past what the caches of a common processor keep.
pub const STREAM_BYTES: usize = 64 << 20;

/// The element types of the host scan: their sum and its identity, and optionally a faster
/// way to do a full chunk's two steps.
pub trait HostScan: Copy + Send + Sync + 'static {
    /// The identity of the sum: 0, or `-0.0` for floats.
    const IDENTITY: Self;
    /// The kernels' sum: `a + b` for floats, wrapping for integers.
    fn add(a: Self, b: Self) -> Self;
    /// [`lane_totals`] of a full chunk by a faster route, when there is one (`false`: none).
    fn fast_lane_totals(_x: &[Self], _lanes: &mut [Self; LANES]) -> bool {
        false
    }
    /// [`prefixes`] of a full chunk by a faster route, when there is one (`false`: none);
    /// `stream` lets it write `y` past the caches.
    fn fast_prefixes(
        _x: &[Self],
        _starts: &[Self; LANES],
        _exclusive: bool,
        _stream: bool,
        _y: &mut [Self],
    ) -> bool {
        false
    }
}

/// The AVX-512 routes of a 32-bit element type.
macro_rules! avx512_routes {
    ($t:ty) => {
        fn fast_lane_totals(x: &[$t], lanes: &mut [$t; LANES]) -> bool {
            super::host_scan_avx512::lane_totals(x, lanes)
        }
        fn fast_prefixes(
            x: &[$t],
            starts: &[$t; LANES],
            exclusive: bool,
            stream: bool,
            y: &mut [$t],
        ) -> bool {
            super::host_scan_avx512::prefixes(x, starts, exclusive, stream, y)
        }
    };
}

macro_rules! host_scan {
    ($t:ty, $identity:expr, |$a:ident, $b:ident| $add:expr $(, $wide:ident)?) => {
        impl HostScan for $t {
            const IDENTITY: $t = $identity;
            #[inline(always)]
            fn add($a: $t, $b: $t) -> $t {
                $add
            }
            $($wide!($t);)?
        }
    };
}

host_scan!(f32, -0.0, |a, b| a + b, avx512_routes);
host_scan!(f64, -0.0, |a, b| a + b);
host_scan!(i32, 0, |a, b| a.wrapping_add(b), avx512_routes);
host_scan!(u32, 0, |a, b| a.wrapping_add(b), avx512_routes);
host_scan!(i64, 0, |a, b| a.wrapping_add(b));
host_scan!(u64, 0, |a, b| a.wrapping_add(b));

/// Lane `l`'s total: its elements (`x[LANE l ..]`, fewer at the end of the input) added in
/// order from the identity; lanes past the end hold the identity.
pub fn lane_totals<T: HostScan>(x: &[T], lanes: &mut [T; LANES]) {
    if x.len() == CHUNK && T::fast_lane_totals(x, lanes) {
        return;
    }
    for (l, lane) in lanes.iter_mut().enumerate() {
        let start = (LANE * l).min(x.len());
        let end = (start + LANE).min(x.len());
        *lane = x[start..end].iter().fold(T::IDENTITY, |a, &b| T::add(a, b));
    }
}

/// The kernels' Hillis-Steele scan of the lane totals, in place: for `d = 1, 2, .., 128`,
/// `t[l] = t[l - d] + t[l]` for every `l >= d`, all from the previous step's values.
pub fn hillis_steele<T: HostScan>(lanes: &mut [T; LANES]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the processor has AVX-512F (checked above).
        unsafe { hillis_steele_avx512(lanes) };
        return;
    }
    hillis_steele_steps(lanes);
}

/// [`hillis_steele_steps`] compiled for AVX-512: the same additions, 16 lanes at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn hillis_steele_avx512<T: HostScan>(lanes: &mut [T; LANES]) {
    hillis_steele_steps(lanes);
}

#[inline(always)]
fn hillis_steele_steps<T: HostScan>(lanes: &mut [T; LANES]) {
    let mut d = 1;
    while d < LANES {
        let before = *lanes;
        for l in d..LANES {
            lanes[l] = T::add(before[l - d], before[l]);
        }
        d *= 2;
    }
}

/// Every element's prefix from its lane's start (`starts[l]`: the chunk's carry plus the
/// lanes before), the lane's elements added one at a time; `exclusive` writes the value
/// before adding the element; `stream` lets a fast route write `y` past the caches.
pub fn prefixes<T: HostScan>(
    x: &[T],
    starts: &[T; LANES],
    exclusive: bool,
    stream: bool,
    y: &mut [T],
) {
    if x.len() == CHUNK && T::fast_prefixes(x, starts, exclusive, stream, y) {
        return;
    }
    for ((xs, ys), &start) in x.chunks(LANE).zip(y.chunks_mut(LANE)).zip(starts) {
        let mut running = start;
        for (&v, out) in xs.iter().zip(ys) {
            let next = T::add(running, v);
            *out = if exclusive { running } else { next };
            running = next;
        }
    }
}

/// Each lane's start: `carry + (the scanned lanes before it)`, the kernels' `lane_prefix`.
fn lane_starts<T: HostScan>(scanned: &[T; LANES], carry: T) -> [T; LANES] {
    let mut starts = [T::IDENTITY; LANES];
    starts[0] = T::add(carry, T::IDENTITY);
    for l in 1..LANES {
        starts[l] = T::add(carry, scanned[l - 1]);
    }
    starts
}

/// The exclusive scan, in the kernels' order, of a sequence of `len` values given one at a
/// time: [`CarryLevel::peek`] is the prefix of the next value, which needs only the values
/// before it. Its chunk carries come from the level above, which sees its chunk totals.
pub struct CarryLevel<T: HostScan> {
    len: usize,
    /// Values received.
    seen: usize,
    /// Lane totals of the current chunk: finished lanes, then the identity.
    lanes: [T; LANES],
    /// The current lane's total so far.
    lane_total: T,
    /// The prefix of the next value, once its lane has started.
    running: Option<T>,
    /// The current chunk's carry, once it has started.
    carry: Option<T>,
    /// The scan of the chunk totals; `None` when the values fit one chunk (carry: identity).
    above: Option<Box<CarryLevel<T>>>,
}

impl<T: HostScan> CarryLevel<T> {
    /// A scan of `len` values.
    pub fn new(len: usize) -> CarryLevel<T> {
        let chunks = len.div_ceil(CHUNK);
        CarryLevel {
            len,
            seen: 0,
            lanes: [T::IDENTITY; LANES],
            lane_total: T::IDENTITY,
            running: None,
            carry: None,
            above: (chunks > 1).then(|| Box::new(CarryLevel::new(chunks))),
        }
    }

    /// The exclusive prefix of the next value.
    pub fn peek(&mut self) -> T {
        if let Some(running) = self.running {
            return running;
        }
        let carry = match self.carry {
            Some(carry) => carry,
            None => {
                let carry = self
                    .above
                    .as_mut()
                    .map_or(T::IDENTITY, |above| above.peek());
                self.carry = Some(carry);
                carry
            }
        };
        let lane = (self.seen % CHUNK) / LANE;
        let lane_prefix = if lane == 0 {
            T::IDENTITY
        } else {
            // The Hillis-Steele value at lane - 1 depends on lanes 0..lane only, all done.
            let mut scanned = self.lanes;
            hillis_steele(&mut scanned);
            scanned[lane - 1]
        };
        let running = T::add(carry, lane_prefix);
        self.running = Some(running);
        running
    }

    /// Takes the next value.
    pub fn push(&mut self, value: T) {
        let running = self.peek();
        self.running = Some(T::add(running, value));
        self.lane_total = T::add(self.lane_total, value);
        self.seen += 1;
        let lane = ((self.seen - 1) % CHUNK) / LANE;
        let done = self.seen == self.len;
        if self.seen.is_multiple_of(LANE) || done {
            self.lanes[lane] = self.lane_total;
            self.lane_total = T::IDENTITY;
            self.running = None;
        }
        if self.seen.is_multiple_of(CHUNK) || done {
            hillis_steele(&mut self.lanes);
            if let Some(above) = self.above.as_mut() {
                above.push(self.lanes[LANES - 1]);
            }
            self.lanes = [T::IDENTITY; LANES];
            self.carry = None;
        }
    }
}

/// `y` = the inclusive (or exclusive) scan of `x` in the kernels' order, on the current
/// rayon pool. `y` is as long as `x`.
///
/// Blocks go through two steps, overlapped: while some threads write block `k`'s prefixes
/// (from the cache), others read block `k + 1` and scan its lanes, so memory is read and
/// written at the same time; between the two, one thread turns block `k + 1`'s chunk totals
/// into carries.
pub fn scan<T: HostScan>(x: &[T], y: &mut [T], exclusive: bool) {
    let chunks = x.len().div_ceil(CHUNK);
    // The chunk carries: the identity for a single chunk, as the kernels' driver does.
    let mut carries = (chunks > 1).then(|| CarryLevel::<T>::new(chunks));
    let per_block = BLOCK_CHUNKS.min(chunks);
    // Two blocks in flight: the one being read and the one being written.
    let mut scanned = [
        vec![[T::IDENTITY; LANES]; per_block],
        vec![[T::IDENTITY; LANES]; per_block],
    ];
    let mut block_carries = [vec![T::IDENTITY; per_block], vec![T::IDENTITY; per_block]];
    let span = BLOCK_CHUNKS * CHUNK;
    // An output larger than the caches is written past them (no read of each line first).
    let stream = std::mem::size_of_val(y) > STREAM_BYTES;
    let mut blocks = x.chunks(span).zip(y.chunks_mut(span));
    // The block whose lanes are scanned and carries known, waiting for its prefixes.
    let mut pending: Option<(&[T], &mut [T])> = None;
    for k in 0.. {
        let next = blocks.next();
        if next.is_none() && pending.is_none() {
            break;
        }
        let [even, odd] = &mut scanned;
        let (reading, writing) = if k % 2 == 0 { (even, odd) } else { (odd, even) };
        let [even_carries, odd_carries] = &mut block_carries;
        let (new_carries, old_carries) = if k % 2 == 0 {
            (even_carries, &*odd_carries)
        } else {
            (odd_carries, &*even_carries)
        };
        rayon::join(
            || {
                if let Some((xb, _)) = &next {
                    xb.par_chunks(CHUNK)
                        .zip(reading.par_iter_mut())
                        .for_each(|(xc, lanes)| {
                            lane_totals(xc, lanes);
                            hillis_steele(lanes);
                        });
                }
            },
            || {
                if let Some((xb, yb)) = pending.take() {
                    xb.par_chunks(CHUNK)
                        .zip(yb.par_chunks_mut(CHUNK))
                        .zip(writing.par_iter().zip(old_carries.par_iter()))
                        .for_each(|((xc, yc), (lanes, &carry))| {
                            prefixes(xc, &lane_starts(lanes, carry), exclusive, stream, yc);
                        });
                }
            },
        );
        if let Some((xb, yb)) = next {
            let count = xb.len().div_ceil(CHUNK);
            for (carry, lanes) in new_carries.iter_mut().zip(&reading[..count]) {
                *carry = match carries.as_mut() {
                    Some(level) => {
                        let carry = level.peek();
                        level.push(lanes[LANES - 1]);
                        carry
                    }
                    None => T::IDENTITY,
                };
            }
            pending = Some((xb, yb));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernels' order written as the kernels' driver runs it: whole passes, recursing on
    /// the chunk totals.
    fn two_pass<T: HostScan>(x: &[T], exclusive: bool) -> Vec<T> {
        let chunks = x.len().div_ceil(CHUNK);
        let scanned: Vec<[T; LANES]> = x
            .chunks(CHUNK)
            .map(|xc| {
                let mut lanes = [T::IDENTITY; LANES];
                for (lane, xs) in lanes.iter_mut().zip(xc.chunks(LANE)) {
                    *lane = xs.iter().fold(T::IDENTITY, |a, &b| T::add(a, b));
                }
                hillis_steele(&mut lanes);
                lanes
            })
            .collect();
        let carries = if chunks == 1 {
            vec![T::IDENTITY]
        } else {
            let totals: Vec<T> = scanned.iter().map(|lanes| lanes[LANES - 1]).collect();
            two_pass(&totals, true)
        };
        let mut y = vec![T::IDENTITY; x.len()];
        for (((xc, yc), lanes), &carry) in x
            .chunks(CHUNK)
            .zip(y.chunks_mut(CHUNK))
            .zip(&scanned)
            .zip(&carries)
        {
            prefixes(xc, &lane_starts(lanes, carry), exclusive, false, yc);
        }
        y
    }

    fn mixed(n: usize, seed: u64) -> Vec<f32> {
        (0..n as u64)
            .map(|i| {
                let h = (i ^ seed)
                    .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    .rotate_left(23);
                let magnitude = [1e-6f32, 1.0, 1e7][(h % 3) as usize];
                ((h >> 8) % 2001) as f32 / 1000.0 * magnitude - magnitude
            })
            .collect()
    }

    /// The streaming carries give what the whole-pass recursion gives, bit for bit, at
    /// lengths that end inside a lane, on a chunk edge and past a second carry level.
    #[test]
    fn one_sweep_matches_the_two_passes() {
        for n in [
            1,
            15,
            16,
            4095,
            4096,
            4097,
            3 * CHUNK + 100,
            CHUNK * CHUNK + 3 * CHUNK + 5,
        ] {
            let x = mixed(n, n as u64);
            for exclusive in [false, true] {
                let mut y = vec![0.0f32; n];
                scan(&x, &mut y, exclusive);
                let want = two_pass(&x, exclusive);
                let same = y.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "n = {n}, exclusive = {exclusive}");
            }
        }
    }

    /// Integer scans wrap, 64-bit ones (no fast route) included.
    #[test]
    fn integers_wrap() {
        let x: Vec<u64> = (0..9000u64).map(|i| u64::MAX - i).collect();
        let mut y = vec![0u64; x.len()];
        scan(&x, &mut y, false);
        let mut sum = 0u64;
        for (v, out) in x.iter().zip(&y) {
            sum = sum.wrapping_add(*v);
            assert_eq!(*out, sum);
        }
        let x: Vec<i32> = (0..9000).map(|i| i32::MAX - i).collect();
        let mut y = vec![0i32; x.len()];
        scan(&x, &mut y, true);
        let mut sum = 0i32;
        for (v, out) in x.iter().zip(&y) {
            assert_eq!(*out, sum);
            sum = sum.wrapping_add(*v);
        }
    }
}
