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
    case DXGI_ERROR_ACCESS_LOST:         /* desktop switch, mode change, full screen */
    case DXGI_ERROR_DEVICE_REMOVED:      /* driver update, GPU reset or switched */
    case DXGI_ERROR_DEVICE_RESET:
    case E_ACCESSDENIED:                 /* the secure desktop: UAC, lock screen */
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
  const char *name = nullptr;
  switch (hr) {
    case DXGI_ERROR_ACCESS_LOST: name = "DXGI_ERROR_ACCESS_LOST"; break;
    case DXGI_ERROR_DEVICE_REMOVED: name = "DXGI_ERROR_DEVICE_REMOVED"; break;
    case DXGI_ERROR_DEVICE_RESET: name = "DXGI_ERROR_DEVICE_RESET"; break;
    case DXGI_ERROR_SESSION_DISCONNECTED: name = "DXGI_ERROR_SESSION_DISCONNECTED"; break;
    case DXGI_ERROR_UNSUPPORTED: name = "DXGI_ERROR_UNSUPPORTED"; break;
    case DXGI_ERROR_NOT_CURRENTLY_AVAILABLE: name = "DXGI_ERROR_NOT_CURRENTLY_AVAILABLE"; break;
    case DXGI_ERROR_WAIT_TIMEOUT: name = "DXGI_ERROR_WAIT_TIMEOUT"; break;
    case DXGI_ERROR_INVALID_CALL: name = "DXGI_ERROR_INVALID_CALL"; break;
    case DXGI_ERROR_NOT_FOUND: name = "DXGI_ERROR_NOT_FOUND"; break;
    case DXGI_ERROR_MORE_DATA: name = "DXGI_ERROR_MORE_DATA"; break;
    case E_ACCESSDENIED: name = "E_ACCESSDENIED"; break;
    case E_INVALIDARG: name = "E_INVALIDARG"; break;
    case E_NOTIMPL: name = "E_NOTIMPL"; break;
    case E_OUTOFMEMORY: name = "E_OUTOFMEMORY"; break;
    case static_cast<HRESULT>(WAIT_ABANDONED): name = "WAIT_ABANDONED"; break;
    default: break;
  }
  char code[16];
  std::snprintf(code, sizeof code, "0x%08lX", static_cast<unsigned long>(hr));
  return name ? std::string(name) + " (" + code + ")" : std::string(code);
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
