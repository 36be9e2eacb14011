/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The subset of librealsense2's C API that realsensesrc uses, written from
 * the public documentation: opaque handles, the enum values it needs (stable
 * across librealsense 2.35 to 2.57) and the prototypes. No SDK is needed to
 * build: the plugin never links against librealsense2. The prototypes only
 * give the loader (rsloader.cpp) the type of each function it looks up with
 * GModule, and the fake library in tests/fakes/ implements exactly these.
 */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/* RS2_API_VERSION = major * 10000 + minor * 100 + patch. */
#define LIVECAST_RS2_API_VERSION(major, minor, patch) ((major)*10000 + (minor)*100 + (patch))

typedef struct rs2_error rs2_error;
typedef struct rs2_context rs2_context;
typedef struct rs2_device_list rs2_device_list;
typedef struct rs2_device rs2_device;
typedef struct rs2_sensor_list rs2_sensor_list;
typedef struct rs2_sensor rs2_sensor;
typedef struct rs2_stream_profile rs2_stream_profile;
typedef struct rs2_stream_profile_list rs2_stream_profile_list;
typedef struct rs2_frame rs2_frame;
typedef struct rs2_pipeline rs2_pipeline;
typedef struct rs2_pipeline_profile rs2_pipeline_profile;
typedef struct rs2_config rs2_config;
typedef struct rs2_processing_block rs2_processing_block;
typedef struct rs2_frame_queue rs2_frame_queue;

typedef double rs2_time_t; /* milliseconds */

typedef enum rs2_stream {
  RS2_STREAM_ANY = 0,
  RS2_STREAM_DEPTH = 1,
  RS2_STREAM_COLOR = 2,
  RS2_STREAM_INFRARED = 3,
} rs2_stream;

typedef enum rs2_format {
  RS2_FORMAT_ANY = 0,
  RS2_FORMAT_Z16 = 1,
  RS2_FORMAT_YUYV = 4,
  RS2_FORMAT_RGB8 = 5,
  RS2_FORMAT_BGR8 = 6,
  RS2_FORMAT_RGBA8 = 7,
  RS2_FORMAT_BGRA8 = 8,
  RS2_FORMAT_Y8 = 9,
  RS2_FORMAT_Y16 = 10,
} rs2_format;

typedef enum rs2_camera_info {
  RS2_CAMERA_INFO_NAME = 0,
  RS2_CAMERA_INFO_SERIAL_NUMBER = 1,
} rs2_camera_info;

typedef enum rs2_timestamp_domain {
  RS2_TIMESTAMP_DOMAIN_HARDWARE_CLOCK = 0,
  RS2_TIMESTAMP_DOMAIN_SYSTEM_TIME = 1, /* host wall clock, ms since the epoch */
  RS2_TIMESTAMP_DOMAIN_GLOBAL_TIME = 2, /* camera clock mapped to the host wall clock */
} rs2_timestamp_domain;

typedef enum rs2_playback_status {
  RS2_PLAYBACK_STATUS_UNKNOWN = 0,
  RS2_PLAYBACK_STATUS_PLAYING = 1,
  RS2_PLAYBACK_STATUS_PAUSED = 2,
  RS2_PLAYBACK_STATUS_STOPPED = 3,
} rs2_playback_status;

/* Errors */
const char *rs2_get_error_message(const rs2_error *error);
const char *rs2_get_failed_function(const rs2_error *error);
void rs2_free_error(rs2_error *error);
int rs2_get_api_version(rs2_error **error);

/* Contexts */
rs2_context *rs2_create_context(int api_version, rs2_error **error);
void rs2_delete_context(rs2_context *context);
rs2_device_list *rs2_query_devices(const rs2_context *context, rs2_error **error);

/* Devices */
int rs2_get_device_count(const rs2_device_list *list, rs2_error **error);
rs2_device *rs2_create_device(const rs2_device_list *list, int index, rs2_error **error);
void rs2_delete_device_list(rs2_device_list *list);
void rs2_delete_device(rs2_device *device);
int rs2_supports_device_info(const rs2_device *device, rs2_camera_info info, rs2_error **error);
const char *rs2_get_device_info(const rs2_device *device, rs2_camera_info info, rs2_error **error);

/* Sensors */
rs2_sensor_list *rs2_query_sensors(const rs2_device *device, rs2_error **error);
int rs2_get_sensors_count(const rs2_sensor_list *list, rs2_error **error);
rs2_sensor *rs2_create_sensor(const rs2_sensor_list *list, int index, rs2_error **error);
void rs2_delete_sensor_list(rs2_sensor_list *list);
void rs2_delete_sensor(rs2_sensor *sensor);
float rs2_get_depth_scale(rs2_sensor *sensor, rs2_error **error);
rs2_stream_profile_list *rs2_get_stream_profiles(rs2_sensor *sensor, rs2_error **error);
int rs2_get_stream_profiles_count(const rs2_stream_profile_list *list, rs2_error **error);
const rs2_stream_profile *rs2_get_stream_profile(const rs2_stream_profile_list *list, int index,
                                                 rs2_error **error);
void rs2_delete_stream_profiles_list(rs2_stream_profile_list *list);
void rs2_get_stream_profile_data(const rs2_stream_profile *profile, rs2_stream *stream,
                                 rs2_format *format, int *index, int *unique_id, int *framerate,
                                 rs2_error **error);
void rs2_get_video_stream_resolution(const rs2_stream_profile *profile, int *width, int *height,
                                     rs2_error **error);

/* Pipeline configuration */
rs2_config *rs2_create_config(rs2_error **error);
void rs2_delete_config(rs2_config *config);
void rs2_config_enable_stream(rs2_config *config, rs2_stream stream, int index, int width,
                              int height, rs2_format format, int framerate, rs2_error **error);
void rs2_config_enable_device(rs2_config *config, const char *serial, rs2_error **error);
void rs2_config_enable_device_from_file_repeat_option(rs2_config *config, const char *file,
                                                      int repeat_playback, rs2_error **error);
rs2_pipeline_profile *rs2_config_resolve(rs2_config *config, rs2_pipeline *pipe, rs2_error **error);

/* Pipelines */
rs2_pipeline *rs2_create_pipeline(rs2_context *context, rs2_error **error);
void rs2_delete_pipeline(rs2_pipeline *pipe);
rs2_pipeline_profile *rs2_pipeline_start_with_config(rs2_pipeline *pipe, rs2_config *config,
                                                     rs2_error **error);
void rs2_pipeline_stop(rs2_pipeline *pipe, rs2_error **error);
int rs2_pipeline_try_wait_for_frames(rs2_pipeline *pipe, rs2_frame **output_frame,
                                     unsigned int timeout_ms, rs2_error **error);
rs2_device *rs2_pipeline_profile_get_device(rs2_pipeline_profile *profile, rs2_error **error);
void rs2_delete_pipeline_profile(rs2_pipeline_profile *profile);

/* Recording and playback */
rs2_playback_status rs2_playback_device_get_current_status(const rs2_device *device,
                                                           rs2_error **error);

/* Frames. Ownership: rs2_extract_frame returns a new reference, and
 * rs2_process_frame takes over the caller's; every reference is released
 * with rs2_release_frame. */
void rs2_release_frame(rs2_frame *frame);
void rs2_frame_add_ref(rs2_frame *frame, rs2_error **error);
int rs2_embedded_frames_count(rs2_frame *composite, rs2_error **error);
rs2_frame *rs2_extract_frame(rs2_frame *composite, int index, rs2_error **error);
const void *rs2_get_frame_data(const rs2_frame *frame, rs2_error **error);
int rs2_get_frame_width(const rs2_frame *frame, rs2_error **error);
int rs2_get_frame_height(const rs2_frame *frame, rs2_error **error);
int rs2_get_frame_stride_in_bytes(const rs2_frame *frame, rs2_error **error);
int rs2_get_frame_bits_per_pixel(const rs2_frame *frame, rs2_error **error);
unsigned long long rs2_get_frame_number(const rs2_frame *frame, rs2_error **error);
rs2_time_t rs2_get_frame_timestamp(const rs2_frame *frame, rs2_error **error);
rs2_timestamp_domain rs2_get_frame_timestamp_domain(const rs2_frame *frame, rs2_error **error);
const rs2_stream_profile *rs2_get_frame_stream_profile(const rs2_frame *frame, rs2_error **error);
/* Newer libraries only: looked up as optional. */
float rs2_depth_frame_get_units(const rs2_frame *frame, rs2_error **error);

/* Processing blocks */
rs2_processing_block *rs2_create_align(rs2_stream align_to, rs2_error **error);
void rs2_delete_processing_block(rs2_processing_block *block);
void rs2_start_processing_queue(rs2_processing_block *block, rs2_frame_queue *queue,
                                rs2_error **error);
void rs2_process_frame(rs2_processing_block *block, rs2_frame *frame, rs2_error **error);
rs2_frame_queue *rs2_create_frame_queue(int capacity, rs2_error **error);
void rs2_delete_frame_queue(rs2_frame_queue *queue);
int rs2_try_wait_for_frame(rs2_frame_queue *queue, unsigned int timeout_ms,
                           rs2_frame **output_frame, rs2_error **error);

#ifdef __cplusplus
}
#endif
