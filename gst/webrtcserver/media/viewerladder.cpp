/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "viewerladder.h"

#include <algorithm>

#include "debugcategory.h"
#include "rtxbudget.h"
#include "rungcontroller.h"
#include "viewerbranch.h"
#include "viewerfeedback.h"

#define GST_CAT_DEFAULT livecast_webrtcserversink_debug

namespace livecast
{

namespace
{

/* What a viewer received is judged over about this long. */
constexpr gint64 kReceivedWindowUs = 1 * G_USEC_PER_SEC;
/* A padding probe's padding stops after this at the latest (the estimator
 * ends the probe sooner: bandwidthestimator.h). */
constexpr gint64 kPaddingMaxUs = 1500000;
/* Retransmissions may add this share of the viewer's rung bitrate (rtxbudget.h). */
constexpr double kRtxShare = 0.25;
/* A move down waits at most this long for the bottleneck's queue to drain
 * (the tbf of tests/browser/ladder.test.mjs holds ~420 ms at 800 kbit/s). */
constexpr gint64 kDrainMaxUs = 500000;

}  // namespace

ViewerLadder::ViewerLadder(GstElement *element, const std::string &id, ViewerBranch &branch)
    : element_(element), id_(id), branch_(branch)
{
}

ViewerLadder::~ViewerLadder() = default;

std::unique_ptr<ViewerLadder> ViewerLadder::watch(GstElement *element, const std::string &id,
                                                  ViewerBranch &branch,
                                                  const std::vector<RungSpec> &rungs,
                                                  std::string &error)
{
  EstimatorConfig config;
  if (!rungs.empty())
    config.initial_bps = rungs[0].bitrate_kbps * 1000ull;
  std::unique_ptr<ViewerLadder> l(new ViewerLadder(element, id, branch));
  l->feedback_ = ViewerFeedback::watch(branch.webrtcbin(), 0, config, error);
  if (!l->feedback_)
    return nullptr;
  for (const RungSpec &r : rungs)
    l->rung_bps_.push_back(r.bitrate_kbps * 1000ull);
  if (!rungs.empty())
    l->rtx_ = RtxBudget::attach(branch.webrtcbin(),
                                static_cast<uint64_t>(kRtxShare * l->rung_bps_[0]));
  if (rungs.size() > 1)
    l->controller_ = std::make_unique<RungController>(l->rung_bps_, 0, l->rtx_ != nullptr);
  return l;
}

uint64_t ViewerLadder::received_bps() const
{
  return controller_ ? controller_->received_bps() : 0;
}

guint64 ViewerLadder::rtx_sent() const
{
  return rtx_ ? rtx_->passed() : 0;
}

guint64 ViewerLadder::rtx_dropped() const
{
  return rtx_ ? rtx_->dropped() : 0;
}

guint64 ViewerLadder::padding_sent() const
{
  return rtx_ ? rtx_->padded() : 0;
}

/* RTP leaving for the viewer over the last kReceivedWindowUs. */
void ViewerLadder::measure_sent(gint64 now_us)
{
  const guint64 bytes = feedback_->counts().bytes_sent;
  if (sent_mark_us_ == 0) {
    sent_mark_us_ = now_us;
    sent_bytes_mark_ = bytes;
  } else if (now_us - sent_mark_us_ >= kReceivedWindowUs) {
    sent_bps_ = (bytes - sent_bytes_mark_) * 8.0 * G_USEC_PER_SEC / (now_us - sent_mark_us_);
    sent_mark_us_ = now_us;
    sent_bytes_mark_ = bytes;
  }
}

/* Packets asked for again since the last tick, per packet sent. */
double ViewerLadder::nack_loss()
{
  if (!rtx_)
    return 0;
  double loss = 0;
  const guint64 asked = rtx_->passed() + rtx_->dropped(), media = rtx_->media();
  if (media > media_mark_)
    loss = double(asked - rtx_asked_mark_) / double(media - media_mark_);
  rtx_asked_mark_ = asked;
  media_mark_ = media;
  return loss;
}

/* Retransmissions up to a share of the rung, and only within what the
 * estimate leaves beside it: on a link that just carries the rung (800
 * kbit/s under 667), repairs at a quarter of the rung keep the bottleneck's
 * queue full, and every key frame after it is lost too. */
void ViewerLadder::set_rtx_budget(int rung)
{
  if (!rtx_ || static_cast<std::size_t>(rung) >= rung_bps_.size())
    return;
  const double rung_bps = static_cast<double>(rung_bps_[static_cast<std::size_t>(rung)]);
  double rtx_bps = kRtxShare * rung_bps;
  if (estimate_.delay_bps > 0)
    rtx_bps = std::min(rtx_bps, std::max(0.0, double(estimate_.delay_bps) - rung_bps));
  rtx_->set_rate(static_cast<uint64_t>(rtx_bps));
}

/* What the rung sends (often less than its bitrate: a still picture) plus
 * retransmissions up to the probed rate. */
void ViewerLadder::start_padding(gint64 now_us, int rung, uint64_t probe_bps)
{
  const uint64_t rung_bps = sent_bps_ > 0 ? static_cast<uint64_t>(sent_bps_)
                                          : rung_bps_[static_cast<std::size_t>(rung)];
  GST_INFO_OBJECT(element_, "viewer %s: padding probe at %" G_GUINT64_FORMAT " bit/s",
                  id_.c_str(), static_cast<guint64>(probe_bps));
  feedback_->start_probe(probe_bps, ProbeKind::Padding);
  rtx_->pad(probe_bps > rung_bps ? probe_bps - rung_bps : 0, now_us + kPaddingMaxUs,
            feedback_->probe_running());
  padding_probes_++;
}

bool ViewerLadder::tick(gint64 now_us)
{
  const ProbeState was = estimate_.probe;
  estimate_ = feedback_->estimate();
  if (was == ProbeState::Running && estimate_.probe != ProbeState::Running)
    GST_INFO_OBJECT(element_,
                    "viewer %s: probe at %" G_GUINT64_FORMAT " bit/s %s (acknowledged %" G_GUINT64_FORMAT
                    " bit/s, loss %.2f, %s; %" G_GUINT64_FORMAT " padding packets so far)",
                    id_.c_str(), static_cast<guint64>(estimate_.probe_bps),
                    probe_state_name(estimate_.probe), static_cast<guint64>(estimate_.acked_bps),
                    estimate_.loss_fraction, bandwidth_usage_name(estimate_.usage),
                    static_cast<guint64>(padding_sent()));
  measure_sent(now_us);
  if (!controller_)
    return false;
  const double nacks = nack_loss();
  ViewerFeedback *feedback = feedback_.get();
  const ProbeKind kind = rtx_ ? ProbeKind::Padding : ProbeKind::Trial;
  const RungController::Decision d = controller_->tick(
      now_us, estimate_, static_cast<uint64_t>(sent_bps_),
      [feedback, kind](uint64_t bps) { return feedback->wants_probe(bps, kind); }, nacks,
      branch_.pending_rung() < 0 && branch_.rung() == controller_->rung());
  GST_LOG_OBJECT(element_,
                 "viewer %s: tick: rung %d%s, sent %.0f, delay %" G_GUINT64_FORMAT
                 ", acked %" G_GUINT64_FORMAT ", loss %.3f (NACKs %.3f), queue %" G_GINT64_FORMAT
                 " us, %s, probe %s",
                 id_.c_str(), d.rung, branch_.pending_rung() < 0 ? "" : " (pending)", sent_bps_,
                 static_cast<guint64>(estimate_.delay_bps),
                 static_cast<guint64>(estimate_.acked_bps), estimate_.loss_fraction, nacks,
                 estimate_.queue_us, bandwidth_usage_name(estimate_.usage),
                 probe_state_name(estimate_.probe));
  set_rtx_budget(d.rung);
  if (d.pad && rtx_)
    start_padding(now_us, d.rung, d.probe_bps);
  if (!d.changed)
    return false;
  if (rtx_)
    rtx_->stop_padding();
  GST_INFO_OBJECT(element_, "viewer %s: rung %d -> %d (estimate %" G_GUINT64_FORMAT " bit/s, %s%s)",
                  id_.c_str(), branch_.rung(), d.rung, static_cast<guint64>(estimate_.target_bps),
                  estimate_basis_name(estimate_.basis), d.probe ? ", probing" : "");
  if (d.probe)
    feedback_->start_probe(d.probe_bps);
  /* Down: the link did not carry the rung. Its queue drains before the
   * lower rung's key frame goes (at most kDrainMaxUs), and what is lost of
   * the old rung is not repaired. */
  const bool down = d.rung > branch_.rung();
  branch_.set_rung(static_cast<guint>(d.rung),
                   down ? std::min<gint64>(estimate_.queue_us, kDrainMaxUs) : 0);
  if (down && rtx_)
    rtx_->forget_sent();
  rung_switches_++;
  return true;
}

}  // namespace livecast
