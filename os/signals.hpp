#pragma once

#include <functional>
#include <vector>

namespace baton {

/// Blocks `signals` in the calling thread. Call it before any other thread
/// starts, so that every thread inherits the mask and no CAF thread takes
/// the signal (which would kill the process).
void block_signals(const std::vector<int>& signals);

/// Starts a thread that waits for `signals` (blocked by `block_signals`)
/// and calls `handler` with each: no work happens in a signal handler.
void watch_signals(std::vector<int> signals, std::function<void(int)> handler);

} // namespace baton
