//! The `feedwright` binary: pick the allocator, parse the command line, call the library, map the
//! outcome to an exit code. No logic lives here.

use std::process::ExitCode;

/// mimalloc rather than the system allocator: parsing, sanitizing and rendering thousands of
/// pages is mostly small short-lived allocations, where it costs less CPU (`benches/RESULTS.md`).
/// Built with `no_thp`: it never asks for transparent huge pages itself, which on a cold run more
/// than doubled the peak resident set. (Where the kernel's setting is `always` it uses them
/// anyway; `MIMALLOC_ALLOW_THP=0` turns them off, as the systemd unit does.)
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

/// mimalloc keeps freed memory about a second before giving it back to the system, which on a
/// cold run lifts the peak resident set by about a quarter for no measurable gain: give it back
/// at once. Only a default: a value the operator set (`MIMALLOC_PURGE_DELAY`, in any of the
/// spellings mimalloc reads when the process loads) is kept.
fn tune_allocator() {
    // SAFETY: a plain store into mimalloc's option table, which mimalloc reads with relaxed
    // loads; called at the start of `main`, before this process starts any other thread.
    unsafe { libmimalloc_sys::mi_option_set_default(PURGE_DELAY, 0) };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purge_delay() -> std::ffi::c_long {
        // SAFETY: a plain read of mimalloc's option table.
        unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }
    }

    /// `PURGE_DELAY` is the option `MIMALLOC_PURGE_DELAY` sets, and an operator's value wins over
    /// ours, while without one ours applies: checked in child processes of this test binary,
    /// since mimalloc reads its variables when a process loads (and `tune_allocator` is meant
    /// to run before other threads exist).
    #[test]
    fn the_purge_delay_default_yields_to_the_operators_value() {
        const CHILD: &str = "FEEDWRIGHT_TEST_ALLOCATOR_CHILD";
        match std::env::var(CHILD).as_deref() {
            Ok("operator") => {
                assert_eq!(purge_delay(), 4321, "mimalloc read MIMALLOC_PURGE_DELAY");
                tune_allocator();
                assert_eq!(purge_delay(), 4321, "the operator's value is kept");
                return;
            }
            Ok("default") => {
                assert_ne!(purge_delay(), 0, "mimalloc's own default");
                tune_allocator();
                assert_eq!(purge_delay(), 0, "freed memory is given back at once");
                return;
            }
            _ => {}
        }
        for (case, variable) in [("operator", Some("4321")), ("default", None)] {
            let mut child = std::process::Command::new(std::env::current_exe().unwrap());
            child
                .args([
                    "--exact",
                    "tests::the_purge_delay_default_yields_to_the_operators_value",
                ])
                .env(CHILD, case)
                .env_remove("MIMALLOC_PURGE_DELAY")
                .env_remove("MIMALLOC_RESET_DELAY");
            if let Some(value) = variable {
                child.env("MIMALLOC_PURGE_DELAY", value);
            }
            let out = child.output().unwrap();
            assert!(
                out.status.success(),
                "the {case} case failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
