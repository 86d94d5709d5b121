/* qbuild board support: the one output/exit API that generated firmware uses on every board.
 * Implementations: stdout_semihosting.c (QEMU), stdout_stdio.c (host), stdout_weak.c (real boards: override
 * qbuild_write with your own driver, e.g. a UART). */
#ifndef QBUILD_BOARD_H
#define QBUILD_BOARD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes n bytes of s to the board's console (may be a no-op on boards without one). */
void qbuild_write(const char* s, size_t n);

/* Ends the program with an exit status. Under semihosting QEMU exits with it; on real boards this parks the CPU. */
void qbuild_exit(int code) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif
