/* qbuild board support: the one output/exit API that generated firmware uses on every board.
 * Implementations: stdout_semihosting.c (QEMU), stdout_stdio.c (host), stdout_weak.c (real boards: override
 * qbuild_write with your own driver, e.g. a UART). */
#ifndef QBUILD_BOARD_H
#define QBUILD_BOARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes n bytes of s to the board's console (may be a no-op on boards without one). */
void qbuild_write(const char* s, size_t n);

/* Console output on top of qbuild_write (qbuild_print.c): a NUL-terminated string, a signed decimal, and a 32-bit value
 * as 8 lower-case hex digits (how generated firmware prints float bits exactly). No printf, no heap. */
void qbuild_print(const char* s);
void qbuild_print_dec(int32_t v);
void qbuild_print_hex32(uint32_t v);

/* Ends the program with an exit status. Under semihosting QEMU exits with it; on real boards this parks the CPU. */
void qbuild_exit(int code) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif
