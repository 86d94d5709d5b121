/* qbuild_write / qbuild_exit for real boards without a console the build knows about.
 * Both are weak: define `void qbuild_write(const char* s, size_t n)` in your firmware (e.g. a UART or RTT driver)
 * and it replaces the no-op below; the same for qbuild_exit. */
#include "qbuild_board.h"

__attribute__((weak)) void qbuild_write(const char* s, size_t n) {
    (void)s;
    (void)n;
}

__attribute__((weak)) void qbuild_exit(int code) {
    (void)code;
    for (;;) {
        __asm volatile("wfi");
    }
}
