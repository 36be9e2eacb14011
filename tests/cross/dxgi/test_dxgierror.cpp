/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Which DXGI failures the duplication waits out (re-creating itself) and
 * which end capture, and how they are named. Windows only (cross-built,
 * run under Wine here).
 */
#include <dxgi1_2.h>

#include <string>

#include "check.h"
#include "dxgierror.h"

using namespace livecast::dxgi;

TEST(transitions_are_waited_out)
{
  /* Desktop switch (UAC, lock screen), mode change, lost device, remote
   * session away: re-create, never fail. */
  for (HRESULT hr : {DXGI_ERROR_ACCESS_LOST, DXGI_ERROR_DEVICE_REMOVED, DXGI_ERROR_DEVICE_RESET,
                     E_ACCESSDENIED, DXGI_ERROR_SESSION_DISCONNECTED}) {
    CHECK(classify_failure(hr, false) == Failure::Transient);
    CHECK(classify_failure(hr, true) == Failure::Transient);
  }
}

TEST(refusals_fatal_only_at_start)
{
  /* At start they mean "cannot work here"; once running, a mode that
   * duplication cannot follow or slots briefly taken come and go. */
  for (HRESULT hr : {DXGI_ERROR_UNSUPPORTED, DXGI_ERROR_NOT_CURRENTLY_AVAILABLE}) {
    CHECK(classify_failure(hr, false) == Failure::Fatal);
    CHECK(classify_failure(hr, true) == Failure::Transient);
  }
  for (HRESULT hr : {E_INVALIDARG, E_NOTIMPL, E_FAIL, DXGI_ERROR_INVALID_CALL})
    CHECK(classify_failure(hr, true) == Failure::Fatal);
}

TEST(names)
{
  CHECK_EQ(hresult_name(DXGI_ERROR_ACCESS_LOST),
           std::string("DXGI_ERROR_ACCESS_LOST (0x887A0026)"));
  CHECK_EQ(hresult_name(E_ACCESSDENIED), std::string("E_ACCESSDENIED (0x80070005)"));
  CHECK_EQ(hresult_name(static_cast<HRESULT>(0x80004005)), std::string("0x80004005"));
  CHECK(explain_duplicate_failure(DXGI_ERROR_NOT_CURRENTLY_AVAILABLE).find("four") !=
        std::string::npos);
  CHECK(explain_duplicate_failure(E_NOTIMPL).find("not available here (it needs Windows 8") !=
        std::string::npos);
}

int main(int argc, char **argv)
{
  return check::run_tests(argc, argv);
}
