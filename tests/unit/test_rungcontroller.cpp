/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The ladder's rungs (gst/webrtcserver/media/ladder.h) and the rung
 * controller's decisions (media/rungcontroller.h) from synthetic
 * estimates, ticked every 250 ms as ViewerSet does: a congested link
 * moves the viewer down within a second to the rung what got through
 * carries; a calm one is tried one rung up after the back-off of the
 * move down; a failed try comes back at once and backs off; REMB alone never moves anyone;
 * transport-cc's delay-based estimate does.
 */
#include <glib.h>

#include <vector>

#include "ladder.h"
#include "rungcontroller.h"

using namespace livecast;

namespace
{

constexpr int64_t kTick = 250000;
const std::vector<uint64_t> kRungs = {2000000, 667000, 200000};

BandwidthEstimate remb_estimate(uint64_t remb, double loss)
{
  BandwidthEstimate e;
  e.basis = EstimateBasis::Remb;
  e.target_bps = remb;
  e.remb_bps = remb;
  e.loss_bps = 2000000;
  e.loss_fraction = loss;
  return e;
}

struct Run {
  RungController c{kRungs, 0};
  int64_t now = 10 * G_USEC_PER_SEC;
  std::vector<int> probes; /* the rates asked to probe, in bit/s / 1000 */
  std::vector<int> pads;   /* the rates asked to probe with padding */
  Run() = default;
  explicit Run(bool can_pad) : c(kRungs, 0, can_pad) {}

  /* Ticks for @us with @e and @sent (or until the first change, @stop);
   * the time of the first change (-1: none). */
  int64_t ticks(int64_t us, const BandwidthEstimate &e, uint64_t sent, bool probe_wanted = true,
                bool stop = false)
  {
    int64_t changed_at = -1;
    for (int64_t t = 0; t < us; t += kTick) {
      now += kTick;
      const RungController::Decision d =
          c.tick(now, e, sent, [probe_wanted](uint64_t) { return probe_wanted; });
      if (d.changed && changed_at < 0)
        changed_at = t + kTick;
      if (d.probe)
        probes.push_back(static_cast<int>(d.probe_bps / 1000));
      if (d.pad)
        pads.push_back(static_cast<int>(d.probe_bps / 1000));
      if (d.changed && stop)
        break;
    }
    return changed_at;
  }
};

void test_ladder_shapes()
{
  const std::vector<RungSpec> camera = ladder_rungs(Ladder::Camera, 1280, 720, 2000);
  g_assert_cmpuint(camera.size(), ==, 3);
  g_assert_cmpint(camera[1].width, ==, 640);
  g_assert_cmpint(camera[1].height, ==, 360);
  g_assert_cmpuint(camera[1].bitrate_kbps, ==, 667);
  g_assert_cmpint(camera[2].width, ==, 320);
  g_assert_cmpuint(camera[2].bitrate_kbps, ==, 200);
  g_assert_false(camera[1].half_rate);
  /* Screen: full size at half rate first, then half size. */
  const std::vector<RungSpec> screen = ladder_rungs(Ladder::Screen, 1920, 1080, 4000);
  g_assert_cmpuint(screen.size(), ==, 3);
  g_assert_cmpint(screen[1].width, ==, 1920);
  g_assert_true(screen[1].half_rate);
  g_assert_cmpuint(screen[1].bitrate_kbps, ==, 2000);
  g_assert_cmpint(screen[2].width, ==, 960);
  g_assert_true(screen[2].half_rate);
  /* Odd sizes become even; pictures too small for a rung get none. */
  g_assert_cmpint(ladder_rungs(Ladder::Camera, 1366, 766, 2000)[1].height, ==, 382);
  g_assert_cmpuint(ladder_rungs(Ladder::Camera, 318, 178, 2000).size(), ==, 1);
  g_assert_cmpuint(ladder_rungs(Ladder::Camera, 480, 270, 2000).size(), ==, 2);
  g_assert_cmpuint(ladder_rungs(Ladder::None, 1280, 720, 2000).size(), ==, 1);
}

/* 2 Mbit/s into a 1 Mbit/s link: half is lost; down to rung 1 (what got
 * through, ~1 Mbit/s, carries 667 kbit/s) within a second. */
void test_down_on_loss()
{
  Run r;
  g_assert_cmpint(r.ticks(2 * G_USEC_PER_SEC, remb_estimate(3000000, 0.0), 2000000), ==, -1);
  const int64_t at = r.ticks(G_USEC_PER_SEC, remb_estimate(3000000, 0.5), 2000000);
  g_assert_cmpint(at, >, 0);
  g_assert_cmpint(at, <=, G_USEC_PER_SEC);
  g_assert_cmpint(r.c.rung(), ==, 1);
  /* The loss reported right after (rung 0's packets still in the queue,
   * the switch waiting for a key frame) does not move it further down. */
  g_assert_cmpint(
      r.ticks(RungController::kAfterFailureUs - kTick, remb_estimate(3000000, 0.5), 2000000), ==,
      -1);
  g_assert_cmpint(r.c.rung(), ==, 1);
  /* Loss that lets 300 kbit/s through: straight to the lowest rung. */
  Run deep;
  deep.ticks(2 * G_USEC_PER_SEC, remb_estimate(3000000, 0.85), 2000000);
  g_assert_cmpint(deep.c.rung(), ==, 2);
}

/* After a move down, the loss goes on while the viewer still gets the
 * higher rung (its switch waits for the lower rung's key frame): no
 * further move until the lower rung is shown and the loss outlasts the
 * hold. */
void test_down_waits_for_switch()
{
  RungController c{kRungs, 0};
  int64_t now = 10 * G_USEC_PER_SEC;
  auto tick = [&](double loss, bool shown) {
    now += kTick;
    return c.tick(
        now, remb_estimate(3000000, loss), 2000000, [](uint64_t) { return false; }, 0, shown);
  };
  while (!tick(0.5, true).changed)
    g_assert_cmpint(now, <, 12 * G_USEC_PER_SEC);
  g_assert_cmpint(c.rung(), ==, 1);
  /* 2 s of loss, rung 1 not shown yet: stays. */
  for (int i = 0; i < 8; i++)
    g_assert_false(tick(0.5, false).changed);
  /* Shown now, and the loss goes on: down after the hold. */
  int64_t moved = -1;
  for (int64_t t = kTick; t <= 6 * G_USEC_PER_SEC && moved < 0; t += kTick) {
    if (tick(0.5, true).changed)
      moved = t;
  }
  g_assert_cmpint(moved, >=, 2 * G_USEC_PER_SEC);
  g_assert_cmpint(moved, <=,
                  RungController::kAfterDownShownUs + RungController::kDownAfterUs + kTick);
  g_assert_cmpint(c.rung(), ==, 2);
}

/* Chromium's REMB far below what we send, without loss: no reason to move. */
void test_remb_alone_does_not_move()
{
  Run r;
  g_assert_cmpint(r.ticks(20 * G_USEC_PER_SEC, remb_estimate(349000, 0.0), 2000000), ==, -1);
  g_assert_cmpint(r.c.rung(), ==, 0);
  /* Nor does the initial guess. */
  BandwidthEstimate initial;
  initial.target_bps = 50000;
  Run i;
  g_assert_cmpint(i.ticks(5 * G_USEC_PER_SEC, initial, 2000000), ==, -1);
}

/* A calm link: one rung up at a time, with a probe, once the back-off of
 * the move down is over (the link refused rung 0, far below its rate: at
 * least kBackoffFarUs); a try that loses comes back at once, and the next
 * try waits longer. */
void test_trials()
{
  Run r;
  r.ticks(G_USEC_PER_SEC, remb_estimate(3000000, 0.5), 2000000, true, true);
  g_assert_cmpint(r.c.rung(), ==, 1);
  /* Calm: a try of rung 0 after the back-off, with a probe at its rate. */
  const int64_t up =
      r.ticks(2 * RungController::kBackoffFarUs, remb_estimate(900000, 0.0), 600000, true, true);
  g_assert_cmpint(up, >=, RungController::kBackoffFarUs - kTick);
  g_assert_cmpint(up, <=, RungController::kBackoffFarUs);
  g_assert_cmpint(r.c.rung(), ==, 0);
  g_assert_cmpuint(r.probes.size(), ==, 1);
  g_assert_cmpint(r.probes[0], ==, 2000);
  /* The try loses: back at the next tick. */
  g_assert_cmpint(r.ticks(kTick, remb_estimate(900000, 0.4), 2000000), ==, kTick);
  g_assert_cmpint(r.c.rung(), ==, 1);
  /* The loss the try caused does not move it further down. */
  g_assert_cmpint(
      r.ticks(RungController::kAfterFailureUs - kTick, remb_estimate(900000, 0.3), 600000), ==, -1);
  /* Calm again: the next try after twice the back-off, not at the settle time. */
  const int64_t again =
      r.ticks(3 * RungController::kBackoffFarUs, remb_estimate(900000, 0.0), 600000, true, true);
  g_assert_cmpint(again, >, 0);
  g_assert_cmpint(again + RungController::kAfterFailureUs - kTick, >=,
                  2 * RungController::kBackoffFarUs - kTick);
  g_assert_cmpint(r.c.rung(), ==, 0);
  /* This try holds: after kTrialUs it stays for good. */
  g_assert_cmpint(r.ticks(10 * G_USEC_PER_SEC, remb_estimate(2500000, 0.0), 2000000), ==, -1);
  g_assert_cmpint(r.c.rung(), ==, 0);
  /* A refusal after that starts afresh: a link that drops (rung 0 far too
   * much), then comes back, is tried again after kBackoffFarUs, not after
   * the doubled back-off of the earlier tries. */
  r.ticks(G_USEC_PER_SEC, remb_estimate(900000, 0.6), 2000000, true, true);
  g_assert_cmpint(r.c.rung(), ==, 1);
  const int64_t back =
      r.ticks(2 * RungController::kBackoffFarUs, remb_estimate(900000, 0.0), 600000, true, true);
  g_assert_cmpint(back, <=, RungController::kBackoffFarUs);
  g_assert_cmpint(r.c.rung(), ==, 0);
  /* The estimator failing the probe (transport-cc) also ends a try. */
  Run f;
  f.ticks(G_USEC_PER_SEC, remb_estimate(3000000, 0.5), 2000000, true, true);
  f.ticks(RungController::kBackoffFarUs + kTick, remb_estimate(900000, 0.0), 600000, true, true);
  g_assert_cmpint(f.c.rung(), ==, 0);
  BandwidthEstimate failed = remb_estimate(900000, 0.0);
  failed.probe = ProbeState::Failed;
  g_assert_cmpint(f.ticks(kTick, failed, 2000000), ==, kTick);
  g_assert_cmpint(f.c.rung(), ==, 1);
}

/* A link that refused a rung only just (what got through at least kFar of
 * it) is tried again after the short back-off. */
void test_near_refusal()
{
  Run r;
  r.ticks(G_USEC_PER_SEC, remb_estimate(3000000, 0.2), 2000000, true, true);
  g_assert_cmpint(r.c.rung(), ==, 1);
  const int64_t up =
      r.ticks(2 * RungController::kBackoffFarUs, remb_estimate(900000, 0.0), 600000, true, true);
  g_assert_cmpint(up, >=, RungController::kBackoffMinUs - kTick);
  g_assert_cmpint(up, <=, RungController::kBackoffMinUs);
}

BandwidthEstimate delay_estimate(uint64_t delay, uint64_t acked)
{
  BandwidthEstimate e;
  e.basis = EstimateBasis::Delay;
  e.delay_bps = e.target_bps = delay;
  e.acked_bps = acked;
  e.loss_bps = 20000000;
  return e;
}

/* transport-cc on a lower rung: no try while the delay-based estimate is
 * held below what the rung lets it show (recent overuse: a 1 Mbit/s link
 * under 667 kbit/s), even when the estimator would probe; a try once it is
 * close to that ceiling. */
void test_delay_gate()
{
  Run r;
  r.ticks(G_USEC_PER_SEC, delay_estimate(850000, 1000000), 2000000, true, true);
  g_assert_cmpint(r.c.rung(), ==, 1); /* 850 kbit/s carries 667 at 0.85 */
  /* Held at 0.85 x 700 kbit/s acknowledged: below 0.9 x 1.5 x 700. */
  g_assert_cmpint(r.ticks(40 * G_USEC_PER_SEC, delay_estimate(800000, 700000), 667000), ==, -1);
  g_assert_cmpint(r.c.rung(), ==, 1);
  /* At the ceiling (1.5 x 700 + 10 kbit/s): a try with a probe. */
  g_assert_cmpint(r.ticks(kTick, delay_estimate(1060000, 700000), 667000), ==, kTick);
  g_assert_cmpint(r.c.rung(), ==, 0);
  g_assert_cmpuint(r.probes.size(), ==, 1);
  /* On trial, NACKs for a third of the packets end the try at once. */
  r.now += kTick;
  const RungController::Decision back = r.c.tick(
      r.now, delay_estimate(1060000, 700000), 2000000, [](uint64_t) { return true; }, 0.3);
  g_assert_true(back.changed);
  g_assert_cmpint(r.c.rung(), ==, 1);
  /* Off trial, with transport-cc, a NACK or two per tick (old packets asked
   * for again) neither moves the viewer down nor keeps it from the next try. */
  Run n;
  n.ticks(G_USEC_PER_SEC, delay_estimate(850000, 1000000), 2000000, true, true);
  int64_t tried = -1;
  for (int64_t t = kTick; t <= 30 * G_USEC_PER_SEC && tried < 0; t += kTick) {
    n.now += kTick;
    if (n.c.tick(
               n.now, delay_estimate(1060000, 700000), 667000, [](uint64_t) { return true; }, 0.2)
            .changed)
      tried = t;
  }
  g_assert_cmpint(tried, >, 0);
  g_assert_cmpint(n.c.rung(), ==, 0);
  /* A try without a probe (the estimate carries the next rung) is not
   * ended by an earlier probe's failure still in the estimator's state. */
  Run p;
  p.ticks(G_USEC_PER_SEC, delay_estimate(850000, 1000000), 2000000, true, true);
  BandwidthEstimate fits = delay_estimate(2400000, 700000);
  fits.probe = ProbeState::Failed;
  g_assert_cmpint(p.ticks(30 * G_USEC_PER_SEC, fits, 667000, false, true), >, 0);
  g_assert_cmpint(p.c.rung(), ==, 0);
  g_assert_cmpint(p.ticks(10 * G_USEC_PER_SEC, fits, 2000000, false), ==, -1);
  g_assert_cmpint(p.c.rung(), ==, 0);
  /* The same ceiling without the estimator wanting a probe: no try. */
  Run q;
  q.ticks(G_USEC_PER_SEC, delay_estimate(850000, 1000000), 2000000, true, true);
  g_assert_cmpint(q.ticks(40 * G_USEC_PER_SEC, delay_estimate(1060000, 700000), 667000, false), ==,
                  -1);
}

/* transport-cc: the delay-based estimate moves the viewer down without
 * loss, and up without a try when it already carries the next rung and the
 * estimator wants no probe. */
void test_delay_based()
{
  Run r;
  BandwidthEstimate e;
  e.basis = EstimateBasis::Delay;
  e.delay_bps = 800000;
  e.target_bps = 800000;
  e.loss_bps = 2000000;
  const int64_t at = r.ticks(2 * G_USEC_PER_SEC, e, 2000000, true, true);
  g_assert_cmpint(at, >, 0);
  g_assert_cmpint(at, <=, G_USEC_PER_SEC);
  g_assert_cmpint(r.c.rung(), ==, 1); /* 800 kbit/s carries 667 at 0.85 */
  /* No probe wanted and the estimate below rung 0: stays. */
  g_assert_cmpint(r.ticks(10 * G_USEC_PER_SEC, e, 650000, false), ==, -1);
  e.delay_bps = e.target_bps = 2600000;
  g_assert_cmpint(r.ticks(5 * G_USEC_PER_SEC, e, 650000, false), >, 0);
  g_assert_cmpint(r.c.rung(), ==, 0);
}

/* A standing queue of 150 ms on a congested link moves the viewer down at
 * the first tick, not after kDownAfterUs. */
void test_down_on_standing_queue()
{
  Run r;
  BandwidthEstimate e;
  e.basis = EstimateBasis::Delay;
  e.delay_bps = e.target_bps = 800000;
  e.loss_bps = 2000000;
  e.queue_us = 200000;
  g_assert_cmpint(r.ticks(2 * G_USEC_PER_SEC, e, 2000000, true, true), ==, kTick);
  g_assert_cmpint(r.c.rung(), ==, 1);
  /* A short queue waits as before. */
  Run waits;
  e.queue_us = 40000;
  g_assert_cmpint(waits.ticks(2 * G_USEC_PER_SEC, e, 2000000, true, true), >, kTick);
}

/* With padding: no try of a rung the estimate does not carry, a padding
 * probe instead; up once a probe proved the next rung, even within the
 * back-off of a move down, but not within that of a failed try. */
void test_padding()
{
  Run r(true);
  r.ticks(G_USEC_PER_SEC, delay_estimate(850000, 1000000), 2000000, true, true);
  g_assert_cmpint(r.c.rung(), ==, 1);
  /* At the ceiling where a controller without padding would try rung 0
   * (test_delay_gate): padding probes at its rate, the viewer stays. */
  g_assert_cmpint(r.ticks(10 * G_USEC_PER_SEC, delay_estimate(1060000, 700000), 667000), ==, -1);
  g_assert_cmpint(r.c.rung(), ==, 1);
  g_assert_cmpuint(r.probes.size(), ==, 0);
  g_assert_cmpuint(r.pads.size(), >=, 1);
  g_assert_cmpint(r.pads[0], ==, 2000);
  /* The padding probe proved 2 Mbit/s (the link came back): up at once,
   * though the move down's back-off (kBackoffFarUs) has not passed. */
  BandwidthEstimate proven = delay_estimate(2000000, 2000000);
  proven.probe = ProbeState::Succeeded;
  proven.probe_bps = 2000000;
  proven.probe_ended_us = r.now + 1;
  g_assert_cmpint(r.ticks(G_USEC_PER_SEC, proven, 667000, false, true), ==, kTick);
  g_assert_cmpint(r.c.rung(), ==, 0);
  g_assert_cmpuint(r.probes.size(), ==, 0);
  /* That try fails (loss): back, and the next proof does not move it up
   * before the failed try's back-off. */
  BandwidthEstimate lossy = proven;
  lossy.loss_fraction = 0.3;
  g_assert_cmpint(r.ticks(kTick, lossy, 2000000), ==, kTick);
  g_assert_cmpint(r.c.rung(), ==, 1);
  const int64_t again = r.ticks(30 * G_USEC_PER_SEC, proven, 667000, false, true);
  g_assert_cmpint(again, >=, RungController::kBackoffMinUs);
  g_assert_cmpint(r.c.rung(), ==, 0);
  /* A proof from before the last move down is stale (the link changed since):
   * within the back-off no move, a new padding probe instead. */
  Run st(true);
  const int64_t before_down = st.now;
  st.ticks(G_USEC_PER_SEC, delay_estimate(850000, 1000000), 2000000, true, true);
  g_assert_cmpint(st.c.rung(), ==, 1);
  BandwidthEstimate stale = proven;
  stale.probe_ended_us = before_down;
  g_assert_cmpint(st.ticks(4 * G_USEC_PER_SEC, stale, 667000), ==, -1);
  g_assert_cmpuint(st.pads.size(), >=, 1);
  /* An estimate that carries the next rung within the back-off of a move
   * down (the link came back): a padding probe proves it once the hold
   * after the move is over, not after the back-off; none in the hold. */
  Run b(true);
  b.ticks(G_USEC_PER_SEC, delay_estimate(150000, 300000), 2000000, true, true);
  g_assert_cmpint(b.c.rung(), ==, 2);
  g_assert_cmpint(
      b.ticks(RungController::kAfterDownShownUs - kTick, delay_estimate(640000, 300000), 200000),
      ==, -1);
  g_assert_cmpuint(b.pads.size(), ==, 0);
  g_assert_cmpint(
      b.ticks(RungController::kAfterDownShownUs + kTick, delay_estimate(640000, 300000), 200000),
      ==, -1);
  g_assert_cmpuint(b.pads.size(), >=, 1);
  g_assert_cmpint(b.pads[0], ==, 667);
  /* Without padding the same proof is only an estimate: the back-off of
   * the move down holds. */
  Run n(false);
  n.ticks(G_USEC_PER_SEC, delay_estimate(850000, 1000000), 2000000, true, true);
  g_assert_cmpint(n.ticks(RungController::kBackoffFarUs - 2 * kTick, proven, 667000, false), ==,
                  -1);
}

}  // namespace

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/ladder/shapes", test_ladder_shapes);
  g_test_add_func("/rungcontroller/down-on-loss", test_down_on_loss);
  g_test_add_func("/rungcontroller/down-waits-for-switch", test_down_waits_for_switch);
  g_test_add_func("/rungcontroller/remb-alone", test_remb_alone_does_not_move);
  g_test_add_func("/rungcontroller/trials", test_trials);
  g_test_add_func("/rungcontroller/near-refusal", test_near_refusal);
  g_test_add_func("/rungcontroller/delay-gate", test_delay_gate);
  g_test_add_func("/rungcontroller/delay-based", test_delay_based);
  g_test_add_func("/rungcontroller/down-on-standing-queue", test_down_on_standing_queue);
  g_test_add_func("/rungcontroller/padding", test_padding);
  return g_test_run();
}
