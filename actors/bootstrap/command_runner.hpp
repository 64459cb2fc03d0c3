#pragma once

#include "actors/actors.hpp"
#include "os/child_process.hpp"

#include <caf/error.hpp>

#include <cstdint>
#include <memory>

namespace baton {

/// Runs a bootstrap's command and reports to the bootstrap actor: output
/// as `(output, body)` messages, each taking log credit first, where `body`
/// is a `log_at` frame body (the time the bytes were read, then the
/// bytes), then `(eof)`, and the exit status as `(exit, status)`. The real
/// runner forks; tests use a fake.
class command_runner {
public:
  virtual ~command_runner();

  /// Starts the command. Fails with an error naming the program.
  virtual caf::error start(const command_spec& spec, bootstrap_actor listener)
    = 0;

  /// Lets the output reader send `bytes` more.
  virtual void grant(uint64_t bytes) = 0;

  /// Sends `signo` to the command's process group.
  virtual void signal(int signo) = 0;

  /// Stops reading output: any further output is dropped.
  virtual void stop_output() = 0;
};

using command_runner_ptr = std::shared_ptr<command_runner>;

/// The real runner: forks the command, reads its output on a thread of its
/// own (copying every byte to `tee_fd` too, unless negative) and waits for
/// it on another. Reads at most `chunk_size` bytes at a time and never more
/// than the credit granted.
command_runner_ptr make_process_runner(int tee_fd, size_t chunk_size);

} // namespace baton
