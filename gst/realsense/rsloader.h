/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * librealsense2, loaded at run time (GModule) through its C API: a table
 * of the functions declared in stub/rs2.h. A library, once loaded, stays
 * loaded for the life of the process (librealsense2 does not survive being
 * unloaded, and frames may still be referenced).
 */
#pragma once

#include <string>

#include "stub/rs2.h"

namespace livecast::rs
{

/* Oldest librealsense2 the element is written against: the version passed
 * to rs2_create_context, which accepts it from any 2.x library of that
 * minor version or newer. */
constexpr int kOldestApiVersion = LIVECAST_RS2_API_VERSION(2, 35, 0);

/* Environment variable that names the library file, like the library-path
 * property (which wins over it). */
constexpr const char *kLibraryEnv = "LIVECAST_REALSENSE_LIBRARY";

#define LIVECAST_RS2_REQUIRED_FUNCTIONS(X)            \
  X(rs2_get_error_message)                            \
  X(rs2_get_failed_function)                          \
  X(rs2_free_error)                                   \
  X(rs2_get_api_version)                              \
  X(rs2_create_context)                               \
  X(rs2_delete_context)                               \
  X(rs2_query_devices)                                \
  X(rs2_get_device_count)                             \
  X(rs2_create_device)                                \
  X(rs2_delete_device_list)                           \
  X(rs2_delete_device)                                \
  X(rs2_supports_device_info)                         \
  X(rs2_get_device_info)                              \
  X(rs2_query_sensors)                                \
  X(rs2_get_sensors_count)                            \
  X(rs2_create_sensor)                                \
  X(rs2_delete_sensor_list)                           \
  X(rs2_delete_sensor)                                \
  X(rs2_get_depth_scale)                              \
  X(rs2_get_stream_profiles)                          \
  X(rs2_get_stream_profiles_count)                    \
  X(rs2_get_stream_profile)                           \
  X(rs2_delete_stream_profiles_list)                  \
  X(rs2_get_stream_profile_data)                      \
  X(rs2_get_video_stream_resolution)                  \
  X(rs2_create_config)                                \
  X(rs2_delete_config)                                \
  X(rs2_config_enable_stream)                         \
  X(rs2_config_enable_device)                         \
  X(rs2_config_enable_device_from_file_repeat_option) \
  X(rs2_config_resolve)                               \
  X(rs2_create_pipeline)                              \
  X(rs2_delete_pipeline)                              \
  X(rs2_pipeline_start_with_config)                   \
  X(rs2_pipeline_stop)                                \
  X(rs2_pipeline_try_wait_for_frames)                 \
  X(rs2_pipeline_profile_get_device)                  \
  X(rs2_delete_pipeline_profile)                      \
  X(rs2_playback_device_get_current_status)           \
  X(rs2_release_frame)                                \
  X(rs2_frame_add_ref)                                \
  X(rs2_embedded_frames_count)                        \
  X(rs2_extract_frame)                                \
  X(rs2_get_frame_data)                               \
  X(rs2_get_frame_width)                              \
  X(rs2_get_frame_height)                             \
  X(rs2_get_frame_stride_in_bytes)                    \
  X(rs2_get_frame_bits_per_pixel)                     \
  X(rs2_get_frame_number)                             \
  X(rs2_get_frame_timestamp)                          \
  X(rs2_get_frame_timestamp_domain)                   \
  X(rs2_get_frame_stream_profile)                     \
  X(rs2_create_align)                                 \
  X(rs2_delete_processing_block)                      \
  X(rs2_start_processing_queue)                       \
  X(rs2_process_frame)                                \
  X(rs2_create_frame_queue)                           \
  X(rs2_delete_frame_queue)                           \
  X(rs2_try_wait_for_frame)

/* Present in newer libraries only; nullptr when missing. */
#define LIVECAST_RS2_OPTIONAL_FUNCTIONS(X) X(rs2_depth_frame_get_units)

struct Api {
#define LIVECAST_RS2_MEMBER(name) decltype(&::name) name = nullptr;
  LIVECAST_RS2_REQUIRED_FUNCTIONS(LIVECAST_RS2_MEMBER)
  LIVECAST_RS2_OPTIONAL_FUNCTIONS(LIVECAST_RS2_MEMBER)
#undef LIVECAST_RS2_MEMBER

  std::string path; /* the file that was opened */
  int version = 0;  /* the library's RS2_API_VERSION */

  /* "2.50.0" */
  std::string version_string() const;
  /* The message of @error ("" if none), which it frees. */
  std::string take_error(rs2_error *error) const;
};

/* Loads librealsense2, or returns the one loaded before from the same place.
 * Search order: @path (the library-path property) if not empty, else
 * $LIVECAST_REALSENSE_LIBRARY if set, else the platform's usual names
 * (Linux: librealsense2.so, then librealsense2.so.2.<minor> from the newest
 * minor down to the oldest supported). An explicit path that fails is an
 * error; it never falls back to the search. On failure returns nullptr with
 * @error set to one sentence for the user and @detail to what was tried. */
const Api *load_library(const std::string &path, std::string &error, std::string &detail);

}  // namespace livecast::rs
