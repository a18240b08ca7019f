/* Tries WASI's doors: no preopened directory, no file, no socket, no
 * environment. Outputs what each call answered. */
#include "../../../support/extism_abi.h"
#define WASI(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))
WASI(fd_prestat_get) int fd_prestat_get(int fd, int out);
WASI(path_open)
int path_open(int dirfd, int flags, int path, int path_len, int oflags, u64 rights, u64 inheriting,
              int fdflags, int out_fd);
WASI(sock_accept) int sock_accept(int fd, int flags, int out);
WASI(environ_sizes_get) int environ_sizes_get(int count, int size);
WASI(random_get) int random_get(int buffer, int length);
static char digits[64];
static int out_at;
static void put(int value) {
  if (value >= 10)
    put(value / 10);
  digits[out_at++] = (char)('0' + value % 10);
}
EXPORT(on_chat_trigger) int probe(void) {
  static int count = 7, size = 7;
  static char path[] = "/etc/passwd";
  static int fd = -1;
  static unsigned char random[16];
  int answers[5];
  answers[0] = fd_prestat_get(3, (int)&count);
  answers[1] = path_open(3, 0, (int)path, 11, 0, ~0ull, ~0ull, 0, (int)&fd);
  answers[2] = sock_accept(3, 0, (int)&fd);
  answers[3] = environ_sizes_get((int)&count, (int)&size) == 0 && count == 0 && size == 0;
  answers[4] = random_get((int)random, 16);
  digits[out_at++] = '[';
  for (int i = 0; i < 5; ++i) {
    if (i)
      digits[out_at++] = ',';
    put(answers[i]);
  }
  digits[out_at++] = ']';
  digits[out_at] = 0;
  k_output_text(digits);
  return 0;
}
