//! The random kernel generator itself: every kernel it makes is valid, a seed always makes the
//! same kernel, and the interpreter runs them (faults included) without failing otherwise.

#![allow(clippy::panic, clippy::unwrap_used)] // tests fail by panicking

use dotcompute::ir::{Stmt, validate};
use dotcompute_conformance::random_kernels::generate;

#[test]
fn every_generated_kernel_validates() {
    for seed in 0..3000 {
        let case = generate(seed);
        if let Err(e) = validate(&case.kernel) {
            panic!("seed {seed}: {e}\n{}", case.kernel);
        }
    }
}

#[test]
fn a_seed_always_makes_the_same_kernel_and_inputs() {
    for seed in [0, 1, 77, u64::MAX] {
        let (a, b) = (generate(seed), generate(seed));
        // Compared encoded: literals may be NaN.
        assert!(a.kernel.to_bytes() == b.kernel.to_bytes(), "seed {seed}");
        // Compared as bytes: the inputs hold NaNs.
        let bytes = |k: &dotcompute_conformance::random_kernels::RandomKernel| {
            k.buffers.iter().map(|d| d.bytes()).collect::<Vec<_>>()
        };
        assert_eq!(bytes(&a), bytes(&b));
        assert_eq!(a.items, b.items);
    }
    assert!(generate(1).kernel.to_bytes() != generate(2).kernel.to_bytes());
}

#[test]
fn the_generator_reaches_every_kind_of_statement() {
    let mut seen = [false; 9];
    fn visit(block: &[Stmt], seen: &mut [bool; 9]) {
        for s in block {
            let k = match s {
                Stmt::Let { .. } => 0,
                Stmt::Assign { .. } => 1,
                Stmt::Store { .. } => 2,
                Stmt::If {
                    then_body,
                    else_body,
                    ..
                } => {
                    visit(then_body, seen);
                    visit(else_body, seen);
                    3
                }
                Stmt::For { body, .. } => {
                    visit(body, seen);
                    4
                }
                Stmt::While { body, .. } | Stmt::Loop { body } => {
                    visit(body, seen);
                    5
                }
                Stmt::Break | Stmt::Continue => 6,
                Stmt::Return(_) => 7,
                Stmt::Eval(_) => 8,
                _ => continue,
            };
            seen[k] = true;
        }
    }
    for seed in 0..200 {
        visit(&generate(seed).kernel.body, &mut seen);
    }
    assert_eq!(seen, [true; 9]);
}
