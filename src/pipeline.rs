//! The pipeline: the one place the stages are wired together.
//!
//! Owns: `refresh` (source → extract → normalize → store) and `publish_all` (store → publish).
//! Must not: parse the command line or decide when jobs run.
