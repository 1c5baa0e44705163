//! The kernel's floor under one steady tick (issue 13): a pread of every process's held-open
//! /proc/<pid>/stat plus the sock_diag dump of every TCP socket with tcp_info, parsed. A tick
//! that reads every process and the counters of every connection cannot cost less than what
//! the kernel spends answering those reads. Both the snapshot and the explorer bench measure
//! it with these functions, so their floors are the same figure.
#![allow(dead_code)] // each bench uses a different part of this module

use std::fs::File;
use std::os::unix::fs::FileExt;

use anyhow::Result;

use crate::cost::{measure_here, Cost, Series};

/// Longer than any stat line.
const STAT_BUFFER: usize = 1024;

/// A pread of every process's /proc/<pid>/stat, the files opened and read once before and
/// closed after, so the measured pread is the one of a file held open (the kernel keeps the
/// buffer of its first read). They are not held between measurements: the samplers beside
/// them hold three files a process already, and this bench's descriptors are limited. Returns
/// the cost and how many processes were read.
pub fn stat_preads() -> (Cost, usize) {
    let files = open_stat_files();
    pread_all(&files);
    let (read, cost) = measure_here(|| pread_all(&files));
    drop(files);
    (cost, read)
}

/// The sock_diag dump of every TCP socket in this network namespace, parsed; `with_info` asks
/// for each socket's tcp_info too.
pub fn dump(with_info: bool) -> Result<Cost> {
    let (dump, cost) = measure_here(|| wiretop::sample::measure::raw_tcp_dump(with_info));
    dump.map_err(anyhow::Error::msg)?;
    Ok(cost)
}

/// The floor from its two parts measured over rounds: the sum of their CPU medians, in ms.
pub fn tick_cpu_ms(stat_preads: &Series, dump_with_info: &Series) -> f64 {
    stat_preads.median_cpu() + dump_with_info.median_cpu()
}

/// Both parts of the floor measured `runs` times.
pub struct Floor {
    pub stat_preads: Series,
    pub dump_with_info: Series,
    /// Processes read by the last round of preads.
    pub processes: usize,
}

impl Floor {
    pub fn measure(runs: usize) -> Result<Floor> {
        let mut floor = Floor {
            stat_preads: Series::default(),
            dump_with_info: Series::default(),
            processes: 0,
        };
        for _ in 0..runs {
            let (cost, read) = stat_preads();
            floor.stat_preads.push(cost);
            floor.processes = read;
            floor.dump_with_info.push(dump(true)?);
        }
        Ok(floor)
    }

    pub fn tick_cpu_ms(&self) -> f64 {
        tick_cpu_ms(&self.stat_preads, &self.dump_with_info)
    }
}

/// Every process's /proc/<pid>/stat (processes that exit later read nothing).
fn open_stat_files() -> Vec<File> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter_map(|e| File::open(e.path().join("stat")).ok())
        .collect()
}

/// Reads each file from its start; returns how many read something (which also keeps the
/// reads from being optimized away).
fn pread_all(files: &[File]) -> usize {
    let mut buffer = [0u8; STAT_BUFFER];
    files
        .iter()
        .filter(|f| f.read_at(&mut buffer, 0).is_ok_and(|n| n > 0))
        .count()
}
