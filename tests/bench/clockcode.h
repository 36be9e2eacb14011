/* livecast benchmarks
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The wall-clock barcode of the glass-to-glass benchmark: the painter
 * (clock_painter.c) draws it in the screen's top left corner, the probed
 * sender (glass_sender.cpp) reads it from captured frames, and the page
 * (bench_glass.mjs, decodeClock) from presented ones. Keep the three alike.
 *
 * 48 cells, 12 across and 4 down, each CLOCKCODE_CELL pixels square, white
 * for 1 and black for 0, most significant bit first, row by row: 40 bits of
 * the wall clock in milliseconds (Unix time modulo 2^40, about 34 years)
 * then CRC-8 (polynomial 0x07) of those 5 bytes. Cells of 24 pixels keep
 * their colour through H.264 and VP8 at 720p; a cell whose middle is
 * neither clearly black nor clearly white, or a bad CRC (a frame grabbed
 * while the code was being redrawn, a badly blurred one), reads as nothing.
 */
#ifndef LIVECAST_CLOCKCODE_H
#define LIVECAST_CLOCKCODE_H

#include <stdint.h>

#define CLOCKCODE_CELL 24
#define CLOCKCODE_COLS 12
#define CLOCKCODE_ROWS 4
#define CLOCKCODE_BITS (CLOCKCODE_COLS * CLOCKCODE_ROWS)
#define CLOCKCODE_WIDTH (CLOCKCODE_CELL * CLOCKCODE_COLS)
#define CLOCKCODE_HEIGHT (CLOCKCODE_CELL * CLOCKCODE_ROWS)
#define CLOCKCODE_MASK ((UINT64_C(1) << 40) - 1)

static inline uint8_t clockcode_crc8(uint64_t value)
{
  uint8_t crc = 0;
  for (int byte = 4; byte >= 0; byte--) {
    crc ^= (uint8_t)(value >> (8 * byte));
    for (int i = 0; i < 8; i++)
      crc = (uint8_t)((crc & 0x80) ? (crc << 1) ^ 0x07 : crc << 1);
  }
  return crc;
}

/* The 48 bits to paint for @ms, most significant first. */
static inline uint64_t clockcode_encode(uint64_t ms)
{
  const uint64_t value = ms & CLOCKCODE_MASK;
  return (value << 8) | clockcode_crc8(value);
}

/* Reads the code from a 32-bit-per-pixel picture whose top left corner is
 * the code's (@stride bytes a row; the green byte, offset 1, is enough for
 * black and white in BGRx and RGBx alike). Returns 0 when it does not
 * read, else the clock in ms modulo 2^40. */
static inline uint64_t clockcode_read(const uint8_t *pixels, int stride)
{
  uint64_t bits = 0;
  for (int i = 0; i < CLOCKCODE_BITS; i++) {
    const int cx = (i % CLOCKCODE_COLS) * CLOCKCODE_CELL + CLOCKCODE_CELL / 2;
    const int cy = (i / CLOCKCODE_COLS) * CLOCKCODE_CELL + CLOCKCODE_CELL / 2;
    int sum = 0;
    for (int dy = -4; dy < 4; dy++) {
      for (int dx = -4; dx < 4; dx++)
        sum += pixels[(cy + dy) * stride + (cx + dx) * 4 + 1];
    }
    const int mean = sum / 64;
    if (mean > 64 && mean < 192)
      return 0;
    bits = (bits << 1) | (mean >= 192 ? 1u : 0u);
  }
  const uint64_t value = bits >> 8;
  if (clockcode_crc8(value) != (uint8_t)(bits & 0xff) || value == 0)
    return 0;
  return value;
}

#endif
