/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "runner.h"

#include "addresses.h"
#include "loopseam.h"
#include "missingplugins.h"
#include "talkback.h"
#include "statusline.h"
#include "util.h"

#include <gio/gio.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#ifdef G_OS_UNIX
#include <glib-unix.h>
#include <signal.h>
#include <unistd.h>
#else
#include <io.h>
#endif

namespace livecast
{

namespace
{

constexpr guint kStatusIntervalMs = 1000;
constexpr guint kPlainStatusEveryTicks = 10; /* non-TTY: one line every 10 s */
constexpr guint kFirstPlainStatusTick = 2;   /* ...and one early, once fps has settled */
constexpr guint kEosGraceMs = 2000;          /* wait for the sink to drain after EOS */
constexpr auto kStopTimeout = std::chrono::seconds(3);
constexpr GstClockTime kPrerollTimeout = 10 * GST_SECOND;
constexpr GstClockTime kErrorWait = GST_SECOND;

using GMainLoopPtr = std::unique_ptr<GMainLoop, CFree<g_main_loop_unref>>;

bool stdout_is_tty()
{
#ifdef G_OS_UNIX
  return isatty(STDOUT_FILENO);
#else
  return _isatty(_fileno(stdout));
#endif
}

bool has_property(GstElement *e, const char *name)
{
  return g_object_class_find_property(G_OBJECT_GET_CLASS(e), name) != nullptr;
}

class Runner
{
 public:
  Runner(const StreamConfig &config, bool verbose)
      : config_(config),
        verbose_(verbose || (g_getenv("GST_DEBUG") && *g_getenv("GST_DEBUG"))),
        tty_(stdout_is_tty())
  {
  }
  ~Runner();
  Runner(const Runner &) = delete;
  Runner &operator=(const Runner &) = delete;

  int run();

 private:
  bool build();
  bool parse_pipeline();
  bool find_sink();
  void add_sink_probes();
  void connect_sink_signals();
  bool change_state(GstState state, GstClockTime wait = 0);
  void print_welcome(int port);
  void stop_pipeline();
  void quit(int code);
  void report_error(GstMessage *msg);
  std::string input_name() const;
  void handle_message(GstMessage *msg);
  void tick();
  void source_reached_eos();
  void end_of_stream();
  void loop_seek(bool first);
  void post_viewer_event(const char *id, bool joined, const char *reason = nullptr);
  /* Prints @line from the main loop (callable from any thread). */
  void post_line(std::string line);
  void play_talkback(GstElement *sink, GstPad *pad);
  void stop_talkback(GstPad *pad);
  void viewer_event(const std::string &id, bool joined, const std::string &reason);
  void print_line(FILE *stream, const std::string &line);
  void end_status_line();

  const StreamConfig &config_;
  const bool verbose_;
  const bool tty_;

  GMainLoopPtr loop_{g_main_loop_new(nullptr, FALSE)};
  GstElementPtr pipeline_;
  GstElementPtr sink_;
  GstPadPtr sink_pad_;     /* the sink's video request pad */
  GstPadPtr upstream_pad_; /* its peer: where loop seeks are sent */
  gulong eos_probe_ = 0;
  gulong seam_probe_ = 0;
  LoopSeam seam_;
  std::vector<gulong> sink_handlers_;
  std::vector<guint> sources_; /* GSource ids to remove on the way out */
  guint eos_timeout_ = 0;

  int exit_code_ = kExitOk;
  bool quitting_ = false;
  bool status_on_screen_ = false;
  bool loop_armed_ = false;
  bool eos_seen_ = false;
  guint ticks_ = 0;
  StatusLine status_;
  guint next_refusal_line_ = 0; /* non-TTY: no line for new refusals before this tick */
  guint loops_ = 0;
  std::optional<guint> last_viewers_;
  std::vector<guint> last_rungs_; /* viewers per rung at the last tick */
  guint next_rung_line_ = 0;      /* non-TTY: no line for moves between rungs before this tick */

  /* Decoders decodebin looked for and did not find, to explain its generic
   * "missing a plug-in" error. */
  MissingPlugins missing_;
};

/* C callbacks below are captureless lambdas that only forward to a member;
 * nothing in them throws (the launcher does not use exceptions). */

struct ViewerEvent {
  Runner *runner;
  std::string id;
  bool joined;
  std::string reason; /* why it left; empty: not known */
};

Runner::~Runner()
{
  for (guint id : sources_)
    g_source_remove(id);
  if (eos_timeout_)
    g_source_remove(eos_timeout_);
  if (pipeline_) {
    GstBusPtr bus(gst_element_get_bus(pipeline_.get()));
    gst_bus_remove_watch(bus.get());
  }
}

bool Runner::build()
{
  if (!parse_pipeline() || !find_sink())
    return false;
  add_sink_probes();
  connect_sink_signals();
  GstBusPtr bus(gst_element_get_bus(pipeline_.get()));
  gst_bus_add_watch(
      bus.get(),
      [](GstBus *, GstMessage *msg, gpointer self) -> gboolean {
        static_cast<Runner *>(self)->handle_message(msg);
        return G_SOURCE_CONTINUE;
      },
      this);
  return true;
}

/* The preset's pipeline; a missing element is named with what provides it. */
bool Runner::parse_pipeline()
{
  GErrorHolder err;
  std::unique_ptr<GstParseContext, CFree<gst_parse_context_free>> ctx(gst_parse_context_new());
  GstElement *pipeline = gst_parse_launch_full(config_.pipeline.c_str(), ctx.get(),
                                               GST_PARSE_FLAG_FATAL_ERRORS, err.out());
  if (!pipeline || err) {
    if (pipeline)
      gst_object_unref(pipeline);
    std::string line = std::string("livecast: error: ") + err.message();
    std::unique_ptr<gchar *, CFree<g_strfreev>> missing(
        gst_parse_context_get_missing_elements(ctx.get()));
    if (missing && missing.get()[0]) {
      const std::string name = missing.get()[0];
      if (name == "webrtcserversink")
        line += " (the livecast GStreamer plugin is not installed or not on GST_PLUGIN_PATH)";
      else
        line += " (install the GStreamer plugin that provides " + name + "; gst-inspect-1.0 " +
                name + " checks for it)";
    }
    print_line(stderr, line);
    return false;
  }
  pipeline_.reset(pipeline);
  if (!GST_IS_PIPELINE(pipeline)) { /* a source and a sink always make one */
    print_line(stderr, "livecast: error: the preset did not make a pipeline");
    return false;
  }
  return true;
}

/* The element named "sink", its video pad and what feeds it. */
bool Runner::find_sink()
{
  sink_.reset(gst_bin_get_by_name(GST_BIN(pipeline_.get()), kSinkName));
  if (!sink_) {
    print_line(stderr, "livecast: error: the pipeline has no element named 'sink'");
    return false;
  }

  GstIterator *it = gst_element_iterate_sink_pads(sink_.get());
  GValue item = G_VALUE_INIT;
  if (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    sink_pad_.reset(GST_PAD(g_value_dup_object(&item)));
    g_value_unset(&item);
  }
  gst_iterator_free(it);
  if (sink_pad_)
    upstream_pad_.reset(gst_pad_get_peer(sink_pad_.get()));
  return true;
}

void Runner::add_sink_probes()
{
  /* The sink may not post EOS on the bus when it has no viewers; watch the
   * EOS event itself so the end of a file always ends the program. */
  if (sink_pad_) {
    eos_probe_ = gst_pad_add_probe(
        sink_pad_.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        [](GstPad *, GstPadProbeInfo *info, gpointer self) -> GstPadProbeReturn {
          if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS) {
            g_idle_add(
                [](gpointer r) -> gboolean {
                  static_cast<Runner *>(r)->source_reached_eos();
                  return G_SOURCE_REMOVE;
                },
                self);
          }
          return GST_PAD_PROBE_OK;
        },
        this, nullptr);
  }

  if (sink_pad_ && config_.loop) {
    seam_probe_ =
        gst_pad_add_probe(sink_pad_.get(),
                          static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER |
                                                       GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
                                                       GST_PAD_PROBE_TYPE_EVENT_FLUSH),
                          loop_seam_probe, &seam_, nullptr);
  }
}

void Runner::connect_sink_signals()
{
  /* Viewer joins/leaves arrive on the sink's threads; hand them to the main
   * loop (an idle source never runs the callback in the emitting thread). */
  if (g_signal_lookup("viewer-added", G_OBJECT_TYPE(sink_.get()))) {
    sink_handlers_.push_back(g_signal_connect(
        sink_.get(), "viewer-added",
        G_CALLBACK(+[](GstElement *, const gchar *id, GstElement *, gpointer self) {
          static_cast<Runner *>(self)->post_viewer_event(id, true);
        }),
        this));
  }
  /* viewer-ended (id, reason) comes just before viewer-removed (id) and says
   * why; a sink without it only has viewer-removed. */
  if (g_signal_lookup("viewer-ended", G_OBJECT_TYPE(sink_.get()))) {
    sink_handlers_.push_back(g_signal_connect(
        sink_.get(), "viewer-ended",
        G_CALLBACK(+[](GstElement *, const gchar *id, const gchar *reason, gpointer self) {
          static_cast<Runner *>(self)->post_viewer_event(id, false, reason);
        }),
        this));
  } else if (g_signal_lookup("viewer-removed", G_OBJECT_TYPE(sink_.get()))) {
    sink_handlers_.push_back(
        g_signal_connect(sink_.get(), "viewer-removed",
                         G_CALLBACK(+[](GstElement *, const gchar *id, gpointer self) {
                           static_cast<Runner *>(self)->post_viewer_event(id, false);
                         }),
                         this));
  }

  /* --talkback: each viewer's microphone appears as a talkback_<id> pad;
   * play it. The player is a bin that keeps its own preroll to itself
   * (async-handling), as it joins a pipeline that is already playing. */
  if (config_.talkback) {
    sink_handlers_.push_back(g_signal_connect(
        sink_.get(), "pad-added", G_CALLBACK(+[](GstElement *sink, GstPad *pad, gpointer self) {
          if (g_str_has_prefix(GST_PAD_NAME(pad), "talkback_"))
            static_cast<Runner *>(self)->play_talkback(sink, pad);
        }),
        this));
    sink_handlers_.push_back(g_signal_connect(
        sink_.get(), "pad-removed", G_CALLBACK(+[](GstElement *, GstPad *pad, gpointer self) {
          if (g_str_has_prefix(GST_PAD_NAME(pad), "talkback_"))
            static_cast<Runner *>(self)->stop_talkback(pad);
        }),
        this));
  }
}

/* Changes state, waiting up to `wait` for an asynchronous change to finish
 * (a timeout is not an error); on failure prints the pipeline's own error. */
/* On the sink's streaming thread, before the talkback pad carries data. */
void Runner::play_talkback(GstElement *, GstPad *pad)
{
  std::string line;
  play_viewer_microphone(GST_BIN(pipeline_.get()), pad, line);
  post_line(line);
}

void Runner::stop_talkback(GstPad *pad)
{
  stop_viewer_microphone(GST_BIN(pipeline_.get()), pad);
}

bool Runner::change_state(GstState state, GstClockTime wait)
{
  GstStateChangeReturn ret = gst_element_set_state(pipeline_.get(), state);
  if (ret == GST_STATE_CHANGE_ASYNC && wait > 0)
    ret = gst_element_get_state(pipeline_.get(), nullptr, nullptr, wait);
  if (ret != GST_STATE_CHANGE_FAILURE)
    return true;
  /* The error may be posted a moment after the state change reports failure. */
  GstBusPtr bus(gst_element_get_bus(pipeline_.get()));
  while (GstMessagePtr msg{gst_bus_timed_pop_filtered(
      bus.get(), kErrorWait,
      static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT))}) {
    if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ELEMENT) {
      missing_.note(msg.get());
    } else {
      report_error(msg.get());
      return false;
    }
  }
  print_line(stderr, "livecast: error: the pipeline could not start (GST_DEBUG=3 tells more)");
  return false;
}

void Runner::print_welcome(int port)
{
  std::string about = "Streaming preset '" + config_.preset + "'";
  if (!config_.file.empty()) {
    GCharPtr base(g_path_get_basename(config_.file.c_str()));
    about += std::string(" (") + base.get() + (config_.loop ? ", looping)" : ")");
  }
  about += ": " + config_.summary();

  const std::string scheme = config_.tls_cert.empty() ? "http://" : "https://";
  std::string url = scheme + url_host(config_.bind) + ":" + std::to_string(port) + "/";
  if (!config_.token.empty())
    url += "?token=" + config_.token; /* the token is URL-safe by construction */

  std::printf("%s\nOpen in a browser: %s\n", about.c_str(), url.c_str());
  if (is_wildcard(config_.bind)) {
    std::string query = config_.token.empty() ? "" : "?token=" + config_.token;
    auto addrs = external_ipv4_addresses();
    if (addrs.empty()) {
      std::printf(
          "Listening on every interface: other machines use "
          "%s<this machine's address>:%d/%s\n",
          scheme.c_str(), port, query.c_str());
    } else {
      std::printf("Listening on every interface; from other machines:");
      for (const auto &a : addrs)
        std::printf(" %s%s:%d/%s", scheme.c_str(), a.c_str(), port, query.c_str());
      std::printf("\n");
    }
  }
  if (!is_loopback(config_.bind) && config_.token.empty())
    std::fprintf(stderr,
                 "livecast: warning: anyone who can reach port %d can watch; add --token SECRET "
                 "to let in only those you give the URL to\n",
                 port);
  std::printf("Press Ctrl-C to stop.\n");
  std::fflush(stdout);
}

void Runner::quit(int code)
{
  if (quitting_)
    return;
  quitting_ = true;
  exit_code_ = code;
  g_main_loop_quit(loop_.get());
}

/* Going to NULL can block (network threads, a stuck encoder); never wait for
 * it longer than kStopTimeout. */
void Runner::stop_pipeline()
{
  if (!pipeline_)
    return;
  /* Nothing from the element's threads may call back into us from here on. */
  for (gulong h : sink_handlers_)
    g_signal_handler_disconnect(sink_.get(), h);
  sink_handlers_.clear();
  if (eos_probe_) {
    gst_pad_remove_probe(sink_pad_.get(), eos_probe_);
    eos_probe_ = 0;
  }
  if (seam_probe_) {
    gst_pad_remove_probe(sink_pad_.get(), seam_probe_);
    seam_probe_ = 0;
  }

  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  const int code = exit_code_;
  std::thread watchdog([&m, &cv, &done, code] {
    std::unique_lock<std::mutex> lock(m);
    if (!cv.wait_for(lock, kStopTimeout, [&done] { return done; })) {
      std::fprintf(stderr, "livecast: the pipeline did not stop within %lld s; exiting anyway\n",
                   static_cast<long long>(kStopTimeout.count()));
      std::fflush(stderr);
      _exit(code);
    }
  });
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  {
    std::lock_guard<std::mutex> lock(m);
    done = true;
  }
  cv.notify_one();
  watchdog.join();
}

std::string Runner::input_name() const
{
  if (config_.file.empty())
    return "the source";
  GCharPtr base(g_path_get_basename(config_.file.c_str()));
  return base.get();
}

void Runner::report_error(GstMessage *msg)
{
  GError *err = nullptr;
  gchar *dbg = nullptr;
  gst_message_parse_error(msg, &err, &dbg);
  GErrorPtr err_holder(err);
  GCharPtr dbg_holder(dbg);

  std::string text = err ? err->message : "unknown error";
  if (err && g_error_matches(err, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN)) {
    std::string explained = missing_.explain(dbg, input_name());
    if (!explained.empty())
      text = explained;
  } else if (err && err->domain == GST_STREAM_ERROR && !config_.file.empty() &&
             !gst_object_has_as_ancestor(GST_MESSAGE_SRC(msg), GST_OBJECT(sink_.get()))) {
    /* "Could not determine type of stream." says more with the file's name. */
    text = input_name() + ": " + text;
  }
  print_line(stderr, "livecast: error: " + text);
  if (verbose_ && dbg) {
    GCharPtr src(gst_object_get_path_string(GST_MESSAGE_SRC(msg)));
    print_line(stderr, std::string("  from ") + src.get() + ": " + dbg);
  }
}

void Runner::handle_message(GstMessage *msg)
{
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ERROR:
      report_error(msg);
      quit(kExitFailure);
      break;
    case GST_MESSAGE_WARNING:
      /* The sink's warning about an open port is for everyone (the welcome
       * says it in the launcher's words); the rest only with --verbose. */
      if (verbose_) {
        GError *err = nullptr;
        gchar *dbg = nullptr;
        gst_message_parse_warning(msg, &err, &dbg);
        GErrorPtr err_holder(err);
        GCharPtr dbg_holder(dbg);
        print_line(stderr, std::string("livecast: warning: ") + (err ? err->message : "") +
                               (dbg ? std::string(" (") + dbg + ")" : ""));
      }
      break;
    case GST_MESSAGE_EOS:
      end_of_stream();
      break;
    case GST_MESSAGE_STATE_CHANGED:
      if (GST_MESSAGE_SRC(msg) == GST_OBJECT(pipeline_.get())) {
        GstState old_state, new_state;
        gst_message_parse_state_changed(msg, &old_state, &new_state, nullptr);
        /* Prerolled: the demuxer exists and can take the first segment seek. */
        if (config_.loop && !loop_armed_ && new_state >= GST_STATE_PAUSED) {
          loop_armed_ = true;
          loop_seek(true);
        }
      }
      break;
    case GST_MESSAGE_SEGMENT_DONE:
      if (config_.loop) {
        loops_++;
        if (verbose_)
          print_line(stdout,
                     "livecast: end of file, looping (pass " + std::to_string(loops_ + 1) + ")");
        loop_seek(false);
      }
      break;
    case GST_MESSAGE_ELEMENT:
      missing_.note(msg);
      break;
    case GST_MESSAGE_LATENCY:
      gst_bin_recalculate_latency(GST_BIN(pipeline_.get()));
      break;
    case GST_MESSAGE_CLOCK_LOST:
      /* As gst-launch does: pick a new clock by going through PAUSED. */
      gst_element_set_state(pipeline_.get(), GST_STATE_PAUSED);
      gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
      break;
    default:
      break;
  }
}

/* Segment seeks make the demuxer post SEGMENT_DONE instead of EOS; the next,
 * non-flushing, segment seek then continues the running time where the last
 * pass ended, so timestamps downstream (and RTP's) keep increasing. The seek
 * goes up the source branch only: sent to the pipeline it would also pass
 * through every sink inside webrtcserversink and could arrive several times. */
void Runner::loop_seek(bool first)
{
  const auto flags = static_cast<GstSeekFlags>(GST_SEEK_FLAG_SEGMENT |
                                               (first ? GST_SEEK_FLAG_FLUSH : GST_SEEK_FLAG_NONE));
  GstEvent *seek = gst_event_new_seek(1.0, GST_FORMAT_TIME, flags, GST_SEEK_TYPE_SET, 0,
                                      GST_SEEK_TYPE_SET, GST_CLOCK_TIME_NONE);
  const bool ok = upstream_pad_ && gst_pad_send_event(upstream_pad_.get(), seek);
  if (!upstream_pad_)
    gst_event_unref(seek);
  if (!ok && first)
    print_line(stderr, "livecast: warning: cannot loop " + config_.file +
                           ": it is not seekable; it will stop at its end");
  else if (!ok)
    print_line(stderr, "livecast: warning: restarting " + config_.file + " failed");
}

void Runner::source_reached_eos()
{
  if (eos_seen_ || quitting_)
    return;
  eos_seen_ = true;
  /* Give the sink a moment to send the last frames, then stop regardless of
   * whether it posts EOS itself. */
  eos_timeout_ = g_timeout_add(
      kEosGraceMs,
      [](gpointer self) -> gboolean {
        auto *r = static_cast<Runner *>(self);
        r->eos_timeout_ = 0;
        r->end_of_stream();
        return G_SOURCE_REMOVE;
      },
      this);
}

void Runner::end_of_stream()
{
  if (quitting_)
    return;
  if (!config_.file.empty()) {
    GCharPtr base(g_path_get_basename(config_.file.c_str()));
    print_line(stdout, std::string("End of ") + base.get() +
                           (config_.loop ? "; stopping." : "; stopping (--loop repeats it)."));
  } else {
    print_line(stdout, "The source ended; stopping.");
  }
  quit(kExitOk);
}

void Runner::tick()
{
  ticks_++;
  const Stats s = read_sink_stats(sink_.get());
  status_.update(s);
  const bool viewers_changed = last_viewers_ && *last_viewers_ != s.viewers;
  last_viewers_ = s.viewers;
  const bool rungs_changed = !last_rungs_.empty() && last_rungs_ != s.rung_viewers;
  last_rungs_ = s.rung_viewers;
  if (tty_) {
    /* Narrower than the terminal, or "\r" would not get back to its start;
     * \033[K clears what a longer previous line left behind. */
    std::printf("\r%s\033[K", status_.format(terminal_columns()).c_str());
    status_on_screen_ = true;
  } else {
    /* A log: viewers turned away get a line at once, then at most one more
     * every kPlainStatusEveryTicks however many keep coming. */
    const bool refusals = status_.refusals_grew() && ticks_ >= next_refusal_line_;
    if (refusals)
      next_refusal_line_ = ticks_ + kPlainStatusEveryTicks;
    /* So do viewers moving between rungs, as rarely. */
    const bool moves = rungs_changed && ticks_ >= next_rung_line_;
    if (moves)
      next_rung_line_ = ticks_ + kPlainStatusEveryTicks;
    if (refusals || moves || viewers_changed || ticks_ == kFirstPlainStatusTick ||
        ticks_ % kPlainStatusEveryTicks == 0)
      std::printf("%s\n", status_.format(0).c_str());
  }
  std::fflush(stdout);
}

/* Called on the sink's threads: only queues the event for the main loop. */
void Runner::post_viewer_event(const char *id, bool joined, const char *reason)
{
  g_idle_add_full(
      G_PRIORITY_DEFAULT,
      [](gpointer data) -> gboolean {
        auto *ev = static_cast<ViewerEvent *>(data);
        ev->runner->viewer_event(ev->id, ev->joined, ev->reason);
        return G_SOURCE_REMOVE;
      },
      new ViewerEvent{this, id ? id : "?", joined, reason ? reason : ""},
      [](gpointer data) { delete static_cast<ViewerEvent *>(data); });
}

void Runner::viewer_event(const std::string &id, bool joined, const std::string &reason)
{
  if (quitting_)
    return;
  if (joined)
    print_line(stdout, "viewer " + id + " joined");
  else
    print_line(stdout, "viewer " + id + " left" + (reason.empty() ? "" : ": " + reason));
}

/* Prints a whole line without mixing it into the TTY status line; the status
 * is redrawn on the next tick. */
void Runner::post_line(std::string line)
{
  struct Line {
    Runner *runner;
    std::string text;
  };
  g_idle_add_full(
      G_PRIORITY_DEFAULT,
      [](gpointer data) -> gboolean {
        auto *l = static_cast<Line *>(data);
        l->runner->print_line(stdout, l->text);
        return G_SOURCE_REMOVE;
      },
      new Line{this, std::move(line)}, [](gpointer data) { delete static_cast<Line *>(data); });
}

void Runner::print_line(FILE *stream, const std::string &line)
{
  end_status_line();
  std::fprintf(stream, "%s\n", line.c_str());
  std::fflush(stream);
}

void Runner::end_status_line()
{
  if (status_on_screen_) {
    std::printf("\r\033[K");
    std::fflush(stdout);
    status_on_screen_ = false;
  }
}

int Runner::run()
{
  if (!build())
    return kExitFailure;

#ifdef G_OS_UNIX
  /* Ctrl-C and SIGTERM are how a live stream normally ends: exit 0. Installed
   * before starting so a signal during startup also stops cleanly. */
  auto on_signal = [](gpointer self) -> gboolean {
    static_cast<Runner *>(self)->quit(kExitOk);
    return G_SOURCE_CONTINUE;
  };
  sources_.push_back(g_unix_signal_add(SIGINT, on_signal, this));
  sources_.push_back(g_unix_signal_add(SIGTERM, on_signal, this));
#endif

  /* READY starts the sink's server: a taken port fails here, before we
   * announce a URL. */
  if (!change_state(GST_STATE_READY)) {
    stop_pipeline();
    return kExitFailure;
  }
  int port = static_cast<int>(config_.port);
  if (has_property(sink_.get(), "bound-port"))
    g_object_get(sink_.get(), "bound-port", &port, nullptr);

  /* PAUSED prerolls a file (live sources skip it): a file that cannot be
   * decoded fails here, before we announce a URL, and the first loop seek
   * happens before any frame goes out. */
  if (!change_state(GST_STATE_PAUSED, kPrerollTimeout)) {
    stop_pipeline();
    return kExitFailure;
  }
  if (config_.loop && !loop_armed_ &&
      gst_element_get_state(pipeline_.get(), nullptr, nullptr, 0) == GST_STATE_CHANGE_SUCCESS) {
    loop_armed_ = true;
    loop_seek(true);
  }

  if (!change_state(GST_STATE_PLAYING)) {
    stop_pipeline();
    return kExitFailure;
  }
  print_welcome(port);

  sources_.push_back(g_timeout_add(
      kStatusIntervalMs,
      [](gpointer self) -> gboolean {
        static_cast<Runner *>(self)->tick();
        return G_SOURCE_CONTINUE;
      },
      this));

  g_main_loop_run(loop_.get());

  /* Keep the last status visible on a terminal: finish its line. */
  if (status_on_screen_) {
    std::printf("\n");
    std::fflush(stdout);
    status_on_screen_ = false;
  }
  stop_pipeline();
  return exit_code_;
}

}  // namespace

int run_stream(const StreamConfig &config, bool verbose)
{
  gst_pb_utils_init(); /* for the descriptions of missing plug-ins */
  Runner runner(config, verbose);
  return runner.run();
}

}  // namespace livecast
