/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "fake_dxgiduplicator.h"

#include <cstring>

namespace fake_dxgi {

Script &script()
{
  static Script s;
  return s;
}

}  // namespace fake_dxgi

namespace livecast {
namespace dxgi {

struct DesktopDuplicator::Impl {
  LogFunction log;
};

DesktopDuplicator::DesktopDuplicator(LogFunction log) : impl_(new Impl)
{
  impl_->log = std::move(log);
}

DesktopDuplicator::~DesktopDuplicator() = default;

bool DesktopDuplicator::list_monitors(std::vector<MonitorInfo> &monitors, std::string &)
{
  monitors = {MonitorInfo{"FAKE1",
                          Rect{0, 0, fake_dxgi::script().width, fake_dxgi::script().height}, true}};
  return true;
}

bool DesktopDuplicator::open(const DuplicatorOptions &options, std::string &error)
{
  fake_dxgi::Script &s = fake_dxgi::script();
  s.options = options;
  if (impl_->log)
    impl_->log(LogLevel::Info, "fake open");
  if (!s.open_ok)
    error = s.open_error;
  return s.open_ok;
}

int DesktopDuplicator::width() const
{
  return fake_dxgi::script().width;
}

int DesktopDuplicator::height() const
{
  return fake_dxgi::script().height;
}

bool DesktopDuplicator::region_clamped() const
{
  return fake_dxgi::script().clamped;
}

std::string DesktopDuplicator::description() const
{
  return "FAKE1";
}

FrameStatus DesktopDuplicator::next_frame(unsigned timeout_ms, std::string &error)
{
  fake_dxgi::Script &s = fake_dxgi::script();
  s.timeouts.push_back(timeout_ms);
  if (s.statuses.empty())
    return FrameStatus::Unchanged;
  const FrameStatus status = s.statuses.front();
  s.statuses.pop_front();
  if (status == FrameStatus::NewFrame)
    s.picture++;
  if (status == FrameStatus::Resized && !s.sizes.empty()) {
    s.width = s.sizes.front().first;
    s.height = s.sizes.front().second;
    s.sizes.pop_front();
  }
  if (status == FrameStatus::Error)
    error = "the display went away";
  return status;
}

void DesktopDuplicator::compose(std::uint8_t *dst, int stride) const
{
  const fake_dxgi::Script &s = fake_dxgi::script();
  for (int y = 0; y < s.height; y++)
    std::memset(dst + static_cast<std::size_t>(y) * stride, s.picture, s.width * 4);
}

void DesktopDuplicator::unlock()
{
  fake_dxgi::script().unlocked = true;
}

void DesktopDuplicator::unlock_stop()
{
  fake_dxgi::script().unlocked = false;
}

void DesktopDuplicator::close()
{
  fake_dxgi::script().closes++;
}

}  // namespace dxgi
}  // namespace livecast
