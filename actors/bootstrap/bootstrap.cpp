#include "actors/bootstrap/bootstrap.hpp"

#include "messages/duration.hpp"
#include "messages/error.hpp"
#include "os/process.hpp"

#include <caf/send.hpp>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include <unistd.h>

namespace baton {

const char* to_string(bootstrap_phase x) {
  switch (x) {
    case bootstrap_phase::handshake: return "handshake";
    case bootstrap_phase::registering: return "registering";
    case bootstrap_phase::waiting: return "waiting";
    case bootstrap_phase::running: return "running";
    case bootstrap_phase::reporting: return "reporting";
    case bootstrap_phase::done: return "done";
  }
  return "invalid";
}

namespace {

using bootstrap_ptr = bootstrap_actor::stateful_pointer<bootstrap_state>;

void send_frame(bootstrap_ptr self, const wire::message& msg) {
  auto& st = self->state;
  if (st.connected)
    self->send(st.peer, atom::write::value, st.hdl, wire::encode(msg));
}

void write_stdout(bootstrap_ptr self, const std::string& text) {
  auto fd = self->state.config.stdout_fd;
  if (fd < 0)
    return;
  auto data = text.data();
  auto size = text.size();
  while (size > 0) {
    auto n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    data += n;
    size -= static_cast<size_t>(n);
  }
}

// Puts a line into the job log (and stdout), as the command's output would
// be. Lines of our own are short; the window always has room for one.
void log_line(bootstrap_ptr self, std::string line) {
  line += '\n';
  write_stdout(self, line);
  auto& st = self->state;
  auto n = std::min<uint64_t>(line.size(), st.credit);
  if (n == 0)
    return;
  line.resize(n);
  st.credit -= n;
  send_frame(self, wire::log_at{wall_clock_ns(), std::move(line)});
}

void finish(bootstrap_ptr self, int status) {
  auto& st = self->state;
  if (st.phase == bootstrap_phase::done)
    return;
  // A service the job stopped did its part, so that its pod can complete.
  if (st.stopping)
    status = 0;
  st.phase = bootstrap_phase::done;
  if (st.connected)
    self->send(st.peer, atom::close::value, st.hdl);
  if (st.config.on_done)
    st.config.on_done(status);
  self->quit();
}

// What the command passed on through $BATON_ENV. A file that breaks the
// rules is reported in the job log and fails the step.
std::vector<std::string> take_outputs(bootstrap_ptr self) {
  auto& st = self->state;
  if (st.env_file.empty())
    return {};
  auto outputs = read_outputs(st.env_file);
  ::unlink(st.env_file.c_str());
  st.env_file.clear();
  if (outputs)
    return std::move(*outputs);
  auto text = render(outputs.error());
  spdlog::error("{}: {}", st.name, text);
  log_line(self, "baton: " + text);
  if (*st.exit_status == 0)
    st.exit_status = 1;
  return {};
}

// Reports the exit status once the command exited and its output is in.
void maybe_report(bootstrap_ptr self) {
  auto& st = self->state;
  if (st.phase != bootstrap_phase::running || !st.exit_status
      || !st.output_done)
    return;
  auto outputs = take_outputs(self);
  if (!st.connected) {
    finish(self, *st.exit_status);
    return;
  }
  st.phase = bootstrap_phase::reporting;
  wire::exit_report report{*st.exit_status, st.timed_out, std::move(outputs)};
  report.signal = st.ended.signal;
  report.oom_killed = st.ended.oom_killed;
  report.memory_limit = st.ended.memory_limit;
  if (st.timed_out)
    report.timeout_ms
      = std::chrono::duration_cast<std::chrono::milliseconds>(st.time_limit)
          .count();
  send_frame(self, std::move(report));
}

// The command ended so; its report waits for the rest of its output.
void command_ended(bootstrap_ptr self, const step_exit& ended) {
  auto& st = self->state;
  st.exit_status = ended.status;
  st.ended = ended;
  if (ended.oom_killed)
    spdlog::info("{}: the OOM killer killed the command", st.name);
  else if (!ended.signal.empty())
    spdlog::info("{}: the command was killed by {}", st.name, ended.signal);
  else
    spdlog::info("{}: the command exited with status {}", st.name,
                 ended.status);
  if (!st.output_done)
    self->delayed_send(self, defaults::output_drain_timeout, atom::grace::value,
                       deadline::output_drain);
  maybe_report(self);
}

// The command never runs, though its turn came: say why in the job log and
// report `status` as the command's, with no output to wait for.
void fail_without_running(bootstrap_ptr self, const std::string& why,
                          int32_t status) {
  auto& st = self->state;
  log_line(self, "baton: " + why);
  st.exit_status = status;
  st.output_done = true;
  maybe_report(self);
}

// The command never runs: say why, report a failure, and wait for the ack.
void give_up_before_start(bootstrap_ptr self, const std::string& why) {
  auto& st = self->state;
  spdlog::error("{}: {}", st.name, why);
  if (!st.connected) {
    finish(self, defaults::not_started_status);
    return;
  }
  st.exit_status = defaults::not_started_status;
  st.phase = bootstrap_phase::reporting;
  send_frame(self, wire::exit_report{defaults::not_started_status});
}

void cancel(bootstrap_ptr self, const std::string& why) {
  auto& st = self->state;
  if (st.cancelling || st.exit_status)
    return;
  st.cancelling = true;
  spdlog::info("{}: {}; sending {} to the command", st.name, why,
               strsignal(st.cancel.signal));
  st.runner->signal(st.cancel.signal);
  self->delayed_send(self, st.cancel.signal_timeout, atom::grace::value,
                     deadline::cancel_signal);
}

// A service is ready: the agent may start the steps.
void become_ready(bootstrap_ptr self) {
  auto& st = self->state;
  st.ready = true;
  spdlog::info("{}: the service is ready", st.name);
  send_frame(self, wire::ready_report{});
}

// Tries a service's readiness check once, for at most the time left.
void probe(bootstrap_ptr self) {
  auto& st = self->state;
  if (!st.config.ready_probe)
    st.config.ready_probe = make_ready_probe(st.config.stdout_fd);
  st.config.ready_probe->try_once(st.step.ready, st.env,
                                  defaults::ready_try_timeout, self);
}

// A service's command started: it is ready once its check passes, within
// its BATON_READY_TIMEOUT, or at once without one.
void await_ready(bootstrap_ptr self) {
  auto& st = self->state;
  if (st.step.ready.none())
    return become_ready(self);
  st.ready_delay = defaults::ready_poll_min;
  self->delayed_send(self, st.step.ready_timeout, atom::grace::value,
                     deadline::ready_timeout);
  probe(self);
}

// Creates the command's private $BATON_ENV file; empty if it cannot.
std::string make_env_file(bootstrap_ptr self) {
  auto& st = self->state;
  auto dir = st.config.scratch_dir;
  if (dir.empty()) {
    if (auto tmp = st.config.own_env.find("TMPDIR");
        tmp != st.config.own_env.end() && !tmp->second.empty())
      dir = tmp->second;
    else if (::access("/tmp", W_OK) == 0)
      dir = "/tmp";
    else
      dir = st.config.job_context_dir;
  }
  auto path = dir + "/baton-env-XXXXXX";
  // Mode 0600: the file is the command's alone.
  int fd = ::mkstemp(path.data());
  if (fd < 0) {
    spdlog::warn("{}: cannot create a $BATON_ENV file in '{}': {}", st.name,
                 dir, std::strerror(errno));
    return {};
  }
  ::close(fd);
  return path;
}

// The bootstrap never runs its command: an earlier step failed and this
// one is not an always-step. One line in the container's log says so (the
// agent writes the job log's, in its place).
void skip(bootstrap_ptr self) {
  auto& st = self->state;
  write_stdout(self, "~~~ Skipping " + st.label
                       + ": an earlier step failed (BATON_ALWAYS=true would "
                         "run it anyway)\n");
  finish(self, defaults::skipped_status);
}

void start_command(bootstrap_ptr self, const wire::state_update& now) {
  auto& st = self->state;
  st.phase = bootstrap_phase::running;
  // Before the job's variables go in: the environment is the command's
  // alone, and nothing on the way to the exit report reads it.
  if (!st.settings_error.empty()) {
    fail_without_running(self, st.settings_error + "; the command does not run",
                         defaults::invalid_settings_status);
    return;
  }
  // What the job knows now: variables passed on by the steps before this
  // one (under the same merge rules), and how the job stands.
  add_job_variables(st.env, st.config.own_env, now.env);
  if (!now.job_result.empty()) {
    st.env["BATON_JOB_RESULT"] = now.job_result;
    st.env["BATON_JOB_STATUS"] = std::to_string(now.job_status);
  }
  st.env_file = make_env_file(self);
  if (!st.env_file.empty())
    st.env["BATON_ENV"] = st.env_file;
  std::string header = "~~~ Running " + st.label + ":";
  for (auto& arg : st.argv)
    header += " " + arg;
  // One line, however long the command.
  for (auto& c : header)
    if (c == '\n' || c == '\r')
      c = ' ';
  if (header.size() > 1024)
    header = header.substr(0, 1021) + "...";
  log_line(self, header);
  command_spec spec;
  spec.argv = st.argv;
  spec.env = to_env_list(st.env);
  auto pty = st.env.find("BUILDKITE_PTY");
  spec.pty = pty == st.env.end()
             || (pty->second != "false" && pty->second != "0");
  // Out of memory, the kernel kills the command and leaves us to say so.
  spec.oom_victim = true;
  if (auto err = st.runner->start(spec, self)) {
    auto text = render(err);
    spdlog::error("{}: {}", st.name, text);
    fail_without_running(self, text, defaults::cannot_execute_status);
    return;
  }
  // Credit that arrived before the start now goes to the output reader,
  // but for a reserve for lines of our own.
  auto reserve = std::min(st.credit, defaults::own_lines_reserve);
  st.runner->grant(st.credit - reserve);
  st.credit = reserve;
  if (st.step.timeout.count() > 0)
    self->delayed_send(self, st.step.timeout, atom::grace::value,
                       deadline::step_timeout);
  if (st.step.settings.service)
    await_ready(self);
}

void on_registered(bootstrap_ptr self, wire::registered& msg) {
  auto& st = self->state;
  st.env = merge_environment(st.config.own_env, to_env_map(msg.env),
                             st.config.job_context_dir, st.config.bin_path);
  std::vector<std::string> warnings;
  st.cancel = read_cancel_config(st.env, warnings);
  for (auto& warning : warnings)
    spdlog::warn("{}: {}", st.name, warning);
  // The step's settings go to the agent now; one that is invalid fails the
  // step when its turn comes, with the reason in the job log.
  if (auto step = read_step_config(st.env)) {
    st.step = std::move(*step);
  } else {
    st.settings_error = render(step.error());
    spdlog::error("{}: {}", st.name, st.settings_error);
  }
  // The header names a service as one.
  st.label = (st.step.settings.service ? "service " : "container ")
             + std::to_string(st.config.container_id);
  if (!msg.name.empty())
    st.label += " (" + msg.name + ")";
  // Stock runners know nothing of services (the command line refuses the
  // container's own BATON_SERVICE before it connects; this is the job's).
  if (st.step.settings.service && st.config.protocol != dialect::baton) {
    give_up_before_start(self, "BATON_SERVICE=true needs baton's protocol: "
                               "the reference's has no services");
    return;
  }
  send_frame(self, wire::settings_report{st.step.settings});
  auto argv = command_line(st.config.command, st.env);
  st.phase = bootstrap_phase::waiting;
  if (!argv) {
    give_up_before_start(self, render(argv.error()));
    return;
  }
  st.argv = std::move(*argv);
}

void on_state(bootstrap_ptr self, const wire::state_update& now) {
  auto& st = self->state;
  auto state = now.state;
  switch (st.phase) {
    case bootstrap_phase::waiting:
      if (state == run_state::start) {
        start_command(self, now);
      } else if (state == run_state::skip) {
        skip(self);
      } else if (state == run_state::shutdown && st.step.settings.service) {
        // The job was over before the service's turn: nothing to stop.
        st.stopping = true;
        st.exit_status = 0;
        st.phase = bootstrap_phase::reporting;
        send_frame(self, wire::exit_report{0});
      } else if (state != run_state::wait) {
        give_up_before_start(self, "job interrupted before starting");
      }
      return;
    case bootstrap_phase::running:
      if (state == run_state::interrupt) {
        cancel(self, "the job is interrupted");
      } else if (state == run_state::shutdown && st.step.settings.service) {
        st.stopping = true;
        cancel(self, "the steps are done: stopping the service");
      } else if (state == run_state::shutdown) {
        cancel(self, "the job is shut down");
      }
      return;
    default: return;
  }
}

void on_frame(bootstrap_ptr self, wire::frame& frm) {
  auto& st = self->state;
  auto msg = wire::decode(frm);
  if (!msg) {
    spdlog::error("{}: the agent sent a bad frame: {}", st.name,
                  render(msg.error()));
    return;
  }
  std::visit(
    [&](auto& x) {
      using type = std::decay_t<decltype(x)>;
      if constexpr (std::is_same_v<type, wire::welcome>) {
        if (st.phase != bootstrap_phase::handshake)
          return;
        if (x.version != defaults::protocol_version) {
          spdlog::error("{}: protocol version mismatch: the agent speaks {}, "
                        "this bootstrap speaks {}",
                        st.name, x.version, defaults::protocol_version);
          finish(self, defaults::not_started_status);
          return;
        }
        st.heartbeat_interval = std::chrono::milliseconds{x.heartbeat_ms};
        st.phase = bootstrap_phase::registering;
        send_frame(self, wire::register_request{st.config.container_id});
        if (st.heartbeat_interval.count() > 0)
          self->delayed_send(self, st.heartbeat_interval, atom::tick::value);
      } else if constexpr (std::is_same_v<type, wire::registered>) {
        if (st.phase == bootstrap_phase::registering)
          on_registered(self, x);
      } else if constexpr (std::is_same_v<type, wire::state_update>) {
        on_state(self, x);
      } else if constexpr (std::is_same_v<type, wire::credit>) {
        if (st.phase == bootstrap_phase::running)
          st.runner->grant(x.bytes);
        else
          st.credit += x.bytes;
      } else if constexpr (std::is_same_v<type, wire::exit_ack>) {
        if (st.phase == bootstrap_phase::reporting)
          finish(self, *st.exit_status);
      } else if constexpr (std::is_same_v<type, wire::error_report>) {
        spdlog::error("{}: the agent refused: {}", st.name, x.message);
      } else {
        spdlog::warn("{}: ignoring an unexpected {} frame from the agent",
                     st.name, wire::to_string(frm.type));
      }
    },
    *msg);
}

} // namespace

bootstrap_actor::behavior_type
bootstrap(bootstrap_ptr self, caf::io::connection_handle hdl, peer_actor peer,
          command_runner_ptr runner, bootstrap_config config) {
  auto& st = self->state;
  st.hdl = hdl;
  st.peer = std::move(peer);
  st.runner = std::move(runner);
  st.config = std::move(config);
  send_frame(self, wire::hello{defaults::protocol_version,
                               "baton-bootstrap " BATON_VERSION});
  return {
    [=](wire::frame& frm) { on_frame(self, frm); },
    [=](atom::closed, const std::string& why) {
      auto& st = self->state;
      if (!st.connected)
        return;
      st.connected = false;
      auto reason = why.empty() ? std::string{"the agent closed the connection"}
                                : why;
      switch (st.phase) {
        case bootstrap_phase::running:
          cancel(self, "lost the connection to the agent (" + reason + ")");
          maybe_report(self);
          return;
        case bootstrap_phase::reporting: finish(self, *st.exit_status); return;
        case bootstrap_phase::done: return;
        default:
          spdlog::error("{}: lost the connection to the agent before "
                        "starting: {}",
                        st.name, reason);
          finish(self, defaults::not_started_status);
      }
    },
    [=](atom::output, std::string& body) {
      // Output after the exit report (a reader we stopped waiting for) has
      // nowhere to go. The body is a log_at frame's already.
      auto& st = self->state;
      if (st.phase == bootstrap_phase::running && st.connected)
        self->send(st.peer, atom::write::value, st.hdl,
                   wire::frame{wire::frame_type::log_at, std::move(body)});
    },
    [=](atom::eof) {
      self->state.output_done = true;
      maybe_report(self);
    },
    [=](atom::exit, int32_t status) { command_ended(self, step_exit{status}); },
    [=](atom::exit, const step_exit& ended) { command_ended(self, ended); },
    [=](atom::signal, int signo) {
      // Reference: Kubernetes signals the bootstrap when the pod stops; the
      // agent decides when to interrupt the command.
      spdlog::info("{}: ignoring {}: the agent decides when to interrupt",
                   self->state.name, strsignal(signo));
    },
    [=](atom::ready, std::string& why) {
      auto& st = self->state;
      if (st.ready || st.exit_status || st.cancelling
          || st.phase != bootstrap_phase::running)
        return;
      if (why.empty())
        return become_ready(self);
      // Not yet: again soon, backing off to once a second.
      spdlog::debug("{}: not ready yet: {}", st.name, why);
      st.ready_error = std::move(why);
      self->delayed_send(self, st.ready_delay, atom::grace::value,
                         deadline::ready_retry);
      st.ready_delay = std::min<caf::timespan>(st.ready_delay * 2,
                                               defaults::ready_poll_max);
    },
    [=](atom::tick) {
      auto& st = self->state;
      if (!st.connected || st.phase == bootstrap_phase::done)
        return;
      send_frame(self, wire::heartbeat{});
      self->delayed_send(self, st.heartbeat_interval, atom::tick::value);
    },
    [=](atom::grace, deadline which) {
      auto& st = self->state;
      switch (which) {
        case deadline::cancel_signal:
          if (st.exit_status)
            return;
          spdlog::warn("{}: the command outlived its cancel signal timeout "
                       "of {}; sending SIGKILL",
                       st.name, format_duration(st.cancel.signal_timeout));
          st.runner->signal(SIGKILL);
          self->delayed_send(self, st.cancel.cleanup_timeout,
                             atom::grace::value, deadline::cleanup);
          return;
        case deadline::cleanup:
          if (st.exit_status)
            return;
          spdlog::error("{}: the command did not exit within the cleanup "
                        "timeout of {}; giving up on it",
                        st.name, format_duration(st.cancel.cleanup_timeout));
          st.runner->stop_output();
          st.exit_status = 128 + SIGKILL;
          st.output_done = true;
          maybe_report(self);
          return;
        case deadline::step_timeout:
          if (st.exit_status || st.phase != bootstrap_phase::running)
            return;
          st.timed_out = true;
          st.time_limit = st.step.timeout;
          log_line(self, "baton: the command ran past its BATON_TIMEOUT of "
                           + format_duration(st.step.timeout) + "; sending "
                           + sigabbrev_np(st.cancel.signal) + ", then SIGKILL "
                           + "after "
                           + format_duration(st.cancel.signal_timeout));
          cancel(self, "the step timed out");
          return;
        case deadline::ready_retry:
          if (!st.ready && !st.exit_status && !st.cancelling
              && st.phase == bootstrap_phase::running)
            probe(self);
          return;
        case deadline::ready_timeout:
          if (st.ready || st.exit_status || st.cancelling
              || st.phase != bootstrap_phase::running)
            return;
          st.timed_out = true;
          st.time_limit = st.step.ready_timeout;
          log_line(self,
                   "baton: the service was not ready after "
                     + format_duration(st.step.ready_timeout)
                     + (st.ready_error.empty() ? ""
                                               : " (" + st.ready_error + ")")
                     + "; stopping it");
          cancel(self, "the service was not ready in time");
          return;
        case deadline::output_drain:
          if (st.output_done)
            return;
          spdlog::warn("{}: the command exited but something still holds "
                       "its output open; not waiting for it",
                       st.name);
          st.runner->stop_output();
          st.output_done = true;
          maybe_report(self);
      }
    },
  };
}

} // namespace baton
