//! SendPro360 sample bodies (pb-api-research.md §1).
#![allow(dead_code)]
