/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DXGI Desktop Duplication core; see dxgiduplicator.h. Windows 8 or later.
 * Written against Microsoft's documentation of IDXGIOutputDuplication;
 * compiled with mingw-w64 in this project's CI, run only on real Windows.
 */
#include "dxgiduplicator.h"

#include <windows.h>
#include <d3d11.h>
#include <dxgi1_2.h>
#include <wrl/client.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <utility>

#include "dxgierror.h"
#include "frameassembler.h"
#include "pointershape.h"

using Microsoft::WRL::ComPtr;

namespace livecast {
namespace dxgi {

namespace {

/* The longest single AcquireNextFrame wait: AcquireNextFrame cannot be
 * cancelled, so this bounds how long unlock() takes. */
constexpr unsigned kAcquireSliceMs = 10;
/* How often re-creating the duplication is tried while the desktop is out
 * of reach (secure desktop, mode change in progress). */
constexpr ULONGLONG kRetryIntervalMs = 250;
/* How long the captured output may be missing from the list before that is
 * an error rather than a mode change in progress. */
constexpr ULONGLONG kMissingOutputMs = 10000;
/* How long open() waits for the first desktop image. */
constexpr unsigned kOpenWaitMs = 500;

std::string utf8(const wchar_t *wide)
{
  const int n = WideCharToMultiByte(CP_UTF8, 0, wide, -1, nullptr, 0, nullptr, nullptr);
  if (n <= 1)
    return std::string();
  std::string out(static_cast<std::size_t>(n - 1), '\0');
  WideCharToMultiByte(CP_UTF8, 0, wide, -1, &out[0], n, nullptr, nullptr);
  return out;
}

Rotation rotation_of(DXGI_MODE_ROTATION r)
{
  switch (r) {
    case DXGI_MODE_ROTATION_ROTATE90:
      return Rotation::Rotate90;
    case DXGI_MODE_ROTATION_ROTATE180:
      return Rotation::Rotate180;
    case DXGI_MODE_ROTATION_ROTATE270:
      return Rotation::Rotate270;
    default:
      return Rotation::Identity;
  }
}

/* Physical pixels for the calling thread while it lives: a process that is
 * not DPI-aware otherwise gets scaled output coordinates on a scaled
 * display. SetThreadDpiAwarenessContext exists from Windows 10 1607 on;
 * looked up at run time so that Windows 8 still loads us. */
class PhysicalPixels {
 public:
  PhysicalPixels()
  {
    if (HMODULE user32 = GetModuleHandleW(L"user32.dll")) {
      /* Through void(*)(void): the generic function pointer type. */
      set_ = reinterpret_cast<SetContext>(reinterpret_cast<void (*)(void)>(
          GetProcAddress(user32, "SetThreadDpiAwarenessContext")));
    }
    if (set_)
      previous_ = set_(DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2);
  }
  ~PhysicalPixels()
  {
    if (set_ && previous_)
      set_(previous_);
  }
  PhysicalPixels(const PhysicalPixels &) = delete;
  PhysicalPixels &operator=(const PhysicalPixels &) = delete;

 private:
  using SetContext = DPI_AWARENESS_CONTEXT(WINAPI *)(DPI_AWARENESS_CONTEXT);
  SetContext set_ = nullptr;
  DPI_AWARENESS_CONTEXT previous_ = nullptr;
};

/* An output attached to the desktop, with the adapter it hangs off. */
struct Output {
  ComPtr<IDXGIAdapter1> adapter;
  ComPtr<IDXGIOutput1> output;
  MonitorInfo info;
  std::wstring device_name; /* \\.\DISPLAYn: finds the same output after a mode change */
  Rotation rotation = Rotation::Identity;
};

HRESULT enumerate_outputs(std::vector<Output> &outputs)
{
  const PhysicalPixels physical;
  outputs.clear();
  ComPtr<IDXGIFactory1> factory;
  HRESULT hr = CreateDXGIFactory1(IID_PPV_ARGS(&factory));
  if (FAILED(hr))
    return hr;
  ComPtr<IDXGIAdapter1> adapter;
  for (UINT a = 0;
       factory->EnumAdapters1(a, adapter.ReleaseAndGetAddressOf()) != DXGI_ERROR_NOT_FOUND; a++) {
    ComPtr<IDXGIOutput> output;
    for (UINT o = 0;
         adapter->EnumOutputs(o, output.ReleaseAndGetAddressOf()) != DXGI_ERROR_NOT_FOUND; o++) {
      DXGI_OUTPUT_DESC desc;
      if (FAILED(output->GetDesc(&desc)) || !desc.AttachedToDesktop)
        continue;
      Output out;
      /* IDXGIOutput1 is what duplicates; it exists from Windows 8 on. */
      if (FAILED(output.As(&out.output)))
        continue;
      out.adapter = adapter;
      out.device_name = desc.DeviceName;
      out.info.name = utf8(desc.DeviceName);
      const RECT &r = desc.DesktopCoordinates;
      out.info.bounds = Rect{r.left, r.top, r.right - r.left, r.bottom - r.top};
      MONITORINFO monitor_info = {};
      monitor_info.cbSize = sizeof monitor_info;
      out.info.primary = GetMonitorInfoW(desc.Monitor, &monitor_info) &&
                         (monitor_info.dwFlags & MONITORINFOF_PRIMARY);
      out.rotation = rotation_of(desc.Rotation);
      outputs.push_back(std::move(out));
    }
  }
  return S_OK;
}

/* Runs @fn when leaving the scope: ReleaseFrame and Unmap on every path. */
template <typename Fn>
class ScopeExit
{
 public:
  explicit ScopeExit(Fn fn) : fn_(std::move(fn)) {}
  ~ScopeExit() { fn_(); }
  ScopeExit(const ScopeExit &) = delete;
  ScopeExit &operator=(const ScopeExit &) = delete;

 private:
  Fn fn_;
};
template <typename Fn>
ScopeExit<Fn> on_scope_exit(Fn fn)
{
  return ScopeExit<Fn>(std::move(fn));
}

}  // namespace

struct DesktopDuplicator::Impl {
  LogFunction log_fn;
  DuplicatorOptions options;

  /* The output, and where the area is on it (desktop orientation). */
  std::wstring device_name;
  MonitorInfo monitor;
  Rotation rotation = Rotation::Identity;
  Rect area;
  bool clamped = false;

  ComPtr<IDXGIAdapter1> adapter;
  ComPtr<IDXGIOutput1> output;
  ComPtr<ID3D11Device> device;
  ComPtr<ID3D11DeviceContext> context;
  ComPtr<IDXGIOutputDuplication> duplication;
  ComPtr<ID3D11Texture2D> staging;
  int staging_width = 0, staging_height = 0;
  bool first_image = true; /* of this duplication: copied whole */
  /* The first image showed a size other than the output reported (display
   * scaling of a process that is not DPI-aware, say): the picture took the
   * image's; next_frame() reports Resized. */
  bool size_changed = false;
  bool unsent = false; /* a new picture not handed out yet (open(), resize) */
  /* The desktop image is in system memory (no GPU, some virtual machines):
   * read it with MapDesktopSurface instead of through a staging texture. */
  bool image_in_system_memory = false;
  /* The pointer as last reported, relative to the output. */
  bool pointer_visible = false;
  int pointer_x = 0, pointer_y = 0;

  FrameAssembler picture;
  std::vector<std::uint8_t> metadata;
  std::vector<std::uint8_t> shape_buffer;
  std::vector<MoveRect> moves;
  std::vector<Rect> dirty;

  ULONGLONG retry_at = 0;    /* no duplication: when to try again */
  ULONGLONG lost_since = 0;  /* when the duplication was lost */
  bool out_of_reach = false; /* logged once per episode */
  std::atomic<bool> flushing{false};

  void log(LogLevel level, const std::string &message) const
  {
    if (log_fn)
      log_fn(level, message);
  }

  bool locate_output(std::string &error);
  HRESULT create_duplication();
  void drop_duplication();
  FrameStatus recover(std::string &error);
  FrameStatus take_frame(const DXGI_OUTDUPL_FRAME_INFO &info, IDXGIResource *resource,
                         bool &changed, std::string &error);
  HRESULT update_pointer(const DXGI_OUTDUPL_FRAME_INFO &info, bool &changed);
  bool place_pointer();
  HRESULT copy_from_memory(bool whole);
  HRESULT read_rects(UINT total_size);
  HRESULT copy_picture(ID3D11Texture2D *texture, bool whole, bool &lost);
  bool adopt_image_size(int desktop_width, int desktop_height);
  FrameStatus poll(unsigned timeout_ms, std::string &error);
  bool ensure_staging(int width, int height);
};

/* Finds the output: the same device as before when there was one (the
 * enumeration order can change with the monitors), else by `monitor`. */
bool DesktopDuplicator::Impl::locate_output(std::string &error)
{
  std::vector<Output> outputs;
  const HRESULT hr = enumerate_outputs(outputs);
  if (FAILED(hr)) {
    error = "Could not list the displays: CreateDXGIFactory1 failed with " + hresult_name(hr);
    return false;
  }
  std::vector<MonitorInfo> monitors;
  int index = -1;
  for (std::size_t i = 0; i < outputs.size(); i++) {
    monitors.push_back(outputs[i].info);
    if (!device_name.empty() && outputs[i].device_name == device_name)
      index = static_cast<int>(i);
  }
  log(LogLevel::Debug, "outputs: " + describe_monitors(monitors));
  if (index < 0) {
    if (!device_name.empty()) {
      error = "The display " + monitor.name + " went away";
      return false;
    }
    index = select_monitor(monitors, options.monitor, error);
    if (index < 0)
      return false;
  }
  Output &chosen = outputs[static_cast<std::size_t>(index)];
  adapter = chosen.adapter;
  output = chosen.output;
  device_name = chosen.device_name;
  monitor = chosen.info;
  rotation = chosen.rotation;
  if (!resolve_region(monitor.bounds.width, monitor.bounds.height, options.x, options.y,
                      options.width, options.height, area, clamped, error)) {
    error += " (" + monitor.name + ")";
    return false;
  }
  return true;
}

HRESULT DesktopDuplicator::Impl::create_duplication()
{
  drop_duplication();
  static const D3D_FEATURE_LEVEL levels[] = {
      D3D_FEATURE_LEVEL_11_0, D3D_FEATURE_LEVEL_10_1, D3D_FEATURE_LEVEL_10_0,
      D3D_FEATURE_LEVEL_9_3,  D3D_FEATURE_LEVEL_9_2,  D3D_FEATURE_LEVEL_9_1,
  };
  /* The device must be on the adapter that drives the output. */
  HRESULT hr = D3D11CreateDevice(adapter.Get(), D3D_DRIVER_TYPE_UNKNOWN, nullptr,
                                 D3D11_CREATE_DEVICE_BGRA_SUPPORT, levels,
                                 static_cast<UINT>(sizeof levels / sizeof levels[0]),
                                 D3D11_SDK_VERSION, &device, nullptr, &context);
  if (FAILED(hr)) {
    log(LogLevel::Warning, "D3D11CreateDevice failed: " + hresult_name(hr));
    return hr;
  }
  /* Duplication shows the desktop of the calling thread: follow the one
   * that receives input (matters for services; SetThreadDesktop refuses on
   * a thread that owns windows, which is then simply left as it is). */
  if (HDESK input = OpenInputDesktop(0, FALSE, GENERIC_ALL)) {
    if (!SetThreadDesktop(input))
      log(LogLevel::Debug, "SetThreadDesktop failed: " + std::to_string(GetLastError()));
    CloseDesktop(input);
  }
  {
    const PhysicalPixels physical;
    hr = output->DuplicateOutput(device.Get(), &duplication);
  }
  if (FAILED(hr)) {
    duplication.Reset();
    return hr;
  }
  DXGI_OUTDUPL_DESC desc;
  duplication->GetDesc(&desc);
  rotation = rotation_of(desc.Rotation);
  image_in_system_memory = desc.DesktopImageInSystemMemory != FALSE;
  first_image = true;
  log(LogLevel::Info, "duplicating " + monitor.name + " (" + std::to_string(desc.ModeDesc.Width) +
                          "x" + std::to_string(desc.ModeDesc.Height) +
                          (rotation == Rotation::Identity ? "" : ", rotated") +
                          (desc.DesktopImageInSystemMemory ? ", image in system memory" : "") +
                          ")");
  return S_OK;
}

void DesktopDuplicator::Impl::drop_duplication()
{
  duplication.Reset();
  staging.Reset();
  staging_width = staging_height = 0;
  context.Reset();
  device.Reset();
}

/* Without a duplication (lost, or never had one): tries again, at most every
 * kRetryIntervalMs, the previous picture standing meanwhile. */
FrameStatus DesktopDuplicator::Impl::recover(std::string &error)
{
  const ULONGLONG now = GetTickCount64();
  if (now < retry_at)
    return FrameStatus::Unchanged;
  retry_at = now + kRetryIntervalMs;
  if (!locate_output(error)) {
    /* Outputs come and go for a moment during a mode change: only one
     * missing for longer than kMissingOutputMs ends capture. */
    if (!device_name.empty() && now - lost_since < kMissingOutputMs)
      return FrameStatus::Unchanged;
    return FrameStatus::Error;
  }
  const HRESULT hr = create_duplication();
  if (FAILED(hr)) {
    if (classify_failure(hr, true) == Failure::Fatal) {
      error = explain_duplicate_failure(hr);
      return FrameStatus::Error;
    }
    if (!out_of_reach)
      log(LogLevel::Info, "desktop out of reach (" + hresult_name(hr) +
                              "), repeating the last frame until it is back");
    out_of_reach = true;
    return FrameStatus::Unchanged;
  }
  if (out_of_reach)
    log(LogLevel::Info, "desktop back in reach");
  out_of_reach = false;
  if (area.width != picture.width() || area.height != picture.height()) {
    log(LogLevel::Info,
        "captured area is now " + std::to_string(area.width) + "x" + std::to_string(area.height));
    picture.reset(area.width, area.height);
    place_pointer();
    return FrameStatus::Resized;
  }
  return FrameStatus::Unchanged;
}

/* Puts the pointer where it is in area coordinates; true if it moved. */
bool DesktopDuplicator::Impl::place_pointer()
{
  return picture.set_pointer_position(pointer_visible, pointer_x - area.x, pointer_y - area.y);
}

HRESULT DesktopDuplicator::Impl::update_pointer(const DXGI_OUTDUPL_FRAME_INFO &info, bool &changed)
{
  /* Zero: neither position nor shape changed since the last frame. */
  if (info.LastMouseUpdateTime.QuadPart == 0)
    return S_OK;
  /* The position is where the shape's top-left corner goes (the hotspot
   * is already accounted for), relative to the output. */
  pointer_visible = info.PointerPosition.Visible != FALSE;
  pointer_x = info.PointerPosition.Position.x;
  pointer_y = info.PointerPosition.Position.y;
  changed = (place_pointer() && options.show_cursor) || changed;
  /* A new shape comes once: it must be read even while it is not shown. */
  if (info.PointerShapeBufferSize == 0)
    return S_OK;
  shape_buffer.resize(info.PointerShapeBufferSize);
  UINT required = 0;
  DXGI_OUTDUPL_POINTER_SHAPE_INFO shape_info = {};
  const HRESULT hr = duplication->GetFramePointerShape(static_cast<UINT>(shape_buffer.size()),
                                                       shape_buffer.data(), &required, &shape_info);
  if (FAILED(hr)) {
    if (classify_failure(hr, true) == Failure::Transient)
      return hr; /* the duplication is gone: re-created by the caller */
    /* A pointer is not worth the capture: keep the old shape. */
    log(LogLevel::Warning, "GetFramePointerShape failed: " + hresult_name(hr));
    return S_OK;
  }
  PointerShapeType type;
  switch (shape_info.Type) {
    case DXGI_OUTDUPL_POINTER_SHAPE_TYPE_MONOCHROME:
      type = PointerShapeType::Monochrome;
      break;
    case DXGI_OUTDUPL_POINTER_SHAPE_TYPE_COLOR:
      type = PointerShapeType::Color;
      break;
    case DXGI_OUTDUPL_POINTER_SHAPE_TYPE_MASKED_COLOR:
      type = PointerShapeType::MaskedColor;
      break;
    default:
      log(LogLevel::Warning, "unknown pointer shape type " + std::to_string(shape_info.Type));
      return S_OK;
  }
  CursorImage shape;
  if (!decode_pointer_shape(type, shape_buffer.data(), required, static_cast<int>(shape_info.Width),
                            static_cast<int>(shape_info.Height), static_cast<int>(shape_info.Pitch),
                            shape)) {
    log(LogLevel::Warning, "pointer shape " + std::to_string(shape_info.Width) + "x" +
                               std::to_string(shape_info.Height) + " does not fit its " +
                               std::to_string(required) + " bytes; not drawn");
  }
  const bool redraw = picture.set_pointer_shape(std::move(shape));
  changed = changed || (redraw && options.show_cursor);
  return S_OK;
}

/* Move rectangles, then dirty ones, into one buffer of the size the frame
 * announced for both (neither call accepts a null buffer). */
HRESULT DesktopDuplicator::Impl::read_rects(UINT total_size)
{
  moves.clear();
  dirty.clear();
  if (metadata.size() < total_size)
    metadata.resize(total_size);
  UINT move_bytes = 0, dirty_bytes = 0;
  HRESULT hr = duplication->GetFrameMoveRects(
      static_cast<UINT>(metadata.size()),
      reinterpret_cast<DXGI_OUTDUPL_MOVE_RECT *>(metadata.data()), &move_bytes);
  if (FAILED(hr))
    return hr;
  const UINT left = static_cast<UINT>(metadata.size()) - move_bytes;
  std::uint8_t *dirty_buffer = metadata.data() + move_bytes;
  hr = duplication->GetFrameDirtyRects(left, reinterpret_cast<RECT *>(dirty_buffer), &dirty_bytes);
  if (FAILED(hr))
    return hr;
  const auto *m = reinterpret_cast<const DXGI_OUTDUPL_MOVE_RECT *>(metadata.data());
  for (UINT i = 0; i < move_bytes / sizeof(DXGI_OUTDUPL_MOVE_RECT); i++) {
    const RECT &r = m[i].DestinationRect;
    moves.push_back(MoveRect{m[i].SourcePoint.x, m[i].SourcePoint.y,
                             Rect{r.left, r.top, r.right - r.left, r.bottom - r.top}});
  }
  const auto *d = reinterpret_cast<const RECT *>(dirty_buffer);
  for (UINT i = 0; i < dirty_bytes / sizeof(RECT); i++)
    dirty.push_back(Rect{d[i].left, d[i].top, d[i].right - d[i].left, d[i].bottom - d[i].top});
  return S_OK;
}

bool DesktopDuplicator::Impl::ensure_staging(int width, int height)
{
  if (staging && staging_width == width && staging_height == height)
    return true;
  staging.Reset();
  D3D11_TEXTURE2D_DESC desc = {};
  desc.Width = static_cast<UINT>(width);
  desc.Height = static_cast<UINT>(height);
  desc.MipLevels = 1;
  desc.ArraySize = 1;
  desc.Format = DXGI_FORMAT_B8G8R8A8_UNORM; /* what duplication always hands out */
  desc.SampleDesc.Count = 1;
  desc.Usage = D3D11_USAGE_STAGING;
  desc.CPUAccessFlags = D3D11_CPU_ACCESS_READ;
  const HRESULT hr = device->CreateTexture2D(&desc, nullptr, &staging);
  if (FAILED(hr)) {
    log(LogLevel::Warning, "creating a " + std::to_string(width) + "x" + std::to_string(height) +
                               " staging texture failed: " + hresult_name(hr));
    return false;
  }
  staging_width = width;
  staging_height = height;
  return true;
}

/* The desktop is as big as the image says, whatever the output's
 * coordinates said: resolves the region again on it. */
bool DesktopDuplicator::Impl::adopt_image_size(int desktop_width, int desktop_height)
{
  log(LogLevel::Info, "the desktop image of " + monitor.name + " is " +
                          std::to_string(desktop_width) + "x" + std::to_string(desktop_height) +
                          " where the output reported " + std::to_string(monitor.bounds.width) +
                          "x" + std::to_string(monitor.bounds.height) +
                          " (display scaling?): capturing the image's pixels");
  monitor.bounds.width = desktop_width;
  monitor.bounds.height = desktop_height;
  std::string error;
  if (!resolve_region(desktop_width, desktop_height, options.x, options.y, options.width,
                      options.height, area, clamped, error)) {
    log(LogLevel::Error, error);
    return false;
  }
  if (area.width != picture.width() || area.height != picture.height()) {
    picture.reset(area.width, area.height);
    size_changed = true;
  }
  place_pointer();
  return true;
}

/* Brings the picture up to date from the new desktop image: only what
 * changed unless @whole; rotated outputs are turned upright on the CPU,
 * whole. @lost: the image no longer matches the output (a mode change the
 * duplication has not reported yet). */
HRESULT DesktopDuplicator::Impl::copy_picture(ID3D11Texture2D *texture, bool whole, bool &lost)
{
  D3D11_TEXTURE2D_DESC desc;
  texture->GetDesc(&desc);
  /* The image is in the panel's orientation; the desktop is upright. */
  int desktop_width = 0, desktop_height = 0;
  rotated_image_size(rotation, static_cast<int>(desc.Width), static_cast<int>(desc.Height),
                     desktop_width, desktop_height);
  if (desktop_width != monitor.bounds.width || desktop_height != monitor.bounds.height) {
    if (!first_image || !adopt_image_size(desktop_width, desktop_height)) {
      lost = true;
      return DXGI_ERROR_ACCESS_LOST;
    }
  }
  const int image_width = static_cast<int>(desc.Width),
            image_height = static_cast<int>(desc.Height);
  if (desc.Format != DXGI_FORMAT_B8G8R8A8_UNORM) {
    log(LogLevel::Error, "unexpected desktop image format " + std::to_string(desc.Format));
    return E_UNEXPECTED;
  }
  if (image_in_system_memory) {
    const HRESULT hr = copy_from_memory(whole);
    if (hr != DXGI_ERROR_UNSUPPORTED)
      return hr;
    image_in_system_memory = false; /* then through the GPU after all */
  }

  if (rotation != Rotation::Identity) {
    if (!ensure_staging(image_width, image_height))
      return E_OUTOFMEMORY;
    context->CopyResource(staging.Get(), texture);
    D3D11_MAPPED_SUBRESOURCE mapped;
    const HRESULT hr = context->Map(staging.Get(), 0, D3D11_MAP_READ, 0, &mapped);
    if (FAILED(hr))
      return hr;
    copy_rotated(static_cast<const std::uint8_t *>(mapped.pData), static_cast<int>(mapped.RowPitch),
                 rotation, monitor.bounds.width, monitor.bounds.height, area, picture.picture(),
                 picture.stride());
    context->Unmap(staging.Get(), 0);
    picture.picture_replaced();
    return S_OK;
  }

  const std::vector<Rect> fetch = picture.begin_update(moves, dirty, area, whole);
  if (fetch.empty())
    return S_OK;
  if (!ensure_staging(area.width, area.height)) {
    picture.invalidate();
    return E_OUTOFMEMORY;
  }
  /* The GPU copies only the rectangles to fetch into the staging texture
   * (same place as in the picture); the CPU then reads just those. */
  for (const Rect &r : fetch) {
    D3D11_BOX box;
    box.left = static_cast<UINT>(area.x + r.x);
    box.top = static_cast<UINT>(area.y + r.y);
    box.right = static_cast<UINT>(area.x + r.right());
    box.bottom = static_cast<UINT>(area.y + r.bottom());
    box.front = 0;
    box.back = 1;
    context->CopySubresourceRegion(staging.Get(), 0, static_cast<UINT>(r.x), static_cast<UINT>(r.y),
                                   0, texture, 0, &box);
  }
  D3D11_MAPPED_SUBRESOURCE mapped;
  const HRESULT hr = context->Map(staging.Get(), 0, D3D11_MAP_READ, 0, &mapped);
  if (FAILED(hr)) {
    picture.invalidate();
    return hr;
  }
  picture.store(static_cast<const std::uint8_t *>(mapped.pData), static_cast<int>(mapped.RowPitch),
                fetch);
  context->Unmap(staging.Get(), 0);
  return S_OK;
}

/* The desktop image where the CPU reads it directly. */
HRESULT DesktopDuplicator::Impl::copy_from_memory(bool whole)
{
  DXGI_MAPPED_RECT mapped;
  const HRESULT hr = duplication->MapDesktopSurface(&mapped);
  if (FAILED(hr))
    return hr;
  auto unmap = on_scope_exit([this] { duplication->UnMapDesktopSurface(); });
  const std::uint8_t *bits = mapped.pBits;
  if (rotation != Rotation::Identity) {
    copy_rotated(bits, mapped.Pitch, rotation, monitor.bounds.width, monitor.bounds.height, area,
                 picture.picture(), picture.stride());
    picture.picture_replaced();
    return S_OK;
  }
  const std::vector<Rect> fetch = picture.begin_update(moves, dirty, area, whole);
  picture.store(
      bits + static_cast<std::size_t>(area.y) * mapped.Pitch + static_cast<std::size_t>(area.x) * 4,
      mapped.Pitch, fetch);
  return S_OK;
}

FrameStatus DesktopDuplicator::Impl::take_frame(const DXGI_OUTDUPL_FRAME_INFO &info,
                                                IDXGIResource *resource, bool &changed,
                                                std::string &error)
{
  /* A fresh duplication's first image is taken whole even if only the
   * pointer moved: the surface always holds the full desktop. The desktop
   * goes first: its first image may change the area the pointer is
   * placed in. */
  HRESULT hr = S_OK;
  const bool desktop_updated = info.LastPresentTime.QuadPart != 0 || first_image;
  bool lost = false;
  if (desktop_updated) {
    ComPtr<ID3D11Texture2D> texture;
    hr = resource->QueryInterface(IID_PPV_ARGS(&texture));
    bool whole = first_image || !options.use_damage;
    if (SUCCEEDED(hr) && !whole) {
      if (info.TotalMetadataBufferSize == 0) {
        whole = true; /* an update that says nothing about where: take it all */
      } else {
        hr = read_rects(info.TotalMetadataBufferSize);
      }
    }
    if (SUCCEEDED(hr))
      hr = copy_picture(texture.Get(), whole, lost);
    if (SUCCEEDED(hr)) {
      first_image = false;
      changed = true;
    }
  }
  if (SUCCEEDED(hr))
    hr = update_pointer(info, changed);
  if (SUCCEEDED(hr))
    return FrameStatus::NewFrame; /* the caller looks at @changed */
  /* A device that went away turns every error into DEVICE_REMOVED. */
  if (device && FAILED(device->GetDeviceRemovedReason()))
    hr = DXGI_ERROR_DEVICE_REMOVED;
  if (lost || classify_failure(hr, true) == Failure::Transient) {
    log(LogLevel::Info, "duplication lost (" + hresult_name(hr) + "), re-creating it");
    return FrameStatus::Unchanged; /* the caller drops the duplication */
  }
  error = "Desktop Duplication failed: " + hresult_name(hr);
  return FrameStatus::Error;
}

DesktopDuplicator::DesktopDuplicator(LogFunction log) : impl_(new Impl)
{
  impl_->log_fn = std::move(log);
}

DesktopDuplicator::~DesktopDuplicator()
{
  close();
}

bool DesktopDuplicator::list_monitors(std::vector<MonitorInfo> &monitors, std::string &error)
{
  std::vector<Output> outputs;
  const HRESULT hr = enumerate_outputs(outputs);
  monitors.clear();
  if (FAILED(hr)) {
    error = "Could not list the displays: CreateDXGIFactory1 failed with " + hresult_name(hr);
    return false;
  }
  for (const Output &o : outputs)
    monitors.push_back(o.info);
  return true;
}

bool DesktopDuplicator::open(const DuplicatorOptions &options, std::string &error)
{
  close();
  Impl &d = *impl_;
  d.options = options;
  d.device_name.clear();
  if (!d.locate_output(error))
    return false;
  d.picture.reset(d.area.width, d.area.height);
  d.pointer_visible = false;
  d.place_pointer();
  d.picture.set_pointer_shape(CursorImage());
  d.retry_at = 0;
  d.out_of_reach = false;
  const HRESULT hr = d.create_duplication();
  if (FAILED(hr)) {
    if (classify_failure(hr, false) == Failure::Fatal) {
      error = explain_duplicate_failure(hr) + " (" + d.monitor.name + ")";
      d.drop_duplication();
      return false;
    }
    /* Started on the secure desktop, say: black frames until it is back. */
    d.log(LogLevel::Warning, explain_duplicate_failure(hr) + "; waiting for it");
    d.out_of_reach = true;
    d.lost_since = GetTickCount64();
    d.retry_at = d.lost_since + kRetryIntervalMs;
    return true;
  }
  /* The first image now: it gives the true size before caps are settled
   * (and the pointer shape, which comes only once). */
  d.unsent = false;
  const FrameStatus first = d.poll(kOpenWaitMs, error);
  d.size_changed = false; /* nothing negotiated yet: the size is simply this */
  if (first == FrameStatus::Error) {
    d.drop_duplication();
    return false;
  }
  d.unsent = first == FrameStatus::NewFrame || first == FrameStatus::Resized;
  return true;
}

/* The picture's size, not the area's: they differ between a mode change
 * found and the Resized that reports it. */
int DesktopDuplicator::width() const
{
  return impl_->picture.width();
}

int DesktopDuplicator::height() const
{
  return impl_->picture.height();
}

bool DesktopDuplicator::region_clamped() const
{
  return impl_->clamped;
}

std::string DesktopDuplicator::description() const
{
  const Impl &d = *impl_;
  std::vector<MonitorInfo> one{d.monitor};
  return describe_monitors(one).substr(3) + ", capturing " + std::to_string(d.area.width) + "x" +
         std::to_string(d.area.height) + " at " + std::to_string(d.area.x) + "," +
         std::to_string(d.area.y);
}

/* Takes in desktop updates until one changes the frame or @timeout_ms is
 * over. */
FrameStatus DesktopDuplicator::Impl::poll(unsigned timeout_ms, std::string &error)
{
  const ULONGLONG deadline = GetTickCount64() + timeout_ms;
  bool changed = false;
  for (;;) {
    if (flushing)
      return FrameStatus::Interrupted;
    if (!duplication) {
      const FrameStatus status = recover(error);
      if (status != FrameStatus::Unchanged || !duplication)
        return status;
    }
    const ULONGLONG now = GetTickCount64();
    const unsigned wait =
        now >= deadline
            ? 0u
            : static_cast<unsigned>(std::min<ULONGLONG>(deadline - now, kAcquireSliceMs));
    DXGI_OUTDUPL_FRAME_INFO info;
    ComPtr<IDXGIResource> resource;
    const HRESULT hr = duplication->AcquireNextFrame(wait, &info, &resource);
    if (hr == DXGI_ERROR_WAIT_TIMEOUT) {
      if (GetTickCount64() >= deadline)
        return FrameStatus::Unchanged;
      continue;
    }
    if (FAILED(hr)) {
      if (classify_failure(hr, true) == Failure::Fatal) {
        error = "AcquireNextFrame failed: " + hresult_name(hr);
        return FrameStatus::Error;
      }
      log(LogLevel::Info, "duplication lost (" + hresult_name(hr) + "), re-creating it");
    } else {
      auto release = on_scope_exit([this] { duplication->ReleaseFrame(); });
      const FrameStatus status = take_frame(info, resource.Get(), changed, error);
      if (status == FrameStatus::Error)
        return status;
      if (status == FrameStatus::NewFrame) {
        if (size_changed) {
          /* The new picture is ready: the next call hands it out. */
          size_changed = false;
          unsent = true;
          return FrameStatus::Resized;
        }
        if (changed)
          return FrameStatus::NewFrame;
        /* Only something not drawn changed (the pointer, hidden). */
        if (GetTickCount64() >= deadline)
          return FrameStatus::Unchanged;
        continue;
      }
    }
    /* Lost: re-create at once (a mode change is usually over by now). */
    drop_duplication();
    retry_at = 0;
    lost_since = GetTickCount64();
    const FrameStatus recovered = recover(error);
    if (recovered != FrameStatus::Unchanged)
      return recovered;
    if (!duplication)
      return changed ? FrameStatus::NewFrame : FrameStatus::Unchanged;
  }
}

FrameStatus DesktopDuplicator::next_frame(unsigned timeout_ms, std::string &error)
{
  Impl &d = *impl_;
  if (d.flushing)
    return FrameStatus::Interrupted;
  if (d.unsent) {
    d.unsent = false;
    return FrameStatus::NewFrame;
  }
  return d.poll(timeout_ms, error);
}

void DesktopDuplicator::compose(std::uint8_t *dst, int stride) const
{
  impl_->picture.compose(dst, stride, impl_->options.show_cursor);
}

void DesktopDuplicator::unlock()
{
  impl_->flushing = true;
}

void DesktopDuplicator::unlock_stop()
{
  impl_->flushing = false;
}

void DesktopDuplicator::close()
{
  impl_->drop_duplication();
  impl_->adapter.Reset();
  impl_->output.Reset();
}

}  // namespace dxgi
}  // namespace livecast
