//! Ralph marketplace core.
