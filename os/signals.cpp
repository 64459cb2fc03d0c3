#include "os/signals.hpp"

#include <csignal>
#include <thread>

#include <pthread.h>

namespace baton {

namespace {

sigset_t make_set(const std::vector<int>& signals) {
  sigset_t set;
  sigemptyset(&set);
  for (auto signo : signals)
    sigaddset(&set, signo);
  return set;
}

} // namespace

void block_signals(const std::vector<int>& signals) {
  auto set = make_set(signals);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void watch_signals(std::vector<int> signals, std::function<void(int)> handler) {
  // Detached: it blocks in sigwait until the process ends.
  std::thread{[set = make_set(signals), handler = std::move(handler)] {
    for (;;) {
      int signo = 0;
      if (sigwait(&set, &signo) == 0)
        handler(signo);
    }
  }}.detach();
}

} // namespace baton
