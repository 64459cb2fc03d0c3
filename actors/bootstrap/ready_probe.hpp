#pragma once

#include "actors/actors.hpp"
#include "job/environment.hpp"
#include "job/steps.hpp"

#include <caf/timespan.hpp>

#include <memory>

namespace baton {

/// Tries a service's readiness check once, off the bootstrap's thread, and
/// tells the bootstrap how it went as `(ready, why)`: `why` empty if it
/// passed, else what failed. The real probe connects or runs the command
/// on a thread of its own; tests use a fake.
class ready_probe {
public:
  virtual ~ready_probe();

  /// Tries `check` once, for at most `timeout`: a TCP connect, or the
  /// command run with `env`'s $BUILDKITE_SHELL and `env` as its
  /// environment, its output copied to `tee_fd` (unless negative).
  virtual void try_once(const ready_check& check, const env_map& env,
                        caf::timespan timeout, bootstrap_actor listener)
    = 0;
};

using ready_probe_ptr = std::shared_ptr<ready_probe>;

/// The real probe; a check command's output goes to `tee_fd`.
ready_probe_ptr make_ready_probe(int tee_fd);

} // namespace baton
