//! The `feedwright` binary: pick the allocator, parse the command line, call the library, map the
//! outcome to an exit code. No logic lives here.

use std::process::ExitCode;

/// mimalloc rather than the system allocator: parsing, sanitizing and rendering thousands of
/// pages is mostly small short-lived allocations, where it costs less CPU (`benches/RESULTS.md`).
/// Built without transparent huge pages (the `no_thp` feature), which would more than double the
/// peak resident set of a cold run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Index of the purge delay in mimalloc's `mi_option_t` (include/mimalloc.h; the same in its v2
/// and v3): the crate names only some options. A unit test checks it against the environment
/// variable mimalloc reads for that option.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    tune_allocator();
    feedwright::cli::main()
}

/// mimalloc keeps freed memory for 10 ms before giving it back, which on a cold run lifts the
/// peak resident set by about a quarter for no measurable gain: give it back at once, unless the
/// operator set `MIMALLOC_PURGE_DELAY` (mimalloc reads it when the process loads).
fn tune_allocator() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: a plain setter of mimalloc's option table, called before this process starts
        // any other thread.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purge_delay() -> std::ffi::c_long {
        // SAFETY: a plain getter of mimalloc's option table.
        unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }
    }

    /// `PURGE_DELAY` is the option `MIMALLOC_PURGE_DELAY` sets, and an operator's value wins over
    /// ours: checked in a child process, since mimalloc reads its variables when a process loads.
    #[test]
    fn the_purge_delay_option_is_the_one_the_environment_sets() {
        const CHILD: &str = "FEEDWRIGHT_TEST_ALLOCATOR_CHILD";
        if std::env::var_os(CHILD).is_some() {
            assert_eq!(purge_delay(), 4321, "mimalloc read MIMALLOC_PURGE_DELAY");
            tune_allocator();
            assert_eq!(purge_delay(), 4321, "the operator's value is kept");
            return;
        }
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "tests::the_purge_delay_option_is_the_one_the_environment_sets",
            ])
            .env(CHILD, "1")
            .env("MIMALLOC_PURGE_DELAY", "4321")
            .status()
            .unwrap();
        assert!(status.success(), "the child test failed: {status}");
    }

    #[test]
    fn without_the_variable_freed_memory_is_returned_at_once() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return; // the operator's setting is kept; checked above
        }
        assert_ne!(purge_delay(), 0, "mimalloc's own default");
        tune_allocator();
        assert_eq!(purge_delay(), 0);
    }
}
