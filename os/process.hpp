#pragma once

// The process's own edges: where its executable lives, how its heap and
// its diagnostics are set up.

#include <cstdint>
#include <string>

namespace baton {

/// The absolute path of the running executable: the kernel's record of what
/// was executed (works without /proc), else /proc/self/exe. Run through the
/// loader explicitly, this is the loader.
std::string executable_path();

/// The directory of the running executable.
std::string executable_dir();

/// The wall clock (CLOCK_REALTIME) in ns since the epoch: when log bytes
/// were read, for timestamped lines.
int64_t wall_clock_ns();

/// Sends diagnostics to stderr, each line naming the process; the level
/// is `level`, else BATON_LOG_LEVEL (trace, debug, info, warn, error),
/// else info.
void setup_logging(const char* process, const char* level = nullptr);

/// Keeps freed log chunks in the heap (no trim, no mmap for chunk-sized
/// blocks): streaming then costs no page faults.
void tune_allocator();

/// One heap arena for every thread: a node's few threads hardly contend,
/// and each extra arena costs resident pages. Call it before the first
/// thread starts.
void use_one_arena();

} // namespace baton
