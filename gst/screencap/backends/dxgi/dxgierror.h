/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What a failed DXGI/Direct3D call means for the duplication: a transition
 * to wait out (desktop switch, mode change, lost device: re-create and carry
 * on) or the end of capture, and words for the log. Windows only.
 */
#pragma once

#include <windows.h>

#include <string>

namespace livecast {
namespace dxgi {

enum class Failure {
  Transient, /* re-create the device and the duplication, a little later */
  Fatal,     /* capture cannot work: report it */
};

/* @while_running: the duplication worked before, so refusals that only a
 * desktop in transition gives (unsupported mode, too many duplications
 * while another app restarts) are waited out too. */
Failure classify_failure(HRESULT hr, bool while_running);
/* "DXGI_ERROR_ACCESS_LOST (0x887A0026)", or the hex code for others. */
std::string hresult_name(HRESULT hr);
/* A sentence for a user about a DuplicateOutput failure. */
std::string explain_duplicate_failure(HRESULT hr);

}  // namespace dxgi
}  // namespace livecast
