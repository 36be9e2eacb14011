/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A small simulated path from webrtcserversink to one viewer, to drive the
 * BandwidthEstimator (bandwidthestimator.h) in tests:
 *
 *   encoder (30 fps, bursty frames, rate = the estimate or a ladder rung)
 *     -> bottleneck (FIFO at a capacity that changes over time, drop-tail
 *        at 100 ms of queue like `tc ... tbf latency 100ms`, random loss)
 *     -> viewer (its own clock; transport-cc feedback every 50 ms, encoded
 *        to FCI bytes and parsed back with parse_twcc_feedback)
 *     -> back to the estimator after the return trip (uncongested).
 *
 * Time advances in 1 ms steps; the estimate is sampled every 100 ms.
 */
#pragma once

#include <glib.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "bandwidthestimator.h"
#include "rtcpfeedback.h"

namespace linksim
{

using namespace livecast;

struct Phase {
  int64_t until_us;
  double capacity_bps;
};

struct Config {
  std::vector<Phase> phases; /* the last phase lasts until the end */
  int64_t duration_us = 30000000;
  int64_t one_way_us = 20000;
  int64_t queue_limit_us = 100000;
  double random_loss = 0;
  int64_t feedback_interval_us = 50000;
  double max_bps = 2500000;   /* the encoder never exceeds this */
  std::vector<double> ladder; /* ascending rungs; empty: the rate follows the estimate */
  /* Probe the next rung with padding beside the rung (ProbeKind::Padding)
   * instead of moving up to try it. */
  bool padding_probes = false;
  unsigned seed = 1;
};

struct Sample {
  int64_t t_us;
  BandwidthEstimate e;
  double capacity_bps;
  double send_bps; /* the encoder's rate then */
  double queue_ms; /* queueing delay at the bottleneck then */
  int probes;      /* probes started so far */
  int media_lost;  /* media packets dropped at the bottleneck so far (not padding) */
};

/* The FCI of one feedback packet, as a receiver would write it: 2-bit
 * status vectors, deltas in 250 us units from the reference time. */
inline std::vector<uint8_t> encode_twcc(uint16_t base, const std::vector<int64_t> &arrivals,
                                        uint8_t count)
{
  /* arrivals[i] < 0: packet base + i not received. */
  int64_t first = -1;
  for (int64_t a : arrivals) {
    if (a >= 0) {
      first = a;
      break;
    }
  }
  const int64_t reference = first < 0 ? 0 : first / 64000;
  std::vector<uint8_t> out = {uint8_t(base >> 8),
                              uint8_t(base),
                              uint8_t(arrivals.size() >> 8),
                              uint8_t(arrivals.size()),
                              uint8_t((reference >> 16) & 0xff),
                              uint8_t((reference >> 8) & 0xff),
                              uint8_t(reference & 0xff),
                              count};
  std::vector<uint8_t> statuses, deltas;
  int64_t previous = reference * 64000;
  for (int64_t a : arrivals) {
    if (a < 0) {
      statuses.push_back(0);
      continue;
    }
    int64_t units = std::llround((a - previous) / 250.0);
    units = std::clamp<int64_t>(units, -32768, 32767);
    previous += units * 250;
    if (units >= 0 && units <= 255) {
      statuses.push_back(1);
      deltas.push_back(uint8_t(units));
    } else {
      statuses.push_back(2);
      deltas.push_back(uint8_t((units >> 8) & 0xff));
      deltas.push_back(uint8_t(units & 0xff));
    }
  }
  for (std::size_t i = 0; i < statuses.size(); i += 7) {
    uint16_t chunk = 0xc000;
    for (std::size_t j = 0; j < 7 && i + j < statuses.size(); j++)
      chunk |= uint16_t(statuses[i + j] << (12 - 2 * j));
    out.push_back(uint8_t(chunk >> 8));
    out.push_back(uint8_t(chunk));
  }
  out.insert(out.end(), deltas.begin(), deltas.end());
  while (out.size() % 4)
    out.push_back(0);
  return out;
}

inline std::vector<Sample> simulate(const Config &cfg, const EstimatorConfig &ecfg)
{
  BandwidthEstimator est(ecfg);
  std::mt19937 rng(cfg.seed);
  std::uniform_real_distribution<double> uniform(0, 1);
  auto capacity_at = [&](int64_t t) {
    for (const Phase &p : cfg.phases) {
      if (t < p.until_us)
        return p.capacity_bps;
    }
    return cfg.phases.back().capacity_bps;
  };
  const int64_t viewer_clock = 7000000 + 12345; /* the viewer's clock runs from elsewhere */
  struct InFlight {
    uint16_t seq;
    int64_t arrival_us; /* -1: dropped */
  };
  std::deque<InFlight> at_viewer; /* not yet reported */
  struct Pending {
    int64_t deliver_us;
    std::vector<uint8_t> fci;
  };
  std::deque<Pending> returning;
  std::vector<Sample> samples;
  uint16_t seq = 0;
  uint8_t fb_count = 0;
  int64_t link_free_us = 0;
  int64_t next_frame_us = 0, next_feedback_us = cfg.feedback_interval_us, next_sample_us = 0;
  int frame = 0, probes = 0, media_lost = 0;
  double rate = 0, before_probe = 0, pad_bps = 0;
  bool probing = false;
  const ProbeKind kind = cfg.padding_probes ? ProbeKind::Padding : ProbeKind::Trial;
  for (int64_t now = 0; now <= cfg.duration_us; now += 1000) {
    while (!returning.empty() && returning.front().deliver_us <= now) {
      TwccFeedback fb;
      std::string error;
      if (!parse_twcc_feedback(returning.front().fci.data(), returning.front().fci.size(), fb,
                               error))
        g_error("the simulator wrote bad feedback: %s", error.c_str());
      est.on_twcc_feedback(fb, now);
      returning.pop_front();
    }
    if (now % 100000 == 0)
      est.update(now);
    if (now >= next_frame_us) {
      next_frame_us += 33333;
      const double target = static_cast<double>(est.target_bps());
      if (cfg.ladder.empty()) {
        rate = std::min(target, cfg.max_bps);
      } else {
        /* The ladder rule proposed for ViewerSet: down at once when the
         * estimate falls below 85 % of the rung (so the AIMD saw-tooth
         * around a rung does not flap it), up when the estimate reaches
         * the next rung or a probe of it starts; back to the rung it left
         * when a probe fails. */
        if (rate == 0)
          rate = cfg.ladder.back();
        if (probing && est.probe_state() != ProbeState::Running) {
          probing = false;
          pad_bps = 0;
          if (est.probe_state() == ProbeState::Failed)
            rate = before_probe; /* back where it was */
        }
        if (target < 0.85 * rate) {
          double pick = cfg.ladder.front();
          for (double r : cfg.ladder) {
            if (r <= target)
              pick = r;
          }
          rate = std::min(rate, pick);
        }
        for (double r : cfg.ladder) {
          if (r <= rate)
            continue;
          if (target >= r) {
            rate = r;
          } else if (!probing && est.wants_probe(static_cast<uint64_t>(r), now, kind)) {
            est.start_probe(static_cast<uint64_t>(r), now, kind);
            probes++;
            probing = true;
            before_probe = rate;
            if (cfg.padding_probes)
              pad_bps = r - rate; /* the rung stays; padding makes up the rest */
            else
              rate = r;
          }
          break;
        }
      }
      /* A key frame every 2 s at 3x, the rest a little smaller, all +-25 %. */
      const bool key = frame++ % 60 == 0;
      double bytes = rate / 8 / 30 * (key ? 3.0 : 57.0 / 59.0) * (0.75 + 0.5 * uniform(rng));
      const double media_bytes = bytes;
      bytes += pad_bps / 8 / 30; /* padding goes out after the frame's packets */
      for (int i = 0; bytes > 0; i++) {
        const bool media = media_bytes - i * 1200.0 > 0;
        const std::size_t size = static_cast<std::size_t>(std::min(bytes, 1200.0)) + 40;
        bytes -= 1200;
        const int64_t send = now + i * 20;
        est.on_packet_sent(seq, size, send);
        const int64_t start = std::max(send, link_free_us);
        int64_t arrival = -1;
        if (start - send <= cfg.queue_limit_us) {
          link_free_us = start + static_cast<int64_t>(size * 8 * 1e6 / capacity_at(start));
          if (uniform(rng) >= cfg.random_loss)
            arrival = link_free_us + cfg.one_way_us + viewer_clock;
        } else if (media) {
          media_lost++;
        }
        at_viewer.push_back({seq, arrival});
        seq++;
      }
    }
    if (now >= next_feedback_us) {
      next_feedback_us += cfg.feedback_interval_us;
      /* Everything up to the newest packet that has arrived: the ones
       * before it that did not are lost. */
      std::size_t n = 0;
      for (std::size_t i = 0; i < at_viewer.size(); i++) {
        if (at_viewer[i].arrival_us >= 0 && at_viewer[i].arrival_us <= now + viewer_clock)
          n = i + 1;
      }
      if (n > 0) {
        std::vector<int64_t> arrivals;
        for (std::size_t i = 0; i < n; i++)
          arrivals.push_back(at_viewer[i].arrival_us);
        returning.push_back(
            {now + cfg.one_way_us, encode_twcc(at_viewer.front().seq, arrivals, fb_count++)});
        at_viewer.erase(at_viewer.begin(), at_viewer.begin() + n);
      }
    }
    if (now >= next_sample_us) {
      next_sample_us += 100000;
      samples.push_back({now, est.estimate(), capacity_at(now), rate,
                         std::max<int64_t>(0, link_free_us - now) / 1000.0, probes, media_lost});
    }
  }
  return samples;
}

}  // namespace linksim
