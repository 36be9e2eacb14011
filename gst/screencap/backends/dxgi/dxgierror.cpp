/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dxgierror.h"

#include <dxgi1_2.h>

#include <cstdio>

namespace livecast {
namespace dxgi {

Failure classify_failure(HRESULT hr, bool while_running)
{
  switch (hr) {
    case DXGI_ERROR_ACCESS_LOST:    /* desktop switch, mode change, full screen */
    case DXGI_ERROR_DEVICE_REMOVED: /* driver update, GPU reset or switched */
    case DXGI_ERROR_DEVICE_RESET:
    case E_ACCESSDENIED:                  /* the secure desktop: UAC, lock screen */
    case DXGI_ERROR_SESSION_DISCONNECTED: /* remote desktop session away */
    case static_cast<HRESULT>(WAIT_ABANDONED):
      return Failure::Transient;
    case DXGI_ERROR_UNSUPPORTED:             /* a mode duplication cannot follow */
    case DXGI_ERROR_NOT_CURRENTLY_AVAILABLE: /* all duplication slots taken */
      return while_running ? Failure::Transient : Failure::Fatal;
    default:
      return Failure::Fatal;
  }
}

std::string hresult_name(HRESULT hr)
{
  struct Named {
    HRESULT hr;
    const char *name;
  };
#define NAMED(code) {static_cast<HRESULT>(code), #code}
  static const Named names[] = {
      NAMED(DXGI_ERROR_ACCESS_LOST),      NAMED(DXGI_ERROR_DEVICE_REMOVED),
      NAMED(DXGI_ERROR_DEVICE_RESET),     NAMED(DXGI_ERROR_SESSION_DISCONNECTED),
      NAMED(DXGI_ERROR_UNSUPPORTED),      NAMED(DXGI_ERROR_NOT_CURRENTLY_AVAILABLE),
      NAMED(DXGI_ERROR_WAIT_TIMEOUT),     NAMED(DXGI_ERROR_INVALID_CALL),
      NAMED(DXGI_ERROR_NOT_FOUND),        NAMED(DXGI_ERROR_MORE_DATA),
      NAMED(E_ACCESSDENIED),              NAMED(E_INVALIDARG),
      NAMED(E_NOTIMPL),                   NAMED(E_OUTOFMEMORY),
      NAMED(WAIT_ABANDONED),
  };
#undef NAMED
  char code[16];
  std::snprintf(code, sizeof code, "0x%08lX", static_cast<unsigned long>(hr));
  for (const Named &n : names)
    if (n.hr == hr)
      return std::string(n.name) + " (" + code + ")";
  return code;
}

std::string explain_duplicate_failure(HRESULT hr)
{
  switch (hr) {
    case DXGI_ERROR_UNSUPPORTED:
      return "Desktop Duplication does not support this output's mode; on a laptop with two "
             "GPUs, run the application on the GPU that drives the display (Windows Settings "
             "> System > Display > Graphics)";
    case DXGI_ERROR_NOT_CURRENTLY_AVAILABLE:
      return "Too many applications are duplicating the desktop already (Windows allows four)";
    case E_NOTIMPL:
      return "Desktop Duplication is not available here (it needs Windows 8 or later)";
    case E_INVALIDARG:
      return "This process duplicates that output already, or the Direct3D device is not on "
             "the output's adapter";
    case E_ACCESSDENIED:
      return "The current desktop is out of reach (a UAC prompt or the lock screen)";
    default:
      return "IDXGIOutput1::DuplicateOutput failed: " + hresult_name(hr);
  }
}

}  // namespace dxgi
}  // namespace livecast
