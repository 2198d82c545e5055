//! The grid of work items a launch runs.

use crate::error::Error;
use std::fmt;

/// The work items of a launch: a 1-, 2- or 3-D box of ids, each dimension a `u64`.
///
/// Convert from a length (`n`, 1-D), a tuple `(x, y)` or `(x, y, z)`, or an array. Ids are
/// 64-bit on every backend, so a 1-D grid may hold more than `u32::MAX` work items.
///
/// ```
/// use dotcompute_core::Grid;
/// assert_eq!(Grid::from(1024usize).dims(), [1024, 1, 1]);
/// assert_eq!(Grid::from((640usize, 480usize)).rank(), 2);
/// assert_eq!(Grid::from([4u64, 4, 4]).work_items().unwrap(), 64);
/// assert!(Grid::from(0usize).work_items().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grid {
    dims: [u64; 3],
    rank: u8,
    group: Option<[u32; 3]>,
}

impl Grid {
    /// A 1-D grid.
    pub const fn d1(x: u64) -> Grid {
        Grid {
            dims: [x, 1, 1],
            rank: 1,
            group: None,
        }
    }

    /// A 2-D grid.
    pub const fn d2(x: u64, y: u64) -> Grid {
        Grid {
            dims: [x, y, 1],
            rank: 2,
            group: None,
        }
    }

    /// A 3-D grid.
    pub const fn d3(x: u64, y: u64, z: u64) -> Grid {
        Grid {
            dims: [x, y, z],
            rank: 3,
            group: None,
        }
    }

    /// Sets the work-group size (what `group_size_*()` returns). Without it, every backend
    /// uses [`Grid::DEFAULT_GROUP_SIZE`].
    pub const fn with_group_size(mut self, group: [u32; 3]) -> Grid {
        self.group = Some(group);
        self
    }

    /// The size along x, y and z (unused dimensions are 1).
    pub const fn dims(&self) -> [u64; 3] {
        self.dims
    }

    /// 1, 2 or 3.
    pub const fn rank(&self) -> u8 {
        self.rank
    }

    /// The work-group size, if set.
    pub const fn group_size(&self) -> Option<[u32; 3]> {
        self.group
    }

    /// What `group_size_*()` returns when the grid does not set a group size.
    pub const DEFAULT_GROUP_SIZE: [u64; 3] = [64, 1, 1];

    /// The work-group size kernels see: the one set, else [`Grid::DEFAULT_GROUP_SIZE`].
    pub fn group_size_or_default(&self) -> [u64; 3] {
        self.group
            .map_or(Grid::DEFAULT_GROUP_SIZE, |g| g.map(u64::from))
    }

    /// The number of work items, or an error for a zero dimension, a zero group size or a
    /// count beyond `u64`.
    pub fn work_items(&self) -> Result<u64, Error> {
        let invalid = |reason: String| Error::InvalidGrid {
            grid: self.to_string(),
            reason,
        };
        for (axis, d) in ["x", "y", "z"].iter().zip(self.dims) {
            if d == 0 {
                return Err(invalid(format!(
                    "it has no work items along {axis}; launch only when there is work"
                )));
            }
        }
        if let Some(g) = self.group
            && g.contains(&0)
        {
            return Err(invalid("a work-group size of zero".into()));
        }
        self.dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| invalid("more than u64::MAX work items".into()))
    }
}

impl fmt::Display for Grid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rank {
            1 => write!(f, "[{}]", self.dims[0]),
            2 => write!(f, "[{} x {}]", self.dims[0], self.dims[1]),
            _ => write!(
                f,
                "[{} x {} x {}]",
                self.dims[0], self.dims[1], self.dims[2]
            ),
        }
    }
}

impl fmt::Debug for Grid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Grid{self}")
    }
}

macro_rules! grid_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Grid {
            fn from(x: $t) -> Grid {
                Grid::d1(x as u64)
            }
        }
        impl From<($t, $t)> for Grid {
            fn from((x, y): ($t, $t)) -> Grid {
                Grid::d2(x as u64, y as u64)
            }
        }
        impl From<($t, $t, $t)> for Grid {
            fn from((x, y, z): ($t, $t, $t)) -> Grid {
                Grid::d3(x as u64, y as u64, z as u64)
            }
        }
        impl From<[$t; 1]> for Grid {
            fn from([x]: [$t; 1]) -> Grid {
                Grid::d1(x as u64)
            }
        }
        impl From<[$t; 2]> for Grid {
            fn from([x, y]: [$t; 2]) -> Grid {
                Grid::d2(x as u64, y as u64)
            }
        }
        impl From<[$t; 3]> for Grid {
            fn from([x, y, z]: [$t; 3]) -> Grid {
                Grid::d3(x as u64, y as u64, z as u64)
            }
        }
    )*};
}

// usize and u32 widen losslessly to u64 on every supported (64-bit) target.
grid_from_int!(usize, u64, u32);

/// Unsuffixed integer literals are `i32`, so `launch(&acc, 1024, ...)` should work; a negative
/// size becomes an empty dimension, which the launch reports as an invalid grid.
fn dim(x: i32) -> u64 {
    u64::try_from(x).unwrap_or(0)
}

impl From<i32> for Grid {
    fn from(x: i32) -> Grid {
        Grid::d1(dim(x))
    }
}

impl From<(i32, i32)> for Grid {
    fn from((x, y): (i32, i32)) -> Grid {
        Grid::d2(dim(x), dim(y))
    }
}

impl From<(i32, i32, i32)> for Grid {
    fn from((x, y, z): (i32, i32, i32)) -> Grid {
        Grid::d3(dim(x), dim(y), dim(z))
    }
}
